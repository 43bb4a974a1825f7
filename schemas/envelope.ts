import type { DatasetDefinition } from './types';

/**
 * The Kafka message value: the validated record plus ingest metadata. The key is the record id; the
 * headers repeat the schema version and content type so consumers can route without parsing the body.
 */
export interface IngestMetadata {
  readonly dataset: string;
  readonly schema_version: number;
  /** ISO-8601 UTC instant at which the API accepted the record. */
  readonly ingest_time: string;
  /** The API Gateway request id of the request that carried the record. */
  readonly request_id: string;
}

export interface Envelope<T = Record<string, unknown>> {
  readonly data: T;
  readonly metadata: IngestMetadata;
}

export const HEADER_SCHEMA_VERSION = 'schema-version';
export const HEADER_CONTENT_TYPE = 'content-type';
export const HEADER_DATASET = 'dataset';
export const ENVELOPE_CONTENT_TYPE = 'application/json';

/** Topic of a dataset's raw records (SPEC §5: one per dataset, `raw_<dataset>`). */
export function topicOf(dataset: Pick<DatasetDefinition, 'name'>): string {
  return `raw_${dataset.name}`;
}
