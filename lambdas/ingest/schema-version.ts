import {
  type FieldError,
  type RegisteredDataset,
  type RegisteredVersion,
  SCHEMA_VERSION_HEADER,
} from '../../schemas';

/** The version a request's records are judged by, or the 422 entry that says which versions exist. */
export function requestedVersion(
  dataset: RegisteredDataset,
  headers: Readonly<Record<string, string | undefined>>,
): { ok: true; version: RegisteredVersion } | { ok: false; error: FieldError } {
  const text = headers[SCHEMA_VERSION_HEADER];
  if (text === undefined) return { ok: true, version: dataset };
  const version = /^\s*\d{1,9}\s*$/.test(text) ? dataset.version(Number(text)) : undefined;
  if (version) return { ok: true, version };
  const known = dataset.versions.map((v) => v.definition.schemaVersion).join(', ');
  return {
    ok: false,
    error: {
      loc: ['header', SCHEMA_VERSION_HEADER],
      msg: `Input should be a schema version of ${dataset.definition.name}: ${known}`,
      type: 'literal_error',
      ctx: { expected: known },
    },
  };
}
