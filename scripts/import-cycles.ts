/**
 * npm run imports — the TypeScript tree's import graph, type-only imports included: its circles (files
 * that import each other, directly or around a loop) and its back-arrows (a folder importing one that sits
 * above it in LAYERS). Prints both and exits with status 1 when there is either. `-- --root DIR` reads
 * another checkout.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseSync } from '@swc/core';

/**
 * Top-level folders from the bottom up: each may import those before it, never those after. The data
 * contracts are the base; handlers know only them; the CDK app (lib/) and the local platform build on
 * both; the tools, benchmarks and tests use everything.
 */
export const LAYERS = ['schemas', 'lambdas', 'lib', 'localstack', 'scripts', 'bench', 'bin', 'test'] as const;

/** file → the files it imports, paths relative to the root, for every .ts file under LAYERS. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

export function importGraph(root: string): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const layer of LAYERS) {
    for (const file of tsFiles(join(root, layer))) {
      const targets = specifiers(readFileSync(file, 'utf8'))
        .map((spec) => resolveImport(file, spec))
        .filter((target): target is string => target !== undefined);
      graph.set(relative(root, file), [...new Set(targets.map((t) => relative(root, t)))]);
    }
  }
  return graph;
}

/** The circles: groups of two or more files that reach each other (Tarjan's strongly connected components). */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file) as number);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file) as number, index.get(next) as number));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)?.includes(file)) cycles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return cycles.sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

export interface BackArrow {
  readonly from: string;
  readonly to: string;
}

/** Imports from a folder into one above it in LAYERS. */
export function backArrows(graph: ImportGraph): BackArrow[] {
  const rank = (file: string) => LAYERS.indexOf(file.split('/')[0] as (typeof LAYERS)[number]);
  return [...graph].flatMap(([from, targets]) =>
    targets.filter((to) => rank(to) > rank(from)).map((to) => ({ from, to })),
  );
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative module specifiers of import and export declarations, `import x = require()` and `import()`. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const n = node as Record<string, unknown> & { type?: string };
    const literal = (value: unknown) => (value as { value?: unknown } | undefined)?.value;
    if (
      n.type === 'ImportDeclaration' ||
      n.type === 'ExportAllDeclaration' ||
      (n.type === 'ExportNamedDeclaration' && n.source)
    ) {
      found.push(literal(n.source) as string);
    } else if (n.type === 'TsExternalModuleReference') {
      found.push(literal(n.expression) as string);
    } else if (n.type === 'CallExpression' && (n.callee as { type?: string }).type === 'Import') {
      const [first] = n.arguments as { expression?: { type?: string; value?: unknown } }[];
      if (first?.expression?.type === 'StringLiteral') found.push(first.expression.value as string);
    }
    for (const value of Object.values(n)) if (typeof value === 'object') walk(value);
  };
  walk(parseSync(source, { syntax: 'typescript', tsx: false }).body);
  return found.filter((spec) => spec.startsWith('.'));
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  return [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find(
    (candidate) => /\.tsx?$/.test(candidate) && existsSync(candidate) && statSync(candidate).isFile(),
  );
}

function main(): number {
  const { values } = parseArgs({ options: { root: { type: 'string', default: join(__dirname, '..') } } });
  const graph = importGraph(resolve(values.root));
  const cycles = importCycles(graph);
  const arrows = backArrows(graph);
  const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0);
  console.log(
    `${graph.size} files, ${edges} imports: ${cycles.length} circles, ${arrows.length} back-arrows`,
  );
  for (const cycle of cycles) console.log(`circle (${cycle.length} files): ${cycle.join(' ')}`);
  for (const { from, to } of arrows) console.log(`back-arrow: ${from} -> ${to}`);
  return cycles.length + arrows.length === 0 ? 0 : 1;
}

if (require.main === module) process.exit(main());
