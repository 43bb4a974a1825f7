import { QUARANTINE_SINK_PREFIX } from '../../lib/config/lake';
import { RAW_PARTITION_COLUMNS } from '../../schemas';

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

/**
 * The hour partition value of a batch's late file. A batch writes at most `maxHourFiles` hour files per
 * topic-partition: the first distinct event hours in offset order. The records of any further hour (late
 * or far-spread ones) go together into one file in `event_date=<UTC date of the first such record's KAFKA
 * timestamp>/event_hour=late/`: its rows carry their own event times, and the date is the arrival date so
 * that a reader looking back a few days by partition date still finds late data. Deciding in offset order
 * makes the choice depend only on the records before it, so a retry from the same offset, however long,
 * writes every record to the same file name again.
 */
export const LATE_HOUR = 'late';

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
