import type { ErrorObject } from 'ajv';
import { DATE_OR_TIMESTAMP_FORMAT } from './json-schema';

/** One problem with one field, in the shape of the API's 422 `detail` entries (minus the "body" prefix). */
export interface FieldError {
  /** Path to the field inside the record; empty for the record itself. */
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly type: string;
  /** Details pydantic puts beside the message, e.g. the parser's reason of a `json_invalid`. */
  readonly ctx?: Readonly<Record<string, unknown>>;
}

export type ValidationResult<T> = { ok: true; record: T } | { ok: false; errors: FieldError[] };

export type RecordValidator<T = Record<string, unknown>> = (input: unknown) => ValidationResult<T>;

/** A compiled Ajv validate function (precompiled into schemas/generated, or compiled by ./ajv-compile). */
export interface CompiledValidate {
  (input: unknown): boolean;
  errors?: ErrorObject[] | null;
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
    case 'format':
      return (e.params as { format: string }).format === DATE_OR_TIMESTAMP_FORMAT
        ? { loc, msg: 'Input should be a valid ISO-8601 date or date-time', type: 'date_parsing' }
        : { loc, msg: 'Input should be a valid ISO-8601 date-time', type: 'datetime_parsing' };
    default:
      return { loc, msg: e.message ?? 'Invalid value', type: e.keyword };
  }
}

/** Turns an Ajv validate function into a validator that returns the record or one error per field. */
export function recordValidator<T = Record<string, unknown>>(validate: CompiledValidate): RecordValidator<T> {
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
