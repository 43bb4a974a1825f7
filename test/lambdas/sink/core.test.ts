import { DEFAULT_MAX_HOUR_FILES, type SinkSettings } from '../../../lambdas/sink/config';
import {
  type CatalogRegistrar,
  type PutObject,
  type QuarantineLine,
  type RawPartition,
  type SinkDependencies,
  sinkBatch,
} from '../../../lambdas/sink/core';
import { decodeMskEvent } from '../../../lambdas/sink/decode';
import { mskEvent } from '../../../lambdas/sink/msk-event';
import { hyparquetEncoder } from '../../../lambdas/sink/parquet';
import { createRegistry, financialTransactions, iotSensorEvents, topicOf } from '../../../schemas';
import { DATASETS } from '../../../schemas/registry';
import { ingestedHeaders, message, queryParquet, TOPIC, transaction } from './support';

const settings: SinkSettings = { rawBucket: 'raw', quarantineBucket: 'quarantine', glueDatabase: 'lake' };
const NOW = Date.UTC(2024, 0, 15, 10, 31, 2);

/** An in-memory bucket store with S3's overwrite semantics. */
function memoryStore() {
  const objects = new Map<string, PutObject>();
  return {
    objects,
    writer: {
      async put(object: PutObject) {
        objects.set(`${object.bucket}/${object.key}`, object);
      },
    },
  };
}

function catalogSpy() {
  const calls: { dataset: string; partitions: readonly RawPartition[] }[] = [];
  const catalog: CatalogRegistrar = {
    async registerPartitions(dataset, partitions) {
      calls.push({ dataset, partitions });
    },
  };
  return { calls, catalog };
}

function deps(
  overrides: Partial<SinkDependencies> = {},
): SinkDependencies & { store: ReturnType<typeof memoryStore> } {
  const store = memoryStore();
  return {
    registry: createRegistry(DATASETS),
    writer: store.writer,
    catalog: catalogSpy().catalog,
    encoder: hyparquetEncoder,
    clock: () => NOW,
    settings,
    store,
    ...overrides,
  };
}

const rawFiles = (store: ReturnType<typeof memoryStore>) =>
  [...store.objects.values()].filter((o) => o.bucket === 'raw');
const quarantineLines = (store: ReturnType<typeof memoryStore>): QuarantineLine[] =>
  [...store.objects.values()]
    .filter((o) => o.bucket === 'quarantine')
    .flatMap((o) => new TextDecoder().decode(o.body).trim().split('\n'))
    .map((line) => JSON.parse(line));

describe('MSK event decoding', () => {
  it('groups by topic-partition, base64-encodes keys and values, and decodes back to the same text', async () => {
    const value = JSON.stringify(transaction('txn-1', '2024-01-15T10:30:00.123456'));
    const event = mskEvent(
      [
        message(7, value, { partition: 1 }),
        message(3, value, { key: 'ünïcode' }),
        message(4, null, { key: null }),
      ],
      { bootstrapServers: '127.0.0.1:9092' },
    );
    expect(Object.keys(event.records).sort()).toEqual([`${TOPIC}-0`, `${TOPIC}-1`]);
    const partition0 = event.records[`${TOPIC}-0`] ?? [];
    expect(partition0.map((r) => r.offset)).toEqual([3, 4]);
    expect(partition0[0]?.value).toBe(Buffer.from(value).toString('base64'));
    expect(partition0[0]?.headers).toContainEqual({ 'content-type': [...Buffer.from('application/json')] });

    const records = decodeMskEvent(event);
    expect(records.map((r) => [r.partition, r.offset, r.key]).sort()).toEqual([
      [0, 3, 'ünïcode'],
      [0, 4, null],
      [1, 7, 'txn-7'],
    ]);
    const at = (offset: number) => records.find((r) => r.offset === offset);
    expect(at(3)?.value).toBe(value);
    expect(at(4)?.value).toBeNull();
    expect(at(3)?.headers).toEqual(Object.entries(ingestedHeaders()).map(([k, v]) => ({ [k]: v })));
  });
});

describe('sinkBatch', () => {
  it('writes valid records as Parquet partitioned by UTC event date and hour, with exact values', async () => {
    const d = deps();
    const event = mskEvent(
      [
        message(10, JSON.stringify(transaction('a', '2024-01-15T10:30:00.123456'))),
        // +02:00 offset: 01:15 local is 23:15 UTC the day before
        message(11, JSON.stringify(transaction('b', '2024-01-16T01:15:00.000001+02:00', 0.1))),
        message(12, JSON.stringify(transaction('c', '2024-01-15T10:59:59.999999Z', -7))),
      ],
      { bootstrapServers: 'b' },
    );
    const summary = await sinkBatch(decodeMskEvent(event), d);

    expect(summary.rawFiles.map((f) => f.key).sort()).toEqual([
      'financial_transactions/event_date=2024-01-15/event_hour=10/raw_financial_transactions+0+0000000000000000010.parquet',
      'financial_transactions/event_date=2024-01-15/event_hour=23/raw_financial_transactions+0+0000000000000000011.parquet',
    ]);
    expect(summary).toMatchObject({ records: 3, written: 3, quarantined: 0, catalogFailures: 0 });
    // accept (10:31:00.000001) to write (10:31:02)
    expect(summary.acceptToWriteMs?.max).toBe(2000);

    const rows = await queryParquet(
      rawFiles(d.store).map((f) => f.body),
      `SELECT transaction_id, epoch_us(timestamp) AS ts_us, strftime(timestamp, '%Y-%m-%dT%H:%M:%S.%f') AS ts,
              amount, currency, merchant_id, category, epoch_us(_ingest_time) AS ingest_us, _request_id,
              _schema_version, _kafka_topic, _kafka_partition, _kafka_offset, epoch_us(_kafka_timestamp) AS kafka_us
       FROM read_parquet({files}) ORDER BY _kafka_offset`,
    );
    expect(rows).toEqual([
      {
        transaction_id: 'a',
        ts_us: '1705314600123456',
        ts: '2024-01-15T10:30:00.123456',
        amount: 125.5,
        currency: 'USD',
        merchant_id: null,
        category: 'groceries',
        ingest_us: '1705314660000001',
        _request_id: 'req-1',
        _schema_version: 1,
        _kafka_topic: TOPIC,
        _kafka_partition: 0,
        _kafka_offset: '10',
        kafka_us: String(Date.UTC(2024, 0, 15, 10, 31) * 1000),
      },
      expect.objectContaining({ transaction_id: 'b', ts: '2024-01-15T23:15:00.000001', amount: 0.1 }),
      expect.objectContaining({ transaction_id: 'c', ts: '2024-01-15T10:59:59.999999', amount: -7 }),
    ]);
  });

  it('writes UTC-adjusted microsecond timestamps, snappy and dictionary-encoded', async () => {
    const d = deps();
    await sinkBatch(
      decodeMskEvent(
        mskEvent(
          Array.from({ length: 100 }, (_, i) =>
            message(i, JSON.stringify(transaction(`t${i}`, '2024-01-15T10:30:00'))),
          ),
          { bootstrapServers: 'b' },
        ),
      ),
      d,
    );
    const body = rawFiles(d.store)[0]?.body ?? new Uint8Array();
    const schema = await queryParquet(
      [body],
      `SELECT name, type, logical_type FROM parquet_schema({files}) WHERE name IN ('timestamp', 'amount', 'currency')`,
    );
    expect(schema).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'timestamp',
          type: 'INT64',
          logical_type:
            'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))',
        }),
        expect.objectContaining({ name: 'amount', type: 'DOUBLE' }),
        expect.objectContaining({ name: 'currency', type: 'BYTE_ARRAY', logical_type: 'StringType()' }),
      ]),
    );
    const chunks = await queryParquet(
      [body],
      `SELECT DISTINCT compression, encodings FROM parquet_metadata({files}) WHERE path_in_schema = 'currency'`,
    );
    expect(chunks).toEqual([{ compression: 'SNAPPY', encodings: expect.stringContaining('RLE_DICTIONARY') }]);
  });

  it('quarantines every kind of bad message with its reason and coordinates, and drops nothing', async () => {
    const d = deps();
    const messages = [
      message(0, JSON.stringify(transaction('ok-1', '2024-01-15T10:30:00'))),
      message(1, JSON.stringify({ ...transaction('bad', 'yesterday'), amount: 'ten' })),
      message(2, '{not json'),
      message(3, null),
      message(4, JSON.stringify(transaction('x', '2024-01-15T10:30:00')), {
        headers: ingestedHeaders({ ingest_time: 'yesterday' }),
      }),
      message(5, JSON.stringify(transaction('y', '2024-01-15T10:30:00')), {
        headers: ingestedHeaders({ dataset: 'insurance_claims' }),
      }),
      message(6, 'hello', { topic: 'raw_nobody', partition: 2 }),
      message(7, JSON.stringify(transaction('ok-2', '2024-01-15T10:45:00'))),
      message(8, 'replaced below by bytes that are not even base64'),
    ];
    const event = mskEvent(messages, { bootstrapServers: 'b' });
    const corrupt = event.records[`${TOPIC}-0`]?.find((r) => r.offset === 8);
    if (corrupt) corrupt.value = '!!not base64!!';
    const summary = await sinkBatch(decodeMskEvent(event), d);
    expect(summary).toMatchObject({ records: 9, written: 2, quarantined: 7 });

    const lines = quarantineLines(d.store);
    expect(lines.map((l) => [l.offset, l.reason, l.dataset])).toEqual([
      [1, 'validation_failed', 'financial_transactions'],
      [2, 'invalid_json', 'financial_transactions'],
      [3, 'missing_value', 'financial_transactions'],
      [4, 'invalid_headers', 'financial_transactions'],
      [5, 'invalid_headers', 'financial_transactions'],
      [8, 'invalid_json', 'financial_transactions'],
      [6, 'unknown_topic', null],
    ]);
    expect(lines[0]?.detail).toEqual([
      { loc: ['timestamp'], msg: 'Input should be a valid ISO-8601 date-time', type: 'datetime_parsing' },
      { loc: ['amount'], msg: 'Input should be a valid finite number', type: 'finite_number' },
    ]);
    expect(lines[1]).toMatchObject({
      topic: TOPIC,
      partition: 0,
      key: 'txn-2',
      value: '{not json',
      value_base64: Buffer.from('{not json').toString('base64'),
    });
    // whatever arrives is kept exactly as delivered
    expect(lines.find((l) => l.offset === 8)).toMatchObject({ value_base64: '!!not base64!!' });
    expect([...d.store.objects.keys()].filter((k) => k.startsWith('quarantine/')).sort()).toEqual([
      'quarantine/sink/financial_transactions/kafka_date=2024-01-15/raw_financial_transactions+0+0000000000000000001.jsonl',
      'quarantine/sink/unknown/kafka_date=2024-01-15/raw_nobody+2+0000000000000000006.jsonl',
    ]);
    // the poison records did not hold back the valid one after them
    const rows = await queryParquet(
      rawFiles(d.store).map((f) => f.body),
      'SELECT transaction_id FROM read_parquet({files}) ORDER BY _kafka_offset',
    );
    expect(rows).toEqual([{ transaction_id: 'ok-1' }, { transaction_id: 'ok-2' }]);
  });

  it('derives keys from topic, partition and first offset only, so retries overwrite', async () => {
    const messages = Array.from({ length: 10 }, (_, i) =>
      message(100 + i, JSON.stringify(transaction(`t${i}`, `2024-01-15T${i % 2 ? '10' : '11'}:00:00`))),
    );
    const once = deps();
    await sinkBatch(decodeMskEvent(mskEvent(messages, { bootstrapServers: 'b' })), once);
    const again = deps({ writer: once.store.writer });
    await sinkBatch(decodeMskEvent(mskEvent(messages, { bootstrapServers: 'b' })), again);
    const keys = [...once.store.objects.keys()].sort();
    expect(keys).toHaveLength(2);

    // A retry that the event source mapping cuts differently (first 3, then the rest) after a failed
    // attempt leaves no duplicate rows and loses none.
    const rebatched = deps();
    await sinkBatch(decodeMskEvent(mskEvent(messages, { bootstrapServers: 'b' })), rebatched);
    await sinkBatch(decodeMskEvent(mskEvent(messages.slice(0, 3), { bootstrapServers: 'b' })), {
      ...rebatched,
    });
    await sinkBatch(decodeMskEvent(mskEvent(messages.slice(3), { bootstrapServers: 'b' })), { ...rebatched });
    const rows = await queryParquet(
      rawFiles(rebatched.store).map((f) => f.body),
      'SELECT _kafka_offset FROM read_parquet({files}) ORDER BY 1',
    );
    expect(rows.map((r) => Number(r._kafka_offset))).toEqual(messages.map((m) => Number(m.offset)));
    expect(rawFiles(once.store).map((f) => f.metadata)).toEqual(
      expect.arrayContaining([
        { 'first-offset': '100', 'last-offset': '108', rows: '5', 'schema-version': '1' },
      ]),
    );
  });

  it('fails the batch when a write fails, before touching the catalog', async () => {
    const { calls, catalog } = catalogSpy();
    const d = deps({
      catalog,
      writer: {
        async put(object) {
          if (object.bucket === 'quarantine') throw new Error('SlowDown');
        },
      },
    });
    const messages = [message(0, JSON.stringify(transaction('a', '2024-01-15T10:30:00'))), message(1, '{')];
    await expect(sinkBatch(decodeMskEvent(mskEvent(messages, { bootstrapServers: 'b' })), d)).rejects.toThrow(
      /Failed to write 1 of 2 objects .*raw_financial_transactions\+0\+0000000000000000001\.jsonl/,
    );
    expect(calls).toEqual([]);
  });

  it('registers each touched partition once per batch, and survives a catalog failure', async () => {
    const { calls, catalog } = catalogSpy();
    const messages = [
      message(0, JSON.stringify(transaction('a', '2024-01-15T10:30:00'))),
      message(1, JSON.stringify(transaction('b', '2024-01-15T10:40:00'))),
      message(2, JSON.stringify(transaction('c', '2024-01-15T11:00:00'))),
    ];
    await sinkBatch(decodeMskEvent(mskEvent(messages, { bootstrapServers: 'b' })), deps({ catalog }));
    expect(calls).toEqual([
      {
        dataset: 'financial_transactions',
        partitions: [
          { date: '2024-01-15', hour: '10' },
          { date: '2024-01-15', hour: '11' },
        ],
      },
    ]);

    const warnings: unknown[] = [];
    const failing = deps({
      catalog: { registerPartitions: () => Promise.reject(new Error('Glue throttled')) },
      logger: { warn: (_message, extra) => warnings.push(extra) },
    });
    const summary = await sinkBatch(decodeMskEvent(mskEvent(messages, { bootstrapServers: 'b' })), failing);
    expect(summary.catalogFailures).toBe(1);
    expect(summary.written).toBe(3);
    expect(rawFiles(failing.store)).toHaveLength(2);
    expect(warnings).toEqual([
      expect.objectContaining({ dataset: 'financial_transactions', error: 'Error: Glue throttled' }),
    ]);
  });

  it('lands a record produced without ingest headers (another tool) with defaults from Kafka', async () => {
    const d = deps();
    const plain = message(0, JSON.stringify(transaction('plain', '2024-01-15T10:30:00')), { headers: {} });
    const summary = await sinkBatch(decodeMskEvent(mskEvent([plain], { bootstrapServers: 'b' })), d);
    expect(summary).toMatchObject({ written: 1, quarantined: 0 });
    const rows = await queryParquet(
      rawFiles(d.store).map((f) => f.body),
      `SELECT transaction_id, _request_id, _schema_version,
              strftime(_ingest_time, '%Y-%m-%dT%H:%M:%S') AS ingest FROM read_parquet({files})`,
    );
    expect(rows).toEqual([
      {
        transaction_id: 'plain',
        _request_id: '',
        _schema_version: financialTransactions.schemaVersion,
        ingest: '2024-01-15T10:31:00',
      },
    ]);
  });

  it.each([
    [
      { 'content-type': 'application/avro' },
      /content-type is "application\/avro", expected application\/json/,
    ],
    [{ 'schema-version': 'v2' }, /schema-version is not an int32: "v2"/],
    [{ 'schema-version': '4294967296' }, /schema-version is not an int32/],
  ])('quarantines a record whose header %j is present but wrong', async (wrong, detail) => {
    const d = deps();
    const bad = message(0, JSON.stringify(transaction('h', '2024-01-15T10:30:00')), {
      headers: { ...ingestedHeaders(), ...wrong },
    });
    await sinkBatch(decodeMskEvent(mskEvent([bad], { bootstrapServers: 'b' })), d);
    const [line] = quarantineLines(d.store);
    expect(line?.reason).toBe('invalid_headers');
    expect(line?.detail).toMatch(detail);
  });

  it('stores json fields as JSON text and dataset topics it does not know go to quarantine', async () => {
    const d = deps();
    const iot = {
      event_id: 'e1',
      device_id: 'd1',
      device_type: 'thermometer',
      timestamp: '2024-01-15T10:30:00Z',
      value: 21.5,
      status: 'ok',
      metadata: { firmware: '1.2.0' },
    };
    const headers = ingestedHeaders({ dataset: 'iot_sensor_events', ingest_time: '2024-01-15T10:30:01Z' });
    await sinkBatch(
      decodeMskEvent(
        mskEvent([message(0, JSON.stringify(iot), { topic: topicOf(iotSensorEvents), headers })], {
          bootstrapServers: 'b',
        }),
      ),
      d,
    );
    const rows = await queryParquet(
      rawFiles(d.store).map((f) => f.body),
      'SELECT metadata, value FROM read_parquet({files})',
    );
    expect(rows).toEqual([{ metadata: '{"firmware":"1.2.0"}', value: 21.5 }]);
  });

  describe('bounded fan-out', () => {
    // One record per event hour, 100 hours back from 2024-01-15T10:00Z, on one partition; Kafka time is NOW.
    const spread = (count: number, from = 0) =>
      Array.from({ length: count }, (_, i) =>
        message(
          from + i,
          JSON.stringify(
            transaction(`s${from + i}`, new Date(Date.UTC(2024, 0, 15, 10 - (from + i))).toISOString()),
          ),
          { timestamp: NOW },
        ),
      );
    const sink = (messages: ReturnType<typeof spread>, d: SinkDependencies) =>
      sinkBatch(decodeMskEvent(mskEvent(messages, { bootstrapServers: 'b' })), d);

    it('writes at most maxHourFiles hour files per partition and batch, the rest in one late file', async () => {
      const { calls, catalog } = catalogSpy();
      const d = deps({ settings: { ...settings, maxHourFiles: 4 }, catalog });
      // the first hour again after the others: it has its file already
      const messages = [
        ...spread(10),
        message(10, JSON.stringify(transaction('again', '2024-01-15T10:59:00'))),
      ];
      const summary = await sink(messages, d);

      const keys = rawFiles(d.store).map((f) => f.key);
      expect(keys.sort()).toEqual([
        'financial_transactions/event_date=2024-01-15/event_hour=07/raw_financial_transactions+0+0000000000000000003.parquet',
        'financial_transactions/event_date=2024-01-15/event_hour=08/raw_financial_transactions+0+0000000000000000002.parquet',
        'financial_transactions/event_date=2024-01-15/event_hour=09/raw_financial_transactions+0+0000000000000000001.parquet',
        'financial_transactions/event_date=2024-01-15/event_hour=10/raw_financial_transactions+0+0000000000000000000.parquet',
        // the late file sits under the Kafka (arrival) date of its first record
        'financial_transactions/event_date=2024-01-15/event_hour=late/raw_financial_transactions+0+0000000000000000004.parquet',
      ]);
      expect(summary.rawFiles).toHaveLength(5);
      const rows = await queryParquet(
        rawFiles(d.store).map((f) => f.body),
        `SELECT _kafka_offset, strftime(timestamp, '%Y-%m-%dT%H') AS hour FROM read_parquet({files}) ORDER BY 1`,
      );
      expect(rows.map((r) => Number(r._kafka_offset))).toEqual(messages.map((m) => Number(m.offset)));
      expect(rows.at(-1)).toEqual({ _kafka_offset: '10', hour: '2024-01-15T10' });
      expect(calls[0]?.partitions).toEqual(
        expect.arrayContaining([
          { date: '2024-01-15', hour: 'late' },
          { date: '2024-01-15', hour: '10' },
        ]),
      );
      expect(calls[0]?.partitions).toHaveLength(5);
    });

    it('bounds a batch spread over 100 hours by default', async () => {
      const d = deps();
      const summary = await sink(spread(100), d);
      expect(summary.rawFiles.length).toBeLessThanOrEqual(DEFAULT_MAX_HOUR_FILES + 1);
      expect(summary.written).toBe(100);
    });

    it('puts a record in the same file whatever the batch ends with, so a retried batch overwrites', async () => {
      const short = deps({ settings: { ...settings, maxHourFiles: 3 } });
      await sink(spread(6), short);
      const long = deps({ settings: { ...settings, maxHourFiles: 3 } });
      await sink(spread(20), long);
      const fileOf = (d: ReturnType<typeof deps>) =>
        new Map(
          rawFiles(d.store).flatMap((f) =>
            Array.from(
              { length: Number(f.metadata['last-offset']) - Number(f.metadata['first-offset']) + 1 },
              (_, i) => [Number(f.metadata['first-offset']) + i, f.key] as const,
            ),
          ),
        );
      const before = fileOf(short);
      const after = fileOf(long);
      for (const [offset, key] of before) expect([offset, after.get(offset)]).toEqual([offset, key]);
    });
  });
});
