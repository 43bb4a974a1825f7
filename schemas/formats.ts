import { DATE_OR_TIMESTAMP_FORMAT, TIMESTAMP_FORMAT } from './json-schema';
import { parseDateOrTimestampMicros, parseTimestampMicros } from './temporal';

/**
 * The custom string formats of the dataset schemas. Referenced by name from the precompiled validators
 * (schemas/generated/validators.js) and registered with Ajv when compiling at build time.
 */
export const FORMATS: Record<string, (value: string) => boolean> = {
  [TIMESTAMP_FORMAT]: (s) => parseTimestampMicros(s) !== undefined,
  [DATE_OR_TIMESTAMP_FORMAT]: (s) => parseDateOrTimestampMicros(s) !== undefined,
};
