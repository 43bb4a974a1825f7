import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { QUARANTINE_SINK_PREFIX } from '../../lib/config/lake';
import { pythonIsoFormat, RecordFactory } from '../../localstack/tools/generator/records';
import type { DatasetDefinition } from '../../schemas';
import { batchRouteOf, WELCOME_MESSAGE } from '../../schemas/api/openapi';

/**
 * The post-deploy smoke test, against any running platform (a deployed environment or the local one):
 * posts tagged valid and invalid records through the API (batch and single routes), waits until every
 * accepted record is in raw Parquet, measures accept → raw as the client sees it, checks that no rejected
 * record and no record of the run reached the lake elsewhere (raw, sink quarantine), then deletes the raw
 * objects that hold only its own records. Objects shared with other producers' records are left alone.
 */

export interface SmokeTarget {
  /** Base URL of the API stage, without a trailing slash. */
  readonly apiUrl: string;
  /** The smoke producer's API key (none locally). */
  readonly apiKey?: string;
  readonly s3: S3Client;
  readonly rawBucket: string;
  readonly quarantineBucket: string;
}

export interface SmokeOptions {
  readonly datasets: readonly DatasetDefinition[];
  /** Valid records per dataset (one of them through the single-record route). */
  readonly validPerDataset: number;
  /** Invalid records per dataset (one of them through the single-record route). */
  readonly invalidPerDataset: number;
  readonly timeoutMs: number;
  /** The ingestion SLO (README.md#observability): accept → raw-zone Parquet. */
  readonly sloMs: number;
  readonly pollMs?: number;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

export interface SmokeReport {
  /** Part of every record id of this run (`<prefix>-<tag>-<n>`). */
  readonly tag: string;
  readonly accepted: number;
  readonly rejected: number;
  /** Answers that were not what the record called for (e.g. an invalid record accepted, a 5xx). */
  readonly unexpectedAnswers: string[];
  readonly arrived: number;
  readonly missing: string[];
  /** Accept (API answer received) → first seen in raw Parquet, as the client observes it (an upper bound). */
  readonly latencyMs: { readonly p50: number; readonly max: number } | undefined;
  readonly sloMs: number;
  readonly withinSlo: boolean;
  readonly rejectedInLake: string[];
  readonly quarantined: string[];
  readonly deletedObjects: number;
  /** Raw objects holding both this run's records and others' (kept; the tagged ids stay recognisable). */
  readonly sharedObjects: number;
  readonly ok: boolean;
}

interface Sent {
  readonly dataset: DatasetDefinition;
  readonly id: string;
  readonly valid: boolean;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

/** A tag unique to one run: letters and digits only, so it sits safely inside record ids. */
export function smokeTag(now: number, random = Math.random): string {
  return `smoke${now.toString(36)}${Math.floor(random() * 36 ** 4).toString(36)}`;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

export async function runSmoke(target: SmokeTarget, options: SmokeOptions): Promise<SmokeReport> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const startedAt = now();
  const tag = smokeTag(startedAt);
  const unexpected: string[] = [];
  const acceptedAt = new Map<string, number>();
  const sent: Sent[] = [];

  const request = async (path: string, init: { body?: string; key?: boolean } = {}) => {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${target.apiUrl}${path}`, {
        method: init.body === undefined ? 'GET' : 'POST',
        headers: {
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(target.apiKey && init.key !== false ? { 'x-api-key': target.apiKey } : {}),
        },
        body: init.body,
      }).catch((error: Error) => {
        throw new Error(`Cannot reach the API at ${target.apiUrl}: ${String(error.cause ?? error.message)}`);
      });
      const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!RETRYABLE.has(response.status) || attempt >= 4) return { status: response.status, json };
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  };
  const post = (path: string, body: unknown) => request(path, { body: JSON.stringify(body) });

  // The routes answer as README.md#the-api says, before any record is sent.
  const expect = (
    what: string,
    answer: { status: number; json: Record<string, unknown> },
    status: number,
    ok: boolean,
  ) => {
    // A 5xx says why (API Gateway's message when the function failed to load or to answer).
    const why = answer.status >= 500 ? ` (${JSON.stringify(answer.json).slice(0, 300)})` : '';
    if (answer.status !== status || !ok)
      unexpected.push(`${what}: HTTP ${answer.status}${why}, expected ${status}`);
  };
  const welcome = await request('/');
  expect('GET /', welcome, 200, welcome.json.message === WELCOME_MESSAGE);
  const health = await request('/health');
  expect(
    'GET /health',
    health,
    200,
    health.json.status === 'healthy' && health.json.kafka_status === 'connected',
  );
  const [first] = options.datasets;
  if (first) {
    const malformed = await request(first.route, { body: '{"not json' });
    const [problem] = (malformed.json.detail ?? []) as { type?: string }[];
    expect(`POST ${first.route} with malformed JSON`, malformed, 422, problem?.type === 'json_invalid');
    if (target.apiKey) {
      const keyless = await request(first.route, { body: '{}', key: false });
      expect(`POST ${first.route} without the API key`, keyless, 403, true);
    }
  }

  for (const dataset of options.datasets) {
    const records = taggedRecords(dataset, tag, options, new Date(startedAt));
    const [single, ...batch] = records.filter((r) => r.valid);
    const [singleInvalid, ...batchInvalid] = records.filter((r) => !r.valid);
    const mixed = [...batch, ...batchInvalid];
    if (mixed.length > 0) {
      const { status, json } = await post(batchRouteOf(dataset), { records: mixed.map((r) => r.body) });
      const results = (json.results ?? []) as { index: number; status: string }[];
      const expected = batchInvalid.length === 0 ? 200 : batch.length === 0 ? 422 : 207;
      if (status !== expected)
        unexpected.push(`${batchRouteOf(dataset)}: HTTP ${status}, expected ${expected}`);
      mixed.forEach((record, index) => {
        const answer = results.find((r) => r.index === index)?.status;
        const wanted = record.valid ? 'accepted' : 'rejected';
        if (answer !== wanted) unexpected.push(`${record.id}: ${answer ?? 'no answer'}, expected ${wanted}`);
        if (answer === 'accepted') acceptedAt.set(record.id, now());
      });
    }
    for (const record of [single, singleInvalid]) {
      if (!record) continue;
      const { status } = await post(dataset.route, record.body);
      const wanted = record.valid ? 200 : 422;
      if (status !== wanted)
        unexpected.push(`${record.id} via ${dataset.route}: HTTP ${status}, expected ${wanted}`);
      if (status === 200) acceptedAt.set(record.id, now());
    }
    sent.push(...records.map(({ id, valid }) => ({ dataset, id, valid })));
  }
  log(
    `${tag}: ${acceptedAt.size} records accepted, waiting for raw Parquet (up to ${options.timeoutMs / 1000} s)`,
  );

  const raw = new RawObjects(target.s3, target.rawBucket, startedAt);
  const seenAt = new Map<string, number>();
  const deadline = startedAt + options.timeoutMs;
  for (;;) {
    const ids = await raw.ids(options.datasets, dayPrefixes(startedAt, now()));
    const at = now();
    for (const id of ids.keys()) if (acceptedAt.has(id) && !seenAt.has(id)) seenAt.set(id, at);
    if (seenAt.size === acceptedAt.size || at >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }

  const latencies = [...seenAt].map(([id, at]) => at - (acceptedAt.get(id) as number)).sort((a, b) => a - b);
  const rejectedIds = new Set(sent.filter((s) => !s.valid).map((s) => s.id));
  const ids = await raw.ids(options.datasets, dayPrefixes(startedAt, now()));
  const rejectedInLake = [...ids.keys()].filter((id) => rejectedIds.has(id));
  const quarantined = await quarantinedLines(target, options.datasets, tag, startedAt, now());

  // Clean up: objects holding only this run's rows go (their version, not others'); shared ones stay.
  let deletedObjects = 0;
  let sharedObjects = 0;
  for (const object of raw.objectsWith(tag)) {
    if (object.ids.every((id) => id.includes(`-${tag}-`))) {
      await target.s3.send(
        new DeleteObjectCommand({ Bucket: target.rawBucket, Key: object.key, VersionId: object.versionId }),
      );
      deletedObjects++;
    } else {
      sharedObjects++;
    }
  }

  const missing = [...acceptedAt.keys()].filter((id) => !seenAt.has(id));
  const latencyMs =
    latencies.length > 0 ? { p50: percentile(latencies, 50), max: latencies.at(-1) as number } : undefined;
  const withinSlo = latencyMs !== undefined && latencyMs.max <= options.sloMs;
  return {
    tag,
    accepted: acceptedAt.size,
    rejected: rejectedIds.size,
    unexpectedAnswers: unexpected,
    arrived: seenAt.size,
    missing,
    latencyMs,
    sloMs: options.sloMs,
    withinSlo,
    rejectedInLake,
    quarantined,
    deletedObjects,
    sharedObjects,
    ok:
      unexpected.length === 0 &&
      acceptedAt.size > 0 &&
      missing.length === 0 &&
      rejectedInLake.length === 0 &&
      quarantined.length === 0,
  };
}

/**
 * Valid and invalid records of one dataset, every id carrying the tag. Event times are now, so the records
 * land in today's partitions (the only ones the smoke test lists).
 */
function taggedRecords(
  dataset: DatasetDefinition,
  tag: string,
  options: Pick<SmokeOptions, 'validPerDataset' | 'invalidPerDataset'>,
  now: Date,
): { id: string; valid: boolean; body: Record<string, unknown> }[] {
  const factory = new RecordFactory({ invalidShare: 0.5, duplicateShare: 0, runId: tag, now: () => now });
  const out: { id: string; valid: boolean; body: Record<string, unknown> }[] = [];
  let valid = 0;
  let invalid = 0;
  while (valid < options.validPerDataset || invalid < options.invalidPerDataset) {
    const record = factory.next(dataset.name);
    // Invalid records without an id cannot be looked for in the lake.
    if (record.id === undefined) continue;
    const isValid = record.kind === 'valid';
    if (isValid ? valid >= options.validPerDataset : invalid >= options.invalidPerDataset) continue;
    const body = { ...record.body };
    for (const [name, spec] of Object.entries(dataset.fields)) {
      if (typeof body[name] !== 'string') continue;
      if (spec.kind === 'date_or_timestamp' && isValid) body[name] = now.toISOString().slice(0, 10);
      if (spec.kind === 'timestamp' && isValid) body[name] = pythonIsoFormat(now, 0);
    }
    out.push({ id: record.id, valid: isValid, body });
    if (isValid) valid++;
    else invalid++;
  }
  return out;
}

/** `event_date=…` / `kafka_date=…` values of the UTC days between two instants. */
function dayPrefixes(from: number, to: number): string[] {
  const days = new Set<string>();
  for (let t = from - 86_400_000; t <= to + 86_400_000; t += 3_600_000) {
    days.add(new Date(t).toISOString().slice(0, 10));
  }
  return [...days];
}

interface ReadObject {
  readonly key: string;
  readonly versionId?: string;
  readonly ids: string[];
}

/** Raw objects written since the run started, each version read once (id column only). */
class RawObjects {
  private readonly read = new Map<string, ReadObject>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly since: number,
  ) {}

  async ids(datasets: readonly DatasetDefinition[], days: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const dataset of datasets) {
      for (const day of days) {
        for (const object of await listSince(
          this.s3,
          this.bucket,
          `${dataset.name}/event_date=${day}/`,
          this.since,
        )) {
          if (!object.key.endsWith('.parquet')) continue;
          const version = `${object.key}@${object.etag}`;
          let read = this.read.get(version);
          if (!read) {
            const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.key }));
            const bytes = await (
              got.Body as { transformToByteArray(): Promise<Uint8Array> }
            ).transformToByteArray();
            const file = bytes.buffer.slice(
              bytes.byteOffset,
              bytes.byteOffset + bytes.byteLength,
            ) as ArrayBuffer;
            const rows = await parquetReadObjects({ file, columns: [dataset.idField] });
            read = {
              key: object.key,
              versionId: got.VersionId,
              ids: rows.map((r) => String(r[dataset.idField])),
            };
            this.read.set(version, read);
          }
          for (const id of read.ids) found.set(id, object.key);
        }
      }
    }
    return found;
  }

  /** The objects read that hold at least one id of the run. */
  objectsWith(tag: string): ReadObject[] {
    const latest = new Map<string, ReadObject>();
    for (const object of this.read.values()) latest.set(object.key, object);
    return [...latest.values()].filter((o) => o.ids.some((id) => id.includes(`-${tag}-`)));
  }
}

async function listSince(s3: S3Client, bucket: string, prefix: string, since: number) {
  const objects: { key: string; etag: string }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      // LastModified has one-second resolution, and the runner's clock may differ from S3's a little.
      if (o.Key && (o.LastModified?.getTime() ?? 0) >= since - 60_000)
        objects.push({ key: o.Key, etag: o.ETag ?? '' });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/** Whether a quarantine line names the tag, in its fields or in the kept payload (`value_base64`). */
function mentions(line: string, tag: string): boolean {
  if (line.includes(tag)) return true;
  try {
    const payload = (JSON.parse(line) as { value_base64?: unknown }).value_base64;
    return typeof payload === 'string' && Buffer.from(payload, 'base64').toString('utf8').includes(tag);
  } catch {
    return false;
  }
}

/** Lines of the sink quarantine written during the run that name one of its records. */
async function quarantinedLines(
  target: SmokeTarget,
  datasets: readonly DatasetDefinition[],
  tag: string,
  from: number,
  to: number,
): Promise<string[]> {
  const lines: string[] = [];
  for (const dataset of [...datasets.map((d) => d.name), 'unknown']) {
    for (const day of dayPrefixes(from, to)) {
      const prefix = `${QUARANTINE_SINK_PREFIX}/${dataset}/kafka_date=${day}/`;
      for (const object of await listSince(target.s3, target.quarantineBucket, prefix, from)) {
        const got = await target.s3.send(
          new GetObjectCommand({ Bucket: target.quarantineBucket, Key: object.key }),
        );
        const text = (await got.Body?.transformToString()) ?? '';
        lines.push(...text.split('\n').filter((line) => line && mentions(line, tag)));
      }
    }
  }
  return lines;
}
