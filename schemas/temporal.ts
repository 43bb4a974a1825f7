/**
 * Date-times with microsecond precision, shared by validation (ingest, sink) and storage (sink).
 * JavaScript's Date keeps milliseconds only (and maps years 0–99 to 1900–1999), and Python producers send
 * microseconds, so we parse and compute ourselves. The grammar and the epoch rules are those of pydantic v2
 * (speedate), the replaced service's parser: see the differential test in test/lambdas/ingest/differential.test.ts.
 */

/** Date, then optionally a time (separator T, t, space or _) with optional seconds, fraction and offset. */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt _](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;
/** A Unix timestamp written as a string, e.g. "1705314600" or "1705314600.5". */
const EPOCH_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MICROS_PER_SECOND = 1_000_000n;
/** Above this absolute value a Unix timestamp counts milliseconds, not seconds (pydantic's rule). */
const EPOCH_MILLIS_WATERSHED = 2e10;
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the range of Python's datetime (and of the lake). */
const MIN_TIMESTAMP_MICROS = -62_135_596_800_000_000n;
const MAX_TIMESTAMP_MICROS = 253_402_300_799_999_999n;

// Arithmetic rather than a Date per call: this runs for every record on the ingest and sink hot paths.
function validCalendarDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 && leap ? 29 : (DAYS_IN_MONTH[m - 1] as number));
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil), for any year. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const inRange = (micros: bigint) => micros >= MIN_TIMESTAMP_MICROS && micros <= MAX_TIMESTAMP_MICROS;

interface IsoParts {
  readonly y: number;
  readonly mo: number;
  readonly d: number;
  readonly h: number;
  readonly mi: number;
  readonly s: number;
  /** Microseconds, the fraction beyond them truncated (as pydantic does). */
  readonly micros: number;
  readonly offsetSeconds: number;
}

/**
 * The parts of an ISO-8601 date-time, or undefined when it is not one. With `dateOnly`, a date alone
 * means midnight. An offset-less value means UTC.
 */
function isoParts(text: string, dateOnly: boolean): IsoParts | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac, zulu, sign, ohs, omis] = m;
  if (hs === undefined && !dateOnly) return undefined;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs ?? 0);
  const mi = Number(mis ?? 0);
  const s = Number(ss ?? 0);
  if (!validCalendarDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetSeconds = 0;
  if (!zulu && sign) {
    const oh = Number(ohs);
    const om = Number(omis);
    if (oh > 23 || om > 59) return undefined;
    offsetSeconds = (sign === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const micros = frac === undefined ? 0 : Number(frac.padEnd(6, '0').slice(0, 6));
  return { y, mo, d, h, mi, s, micros, offsetSeconds };
}

/** Microseconds since the Unix epoch (UTC); may lie outside years 1–9999. */
function partsMicros(p: IsoParts): bigint {
  const seconds = daysFromCivil(p.y, p.mo, p.d) * 86_400 + p.h * 3600 + p.mi * 60 + p.s - p.offsetSeconds;
  return BigInt(seconds) * MICROS_PER_SECOND + BigInt(p.micros);
}

function isoMicros(text: string, dateOnly: boolean): bigint | undefined {
  const parts = isoParts(text, dateOnly);
  const micros = parts && partsMicros(parts);
  return micros !== undefined && inRange(micros) ? micros : undefined;
}

/** Microseconds since the Unix epoch (UTC) of an ISO-8601 date-time, or undefined when it is not one. */
export function parseTimestampMicros(text: string): bigint | undefined {
  return isoMicros(text, false);
}

/** Microseconds since the epoch of an ISO-8601 date (midnight UTC) or date-time, or undefined. */
export function parseDateOrTimestampMicros(text: string): bigint | undefined {
  return isoMicros(text, true);
}

/**
 * A Unix timestamp in seconds, or in milliseconds above 2e10 in absolute value, as microseconds rounded
 * to the nearest one (pydantic's rule); undefined outside years 1–9999.
 */
export function epochMicros(value: number): bigint | undefined {
  if (!Number.isFinite(value)) return undefined;
  const millis = Math.abs(value) > EPOCH_MILLIS_WATERSHED;
  let micros: bigint;
  if (Number.isInteger(value)) micros = BigInt(value) * (millis ? 1000n : MICROS_PER_SECOND);
  else {
    const scaled = Math.round(value * (millis ? 1e3 : 1e6));
    if (!Number.isSafeInteger(scaled)) return undefined;
    micros = BigInt(scaled);
  }
  return inRange(micros) ? micros : undefined;
}

/** Why a value is no datetime, in pydantic's words; or its canonical text (see formatTimestampMicros). */
export type LaxDatetime = { ok: true; text: string } | { ok: false; type: string; msg: string };

const DATETIME_TYPE = { ok: false, type: 'datetime_type', msg: 'Input should be a valid datetime' } as const;
const OUT_OF_RANGE = {
  ok: false,
  type: 'datetime_parsing',
  msg: 'Input should be a valid datetime, the instant is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z',
} as const;
const NOT_A_DATETIME = {
  ok: false,
  type: 'datetime_from_date_parsing',
  msg: 'Input should be a valid datetime or date, e.g. 2024-01-15T10:30:00.123456Z',
} as const;

function fromEpoch(value: number): LaxDatetime {
  const micros = epochMicros(value);
  return micros === undefined ? OUT_OF_RANGE : { ok: true, text: formatTimestampMicros(micros) };
}

/**
 * What pydantic v2's lax `datetime` accepts from JSON, as canonical text: an ISO-8601 date or date-time
 * string (offset-less means UTC), a Unix timestamp as a number or a numeric string. Booleans and other
 * types are refused.
 */
export function laxDatetime(value: unknown): LaxDatetime {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return DATETIME_TYPE;
  if (EPOCH_TEXT.test(value)) return fromEpoch(Number(value));
  const parts = isoParts(value, true);
  if (parts === undefined) return NOT_A_DATETIME;
  // Already UTC (what Python producers send): the text is its own parts, no arithmetic on the hot path.
  if (parts.offsetSeconds === 0) {
    const { y, mo, d, h, mi, s, micros } = parts;
    return {
      ok: true,
      text: `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(micros, 6)}Z`,
    };
  }
  // A valid local time may leave years 1–9999 once moved to UTC (e.g. 9999-12-31T23:30:00-01:00).
  const micros = partsMicros(parts);
  return inRange(micros) ? { ok: true, text: formatTimestampMicros(micros) } : OUT_OF_RANGE;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The canonical text of an instant: ISO-8601 UTC with microseconds, e.g. 2024-01-15T10:30:00.123456Z. */
export function formatTimestampMicros(micros: bigint): string {
  let seconds = micros / MICROS_PER_SECOND;
  let fraction = micros % MICROS_PER_SECOND;
  if (fraction < 0n) {
    seconds -= 1n;
    fraction += MICROS_PER_SECOND;
  }
  // Date formats the calendar part exactly for years 1–9999 when built from a time value (not Date.UTC).
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, 19)}.${pad(Number(fraction), 6)}Z`;
}

/** The UTC calendar date (YYYY-MM-DD) and hour (HH) of an epoch-microseconds instant: the lake partition. */
export function utcDateAndHour(micros: bigint): { date: string; hour: string } {
  const iso = formatTimestampMicros(micros);
  return { date: iso.slice(0, 10), hour: iso.slice(11, 13) };
}
