import { RAW_PARTITION_COLUMNS } from '../../schemas';
import { QUARANTINE_SINK_PREFIX } from '../shared/lake-layout';

export { LATE_HOUR } from '../../schemas';

/**
 * Object keys of the sink. A file is named after the Kafka topic, partition and FIRST offset of its rows
 * (`<topic>+<partition>+<offset>`, the Kafka Connect S3 sink convention), zero-padded so names sort by
 * offset. Every invocation starts at the partition's committed offset, so a retry — even one the event
 * source mapping cuts into different batches — rewrites the same names and overwrites instead of
 * duplicating. The last offset is deliberately NOT in the name: a retried batch ending elsewhere would then
 * leave the earlier file behind beside the new one. It is in the object metadata instead.
 */
const OFFSET_DIGITS = 19; // Kafka offsets are signed 64-bit: at most 19 digits

export interface FileCoordinates {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: bigint;
}

function fileName({ topic, partition, firstOffset }: FileCoordinates, extension: string): string {
  return `${topic}+${partition}+${firstOffset.toString().padStart(OFFSET_DIGITS, '0')}.${extension}`;
}

/** `<dataset>/event_date=YYYY-MM-DD/event_hour=HH|late/` — the Hive partition a raw file lives in. */
export function rawPartitionPrefix(dataset: string, date: string, hour: string): string {
  const [dateColumn, hourColumn] = RAW_PARTITION_COLUMNS;
  return `${dataset}/${dateColumn}=${date}/${hourColumn}=${hour}/`;
}

export function rawObjectKey(dataset: string, date: string, hour: string, file: FileCoordinates): string {
  return `${rawPartitionPrefix(dataset, date, hour)}${fileName(file, 'parquet')}`;
}

/** Records whose topic names no dataset are quarantined under this name. */
export const UNKNOWN_DATASET = 'unknown';

/** `sink/<dataset|unknown>/kafka_date=YYYY-MM-DD/<topic>+<partition>+<offset>.jsonl` (Kafka record date). */
export function quarantineObjectKey(dataset: string, kafkaDate: string, file: FileCoordinates): string {
  return `${QUARANTINE_SINK_PREFIX}/${dataset}/kafka_date=${kafkaDate}/${fileName(file, 'jsonl')}`;
}
