import type { DatasetDefinition } from './types';

/**
 * A record's Kafka message (README.md#consuming-the-raw-topics-fan-out-and-replay): key = the record id, value = the canonical record as flat JSON (what
 * consumers read, e.g. `JSON.parse(value).transaction_id`), ingest metadata in headers so that consumers
 * can route and audit without parsing the value.
 */
export interface IngestMetadata {
  readonly dataset: string;
  readonly schema_version: number;
  /** ISO-8601 UTC instant at which the API accepted the record. */
  readonly ingest_time: string;
  /** The API Gateway request id of the request that carried the record. */
  readonly request_id: string;
}

/** Names of the ingest headers; values are UTF-8 text. */
export const INGEST_HEADERS = {
  ingestTime: 'ingest-time',
  requestId: 'request-id',
  schemaVersion: 'schema-version',
  contentType: 'content-type',
  dataset: 'dataset',
} as const;

export const RECORD_CONTENT_TYPE = 'application/json';

export function ingestHeaders(metadata: IngestMetadata): Record<string, string> {
  return {
    [INGEST_HEADERS.ingestTime]: metadata.ingest_time,
    [INGEST_HEADERS.requestId]: metadata.request_id,
    [INGEST_HEADERS.schemaVersion]: String(metadata.schema_version),
    [INGEST_HEADERS.contentType]: RECORD_CONTENT_TYPE,
    [INGEST_HEADERS.dataset]: metadata.dataset,
  };
}

/** Topic of a dataset's raw records (README.md#consuming-the-raw-topics-fan-out-and-replay: one per dataset, `raw_<dataset>`). */
export function topicOf(dataset: Pick<DatasetDefinition, 'name'>): string {
  return `raw_${dataset.name}`;
}
