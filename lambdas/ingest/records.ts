import { type FieldError, ingestHeaders, type RegisteredVersion } from '../../schemas';
import type { HttpRequest } from './http';
import { headerBytes, type KafkaMessage } from './kafka/producer';

/** The error type of a record (or batch) that the broker would refuse for its size: answered with 413. */
export const MESSAGE_TOO_LARGE = 'message_too_large';

/**
 * What a message weighs against the broker's limit: UTF-8 bytes of key, value and headers, uncompressed
 * (compression can only shrink it). JavaScript string lengths count UTF-16 units, up to 3x too few.
 */
export const tooLargeForKafka = (what: string, bytes: number, max: number) =>
  `${what} is ${bytes} bytes once encoded for Kafka (UTF-8); the limit is ${max} bytes`;

export type EncodedRecord =
  | { readonly ok: true; readonly message: KafkaMessage; readonly bytes: number; readonly id: unknown }
  | { readonly ok: false; readonly errors: FieldError[] };

/**
 * The encoder of one request's records: each body judged by the contract of the version it follows and
 * encoded for Kafka, or why it cannot go there. Key = id, value = the canonical record, flat; the ingest
 * metadata goes in headers (README: Kafka messages). The records of a request share their metadata, so
 * their headers are one object, built and weighed once.
 */
export function recordEncoder(
  dataset: RegisteredVersion,
  request: HttpRequest,
  now: number,
  maxMessageBytes: number,
): (input: unknown) => EncodedRecord {
  const { definition } = dataset;
  const headers = ingestHeaders({
    dataset: definition.name,
    schema_version: definition.schemaVersion,
    ingest_time: new Date(now).toISOString(),
    request_id: request.requestId,
  });
  const metadataBytes = headerBytes(headers);
  return (input) => {
    // The contract's record holds the declared fields only, in their order: unknown fields are ignored,
    // as pydantic did, and never reach Kafka.
    const result = dataset.accept(input);
    if (!result.ok) return result;
    const id = result.record[definition.idField];
    const message = { key: String(id), value: JSON.stringify(result.record), headers };
    const bytes = Buffer.byteLength(message.key) + Buffer.byteLength(message.value) + metadataBytes;
    if (bytes > maxMessageBytes) {
      const msg = tooLargeForKafka('The record', bytes, maxMessageBytes);
      return { ok: false, errors: [{ loc: [], msg, type: MESSAGE_TOO_LARGE }] };
    }
    return { ok: true, message, bytes, id };
  };
}
