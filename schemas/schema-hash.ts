import { createHash } from 'node:crypto';
import { recordJsonSchema } from './json-schema';
import type { DatasetDefinition } from './types';

/** Fingerprint of a dataset's schema: the registry refuses a precompiled validator whose schema changed. */
export function schemaHash(dataset: DatasetDefinition): string {
  return createHash('sha256')
    .update(JSON.stringify(recordJsonSchema(dataset)))
    .digest('hex')
    .slice(0, 16);
}
