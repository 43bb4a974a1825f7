/**
 * ISO-8601 parsing with microsecond precision, shared by validation (ingest, sink) and storage (sink).
 * JavaScript's Date keeps milliseconds only, and Python producers send microseconds, so we parse ourselves.
 */

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// Arithmetic rather than a Date per call: this runs for every record on the ingest and sink hot paths.
function validCalendarDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 && leap ? 29 : (DAYS_IN_MONTH[m - 1] as number));
}

/** Microseconds since the Unix epoch (UTC) of an ISO-8601 date-time, or undefined when it is not one. */
export function parseTimestampMicros(text: string): bigint | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac, zulu, sign, ohs, omis] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = ss === undefined ? 0 : Number(ss);
  if (!validCalendarDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMinutes = 0;
  if (!zulu && sign) {
    const oh = Number(ohs);
    const om = Number(omis);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const micros = frac === undefined ? 0 : Number(frac.padEnd(6, '0').slice(0, 6));
  const epochMillis = Date.UTC(y, mo - 1, d, h, mi, s) - offsetMinutes * 60_000;
  return BigInt(epochMillis) * 1000n + BigInt(micros);
}

/** Microseconds since the epoch of an ISO-8601 date (midnight UTC) or date-time, or undefined. */
export function parseDateOrTimestampMicros(text: string): bigint | undefined {
  const m = DATE_ONLY.exec(text);
  if (!m) return parseTimestampMicros(text);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (!validCalendarDate(y, mo, d)) return undefined;
  return BigInt(Date.UTC(y, mo - 1, d)) * 1000n;
}

/** The UTC calendar date (YYYY-MM-DD) and hour (HH) of an epoch-microseconds instant: the lake partition. */
export function utcDateAndHour(micros: bigint): { date: string; hour: string } {
  const iso = new Date(Number(micros / 1000n)).toISOString();
  return { date: iso.slice(0, 10), hour: iso.slice(11, 13) };
}
