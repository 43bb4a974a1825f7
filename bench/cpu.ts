import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ, 100 on every Linux the project runs on. */
const TICKS = 100;

/** utime + stime of a process and the children it has waited for (fields 14–17 of /proc/<pid>/stat), and its parent. */
function stat(pid: number): { ppid: number; own: number } | undefined {
  try {
    // Fields after the parenthesised command: ppid is the 2nd, utime and stime the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return { ppid: Number(fields[1]), own: (Number(fields[11]) + Number(fields[12])) / TICKS };
  } catch {
    return undefined; // gone (restarted): no figure for it
  }
}

/** CPU seconds (user + system) each named process has used so far, from /proc (Linux). */
export function cpuSeconds(processes: readonly { name: string; pid?: number }[]): Map<string, number> {
  const used = new Map<string, number>();
  for (const { name, pid } of processes) {
    const s = pid === undefined ? undefined : stat(pid);
    if (s) used.set(name, s.own);
  }
  return used;
}

/** CPU seconds a process and all its living descendants have used so far (a Spark driver and its JVM). */
export function treeCpuSeconds(root: number): number {
  const stats = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => [Number(d), stat(Number(d))] as const);
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const own = new Map(stats.map(([pid, s]) => [pid, s?.own ?? 0]));
  let total = 0;
  const visit = (pid: number) => {
    total += own.get(pid) ?? 0;
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return total;
}
