import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createRegistry,
  DATASETS,
  financialTransactions,
  iotSensorEvents,
  parseDateOrTimestampMicros,
  parseTimestampMicros,
  rawColumns,
  utcDateAndHour,
} from '../../schemas';
import { compileValidator } from '../../schemas/ajv-compile';
import { GENERATED_DIR, generatedSchemaFiles } from '../../scripts/generate-schemas';

const validTxn = {
  transaction_id: 't-1',
  timestamp: '2024-01-15T10:30:00.123456',
  account_id: 'a-1',
  amount: 12.5,
  currency: 'usd',
  transaction_type: 'debit',
  merchant_id: null,
  category: null,
};

describe('dataset registry', () => {
  const registry = createRegistry([...DATASETS, iotSensorEvents]);

  test('derives topics and finds datasets by name and topic', () => {
    expect(registry.byName('financial_transactions')?.topic).toBe('raw_financial_transactions');
    expect(registry.byTopic('raw_insurance_claims')?.definition.idField).toBe('claim_id');
    expect(registry.byTopic('raw_iot_sensor_events')?.definition.name).toBe('iot_sensor_events');
    expect(() => createRegistry([iotSensorEvents, iotSensorEvents])).toThrow(/unique/);
  });

  test('refuses a dataset whose precompiled validator is missing or stale', () => {
    expect(() => createRegistry([{ ...iotSensorEvents, schemaVersion: 2 }])).toThrow(/npm run schemas/);
    expect(() => createRegistry([{ ...iotSensorEvents, name: 'not_generated' }])).toThrow(/missing or stale/);
  });

  test('precompiled validators agree with validators compiled at run time', () => {
    const runtime = compileValidator(financialTransactions);
    const precompiled = registry.byName('financial_transactions');
    for (const input of [
      validTxn,
      { ...validTxn, amount: 'x', currency: 'EURO' },
      null,
      [],
      { timestamp: '2024-02-30' },
    ]) {
      expect(precompiled?.validate(input)).toEqual(runtime(input));
    }
  });

  test('accepts what existing Python producers send', () => {
    expect(registry.byName('financial_transactions')?.validate(validTxn)).toEqual({
      ok: true,
      record: validTxn,
    });
  });

  test('reports one error per bad field, with its location', () => {
    const result = registry.byName('financial_transactions')?.validate({
      ...validTxn,
      transaction_id: '',
      amount: 'ten',
      timestamp: '2024-02-30T00:00:00',
      currency: 'DOLLARS',
      account_id: undefined,
    });
    expect(result?.ok).toBe(false);
    if (result && !result.ok) {
      expect(result.errors.map((e) => [e.loc.join('.'), e.type]).sort()).toEqual([
        ['account_id', 'missing'],
        ['amount', 'finite_number'],
        ['currency', 'currency_code'],
        ['timestamp', 'datetime_parsing'],
        ['transaction_id', 'string_too_short'],
      ]);
    }
  });

  test('rejects a negative claim amount and a non-object body', () => {
    const claims = registry.byName('insurance_claims');
    const r = claims?.validate({ claim_amount: -1 });
    expect(r?.ok === false && r.errors.find((e) => e.loc[0] === 'claim_amount')?.type).toBe(
      'greater_than_equal',
    );
    const root = claims?.validate([1, 2]);
    expect(root?.ok === false && root.errors).toEqual([
      { loc: [], msg: 'Input should be a valid object', type: 'dict_type' },
    ]);
  });

  test('raw columns are the fields followed by metadata columns', () => {
    const names = rawColumns(iotSensorEvents).map((c) => c.name);
    expect(names.slice(0, 7)).toEqual(Object.keys(iotSensorEvents.fields));
    expect(names).toContain('_kafka_offset');
  });

  test('generated JSON schema files are up to date (run `npm run schemas`)', () => {
    for (const [file, text] of Object.entries(generatedSchemaFiles())) {
      expect(readFileSync(join(GENERATED_DIR, file), 'utf8')).toBe(text);
    }
  });
});

describe('ISO-8601 parsing', () => {
  test.each([
    ['2024-01-15T10:30:00.123456', 1705314600123456n],
    ['2024-01-15T10:30:00Z', 1705314600000000n],
    ['2024-01-15T12:30:00+02:00', 1705314600000000n],
    ['2024-01-15 10:30', 1705314600000000n],
    ['2024-01-15T10:30:00.123456789', 1705314600123456n],
  ])('%s', (text, micros) => expect(parseTimestampMicros(text)).toBe(micros));

  test.each(['2024-13-01T00:00:00', '2024-01-15', 'yesterday', '2024-01-15T24:00:00', ''])(
    'rejects %s',
    (text) => expect(parseTimestampMicros(text)).toBeUndefined(),
  );

  test('dates mean midnight UTC, and partitions are UTC date and hour', () => {
    expect(parseDateOrTimestampMicros('2024-02-29')).toBe(1709164800000000n);
    expect(parseDateOrTimestampMicros('2023-02-29')).toBeUndefined();
    expect(utcDateAndHour(parseTimestampMicros('2024-01-15T23:30:00-02:00') as bigint)).toEqual({
      date: '2024-01-16',
      hour: '01',
    });
  });
});
