import { type PutObject, type QuarantineLine, sinkBatch } from '../../../lambdas/sink/core';
import { decodeMskEvent } from '../../../lambdas/sink/decode';
import { mskEvent } from '../../../lambdas/sink/msk-event';
import { hyparquetEncoder } from '../../../lambdas/sink/parquet';
import { createRegistry, type DatasetDefinition, financialTransactions } from '../../../schemas';
import { compileValidator } from '../../../schemas/ajv-compile';
import { financialTransactionsV2 } from '../../support/evolution';
import { ingestedHeaders, message, queryParquet, transaction } from './support';

const v2 = financialTransactionsV2;

async function sinkWith(definition: DatasetDefinition, messages: ReturnType<typeof message>[]) {
  const objects: PutObject[] = [];
  const summary = await sinkBatch(decodeMskEvent(mskEvent(messages, { bootstrapServers: 'b' })), {
    registry: createRegistry([definition], { compile: compileValidator }),
    writer: { put: async (o) => void objects.push(o) },
    catalog: { registerPartitions: async () => {} },
    encoder: hyparquetEncoder,
    clock: () => Date.UTC(2024, 0, 15, 11),
    settings: { rawBucket: 'raw', quarantineBucket: 'quarantine', glueDatabase: 'lake' },
  });
  return { summary, raw: objects.filter((o) => o.bucket === 'raw'), objects };
}

const at = '2024-01-15T10:30:00';
const v1Message = (offset: number, extra = {}) =>
  message(offset, JSON.stringify({ ...transaction(`t${offset}`, at), ...extra }), {
    headers: ingestedHeaders({ schema_version: 1 }),
  });
const v2Message = (offset: number, channel: unknown) =>
  message(offset, JSON.stringify({ ...transaction(`t${offset}`, at), channel }), {
    headers: ingestedHeaders({ schema_version: 2 }),
  });

describe('the sink validates and writes each record by its schema-version header', () => {
  test('mixed versions in one hour: one file per version, each with its version’s Parquet schema', async () => {
    const { summary, raw } = await sinkWith(v2, [
      v1Message(0),
      v2Message(1, 'web'),
      v1Message(2, { channel: 'ignored by v1' }),
      v2Message(3, null),
    ]);
    expect(summary).toMatchObject({ written: 4, quarantined: 0 });
    expect(
      raw.map((o) => [o.metadata['schema-version'], o.metadata['first-offset'], o.metadata.rows]),
    ).toEqual([
      ['1', '0', '2'],
      ['2', '1', '2'],
    ]);
    const columns = async (file: PutObject) =>
      (await queryParquet([file.body], 'DESCRIBE SELECT * FROM read_parquet({files})')).map(
        (r) => r.column_name,
      );
    // biome-ignore lint/style/noNonNullAssertion: two files asserted above
    const [v1File, v2File] = [raw[0]!, raw[1]!];
    expect(await columns(v1File)).not.toContain('channel');
    expect(await columns(v2File)).toContain('channel');
    // Read together with the union of columns, as Spark and Athena do: v1 rows have channel null.
    const rows = await queryParquet(
      raw.map((o) => o.body),
      'SELECT transaction_id, channel, _schema_version FROM read_parquet({files}, union_by_name = true) ORDER BY 1',
    );
    expect(rows).toEqual([
      { transaction_id: 't0', channel: null, _schema_version: 1 },
      { transaction_id: 't1', channel: 'web', _schema_version: 2 },
      { transaction_id: 't2', channel: null, _schema_version: 1 },
      { transaction_id: 't3', channel: null, _schema_version: 2 },
    ]);
  });

  test('a record is judged by its own version: a wrong v2 field fails v2 only', async () => {
    const { summary, objects } = await sinkWith(v2, [v2Message(0, 42), v1Message(1, { channel: 42 })]);
    expect(summary).toMatchObject({ written: 1, quarantined: 1 });
    const [line] = objects
      .filter((o) => o.bucket === 'quarantine')
      .map((o) => JSON.parse(new TextDecoder().decode(o.body)) as QuarantineLine);
    expect(line).toMatchObject({ offset: 0, reason: 'validation_failed' });
  });

  test('a version the sink does not know yet is quarantined with what to do', async () => {
    const { summary, objects } = await sinkWith(financialTransactions, [v2Message(0, 'web')]);
    expect(summary).toMatchObject({ written: 0, quarantined: 1 });
    const line = JSON.parse(new TextDecoder().decode(objects[0]?.body)) as QuarantineLine;
    expect(line).toMatchObject({ reason: 'invalid_headers' });
    expect(line.detail).toBe(
      'header schema-version is 2, not a version of financial_transactions (1..1): deploy the sink with the new ' +
        'definition before producers send it; this line keeps the headers and the value to produce again',
    );
  });
});
