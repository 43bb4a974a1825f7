/**
 * The API's contract: what the replaced FastAPI service's pydantic v2 models accepted in lax mode is
 * accepted, and turned into the ONE canonical record that goes to Kafka (numbers as JSON numbers, date-times
 * as ISO-8601 UTC with microseconds, absent optional fields as null, unknown fields dropped). What they
 * rejected is rejected, with pydantic's error types. The few deliberate exceptions (non-finite numbers,
 * strings that are not well-formed Unicode, instants outside years 1–9999 in UTC) are listed in the README.
 * Stricter rules (ISO-4217, non-negative amounts, non-empty ids, known values) are data quality, judged in
 * the curated zone (see `x-quality` in the generated JSON schema), never here.
 */
import { laxDatetime } from '../temporal';
import type { DatasetDefinition, FieldKind } from '../types';
import type { FieldError, RecordValidator } from '../validation';

type Coerced = { ok: true; value: unknown } | { ok: false; type: string; msg: string };

const fail = (type: string, msg: string): Coerced => ({ ok: false, type, msg });

/** Unicode White_Space, which pydantic strips around a numeric string (JavaScript's trim also strips U+FEFF). */
const WHITE_SPACE =
  '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const SURROUNDING_WHITE_SPACE = new RegExp(`^${WHITE_SPACE}+|${WHITE_SPACE}+$`, 'g');
/** Rust's float grammar, which pydantic uses once single underscores between characters are removed. */
const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** In Unicode mode a surrogate pair is one code point, so only a lone surrogate is category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;
const NON_FINITE_TEXT = /^[+-]?(?:inf|infinity|nan)$/i;

const STRING_TYPE = fail('string_type', 'Input should be a valid string');
const STRING_UNICODE = fail(
  'string_unicode',
  'Input should be a valid string, unable to parse raw data as a unicode string',
);
const FLOAT_TYPE = fail('float_type', 'Input should be a valid number');
const FLOAT_PARSING = fail(
  'float_parsing',
  'Input should be a valid number, unable to parse string as a number',
);
const FINITE_NUMBER = fail('finite_number', 'Input should be a finite number');

function laxString(value: unknown): Coerced {
  return typeof value === 'string' ? { ok: true, value } : STRING_TYPE;
}

function finite(n: number): Coerced {
  // JSON cannot carry NaN or Infinity, and the curated zone stores a DECIMAL.
  return Number.isFinite(n) ? { ok: true, value: n } : FINITE_NUMBER;
}

/** pydantic's lax float: numbers, booleans (as 1 and 0) and numeric strings. */
function laxFloat(value: unknown): Coerced {
  if (typeof value === 'number') return finite(value);
  if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
  if (typeof value !== 'string') return FLOAT_TYPE;
  const text = value.replace(SURROUNDING_WHITE_SPACE, '');
  if (text.startsWith('_') || text.endsWith('_') || text.includes('__')) return FLOAT_PARSING;
  const plain = text.replace(/_/g, '');
  if (FLOAT_TEXT.test(plain)) return finite(Number(plain));
  return NON_FINITE_TEXT.test(plain) ? FINITE_NUMBER : FLOAT_PARSING;
}

function datetime(value: unknown): Coerced {
  const parsed = laxDatetime(value);
  return parsed.ok ? { ok: true, value: parsed.text } : parsed;
}

function jsonObject(value: unknown): Coerced {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? { ok: true, value }
    : fail('dict_type', 'Input should be a valid dictionary');
}

const COERCE: Record<FieldKind, (value: unknown) => Coerced> = {
  string: laxString,
  currency: laxString,
  timestamp: datetime,
  date_or_timestamp: datetime,
  number: laxFloat,
  money: laxFloat,
  json: jsonObject,
};

const NOT_AN_OBJECT: FieldError = {
  loc: [],
  msg: 'Input should be a valid dictionary or object to extract fields from',
  type: 'model_attributes_type',
};

/** The contract of one dataset: a validator that returns the canonical record, or one error per field. */
export function contractValidator(definition: DatasetDefinition): RecordValidator {
  const fields = Object.entries(definition.fields).map(([name, spec]) => ({
    name,
    required: spec.required,
    coerce: COERCE[spec.kind],
  }));
  return (input) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      return { ok: false, errors: [NOT_AN_OBJECT] };
    const body = input as Record<string, unknown>;
    const record: Record<string, unknown> = {};
    const errors: FieldError[] = [];
    for (const { name, required, coerce } of fields) {
      const value = Object.hasOwn(body, name) ? body[name] : undefined;
      if (value === undefined) {
        if (required) errors.push({ loc: [name], msg: 'Field required', type: 'missing' });
        else record[name] = null;
        continue;
      }
      if (value === null && !required) {
        record[name] = null;
        continue;
      }
      // pydantic refuses a lone surrogate in any non-string field; we refuse it in strings too, as it
      // would become U+FFFD in UTF-8 and two different ids could collapse into one key.
      const result = typeof value === 'string' && LONE_SURROGATE.test(value) ? STRING_UNICODE : coerce(value);
      if (result.ok) record[name] = result.value;
      else errors.push({ loc: [name], msg: result.msg, type: result.type });
    }
    return errors.length === 0 ? { ok: true, record } : { ok: false, errors };
  };
}
