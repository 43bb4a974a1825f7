import { type FieldError, ingestHeaders, type RegisteredVersion } from '../../schemas';
import type { HttpRequest } from './http';
import { type KafkaMessage, messageBytes } from './kafka/producer';

/** The error type of a record (or batch) that the broker would refuse for its size: answered with 413. */
export const MESSAGE_TOO_LARGE = 'message_too_large';

/**
 * What a message weighs against the broker's limit: UTF-8 bytes of key, value and headers, uncompressed
 * (compression can only shrink it). JavaScript string lengths count UTF-16 units, up to 3x too few.
 */
export const tooLargeForKafka = (what: string, bytes: number, max: number) =>
  `${what} is ${bytes} bytes once encoded for Kafka (UTF-8); the limit is ${max} bytes`;

/** Keeps declared fields only: unknown fields are ignored, as pydantic did, and never reach Kafka. */
function declaredFields(
  dataset: RegisteredVersion,
  record: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(dataset.definition.fields)) if (name in record) out[name] = record[name];
  return out;
}

/** Key = id, value = the canonical record, flat; the ingest metadata goes in headers (README: Kafka messages). */
function message(
  dataset: RegisteredVersion,
  record: Record<string, unknown>,
  request: HttpRequest,
  now: number,
): KafkaMessage {
  const { definition } = dataset;
  return {
    key: String(record[definition.idField]),
    value: JSON.stringify(declaredFields(dataset, record)),
    headers: ingestHeaders({
      dataset: definition.name,
      schema_version: definition.schemaVersion,
      ingest_time: new Date(now).toISOString(),
      request_id: request.requestId,
    }),
  };
}

export type EncodedRecord =
  | { readonly ok: true; readonly message: KafkaMessage; readonly bytes: number; readonly id: unknown }
  | { readonly ok: false; readonly errors: FieldError[] };

/** A body judged by the contract of the version it follows and encoded for Kafka, or why it cannot go there. */
export function encodeRecord(
  dataset: RegisteredVersion,
  input: unknown,
  request: HttpRequest,
  now: number,
  maxMessageBytes: number,
): EncodedRecord {
  const result = dataset.accept(input);
  if (!result.ok) return result;
  const encoded = message(dataset, result.record, request, now);
  const bytes = messageBytes(encoded);
  if (bytes > maxMessageBytes) {
    const msg = tooLargeForKafka('The record', bytes, maxMessageBytes);
    return { ok: false, errors: [{ loc: [], msg, type: MESSAGE_TOO_LARGE }] };
  }
  return { ok: true, message: encoded, bytes, id: result.record[dataset.definition.idField] };
}
