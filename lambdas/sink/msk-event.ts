import type { MSKEvent, MSKRecord } from 'aws-lambda';

/** A consumed Kafka message, in the shape both kafkajs and @platformatic/kafka can be mapped to cheaply. */
export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number | bigint | string;
  /** Epoch milliseconds. */
  readonly timestamp: number | bigint | string;
  readonly key?: Uint8Array | string | null;
  readonly value: Uint8Array | string | null;
  /** Header values as bytes or text; an array value means the header is repeated. */
  readonly headers?: Readonly<
    Record<string, Uint8Array | string | readonly (Uint8Array | string)[] | undefined>
  >;
}

/** A view of the bytes, not a copy (Buffer.from(Uint8Array) would copy them). */
const bytes = (v: Uint8Array | string): Buffer =>
  typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * Builds the event the MSK event source mapping hands to Lambda: records grouped under `<topic>-<partition>`
 * in offset order, key and value base64, header values as byte arrays. The local event source mapping and
 * the tests use it, so the handler sees locally exactly what it sees on AWS.
 */
export function mskEvent(
  messages: readonly ConsumedMessage[],
  source: { eventSourceArn?: string; bootstrapServers: string },
): MSKEvent {
  const records: Record<string, MSKRecord[]> = {};
  // The records of one request share most header values: each distinct value becomes a byte array once,
  // shared by the records that carry it (the handler only reads them).
  const arrays = new Map<string, number[]>();
  const byteArray = (v: Uint8Array | string): number[] => {
    const b = bytes(v);
    const text = b.toString('latin1');
    let array = arrays.get(text);
    if (!array) {
      array = Array.from(b);
      arrays.set(text, array);
    }
    return array;
  };
  for (const m of messages) {
    const headers: Record<string, number[]>[] = [];
    for (const name in m.headers) {
      const value = m.headers[name];
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) headers.push({ [name]: byteArray(v) });
      else headers.push({ [name]: byteArray(value as Uint8Array | string) });
    }
    const record = {
      topic: m.topic,
      partition: m.partition,
      offset: Number(m.offset),
      timestamp: Number(m.timestamp),
      timestampType: 'CREATE_TIME',
      // A null key or value (tombstone) is null in the event, as the mapping delivers it.
      key: m.key == null ? null : bytes(m.key).toString('base64'),
      value: m.value === null ? null : bytes(m.value).toString('base64'),
      headers,
    } as unknown as MSKRecord;
    const group = `${m.topic}-${m.partition}`;
    const list = records[group] ?? [];
    list.push(record);
    records[group] = list;
  }
  for (const list of Object.values(records)) list.sort((a, b) => a.offset - b.offset);
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: source.eventSourceArn ?? 'arn:aws:kafka:local:000000000000:cluster/local/local',
    bootstrapServers: source.bootstrapServers,
    records,
  };
}
