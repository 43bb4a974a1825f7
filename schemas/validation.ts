import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv from 'ajv/dist/2020';
import {
  DATE_OR_TIMESTAMP_FORMAT,
  KIND_KEYWORD,
  KNOWN_VALUES_KEYWORD,
  recordJsonSchema,
  TIMESTAMP_FORMAT,
} from './json-schema';
import { parseDateOrTimestampMicros, parseTimestampMicros } from './temporal';
import type { DatasetDefinition } from './types';

/** One problem with one field, in the shape of the API's 422 `detail` entries (minus the "body" prefix). */
export interface FieldError {
  /** Path to the field inside the record; empty for the record itself. */
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly type: string;
}

export type ValidationResult<T> = { ok: true; record: T } | { ok: false; errors: FieldError[] };

export type RecordValidator<T = Record<string, unknown>> = (input: unknown) => ValidationResult<T>;

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strictNumbers: true, strict: true });
  ajv.addVocabulary([
    KIND_KEYWORD,
    KNOWN_VALUES_KEYWORD,
    'x-dataset',
    'x-id-field',
    'x-event-time-field',
    'x-schema-version',
  ]);
  ajv.addFormat(TIMESTAMP_FORMAT, {
    type: 'string',
    validate: (s: string) => parseTimestampMicros(s) !== undefined,
  });
  ajv.addFormat(DATE_OR_TIMESTAMP_FORMAT, {
    type: 'string',
    validate: (s: string) => parseDateOrTimestampMicros(s) !== undefined,
  });
  return ajv;
}

const TYPE_MESSAGES: Record<string, { msg: string; type: string }> = {
  string: { msg: 'Input should be a valid string', type: 'string_type' },
  number: { msg: 'Input should be a valid finite number', type: 'finite_number' },
  object: { msg: 'Input should be a valid object', type: 'dict_type' },
};

function toFieldError(e: ErrorObject): FieldError {
  const loc = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  switch (e.keyword) {
    case 'required':
      return {
        loc: [...loc, (e.params as { missingProperty: string }).missingProperty],
        msg: 'Field required',
        type: 'missing',
      };
    case 'type': {
      const expected = String((e.params as { type: string | string[] }).type).split(',')[0] ?? 'value';
      return {
        loc,
        ...(TYPE_MESSAGES[expected] ?? { msg: `Input should be of type ${expected}`, type: 'type_error' }),
      };
    }
    case 'minLength':
      return {
        loc,
        msg: `String should have at least ${(e.params as { limit: number }).limit} character(s)`,
        type: 'string_too_short',
      };
    case 'minimum':
      return {
        loc,
        msg: `Input should be greater than or equal to ${(e.params as { limit: number }).limit}`,
        type: 'greater_than_equal',
      };
    case 'pattern':
      return {
        loc,
        msg: 'Input should be an ISO-4217 currency code of three letters, e.g. USD',
        type: 'currency_code',
      };
    case 'format':
      return (e.params as { format: string }).format === DATE_OR_TIMESTAMP_FORMAT
        ? { loc, msg: 'Input should be a valid ISO-8601 date or date-time', type: 'date_parsing' }
        : { loc, msg: 'Input should be a valid ISO-8601 date-time', type: 'datetime_parsing' };
    default:
      return { loc, msg: e.message ?? 'Invalid value', type: e.keyword };
  }
}

/** Compiles the validator of one dataset (a few milliseconds: do it once, at cold start). */
export function compileValidator<T = Record<string, unknown>>(
  dataset: DatasetDefinition,
  ajv: Ajv = newAjv(),
): RecordValidator<T> {
  const validate: ValidateFunction = ajv.compile(recordJsonSchema(dataset));
  return (input: unknown) => {
    if (validate(input)) return { ok: true, record: input as T };
    // Ajv reports `type` and `required` errors for a null root twice over; one entry per field is enough.
    const seen = new Set<string>();
    const errors: FieldError[] = [];
    for (const e of validate.errors ?? []) {
      const fe = toFieldError(e);
      const key = fe.loc.join('/');
      if (!seen.has(key)) {
        seen.add(key);
        errors.push(fe);
      }
    }
    return { ok: false, errors };
  };
}

export { newAjv };
