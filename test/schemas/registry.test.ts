import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CURRENCY_CODES,
  createRegistry,
  DATASETS,
  type DatasetDefinition,
  epochMicros,
  financialTransactions,
  formatTimestampMicros,
  insuranceClaims,
  iotSensorEvents,
  parseDateOrTimestampMicros,
  parseTimestampMicros,
  rawColumns,
  recordJsonSchema,
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

const exampleOf = (definition: DatasetDefinition | undefined) =>
  Object.fromEntries(Object.entries(definition?.fields ?? {}).map(([name, f]) => [name, f.example]));

describe('dataset registry', () => {
  const registry = createRegistry(DATASETS);

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

  test('the canonical validator reports one error per bad field, with its location', () => {
    const result = registry.byName('financial_transactions')?.validate({
      ...validTxn,
      amount: 'ten',
      timestamp: '2024-02-30T00:00:00',
      account_id: undefined,
    });
    expect(result?.ok).toBe(false);
    if (result && !result.ok) {
      expect(result.errors.map((e) => [e.loc.join('.'), e.type]).sort()).toEqual([
        ['account_id', 'missing'],
        ['amount', 'finite_number'],
        ['timestamp', 'datetime_parsing'],
      ]);
    }
  });

  test('quality rules are no validation keywords: they travel in x-quality, the ISO 4217 list once', () => {
    const claims = registry.byName('insurance_claims');
    const claim = {
      ...exampleOf(claims?.definition),
      claim_id: '',
      claim_amount: -1,
      claim_type: 'teleport',
    };
    expect(claims?.validate(claim).ok).toBe(true);
    expect(claims?.accept(claim).ok).toBe(true);
    const txnSchema = recordJsonSchema(financialTransactions) as {
      'x-quality': { currency_codes: string[] };
      properties: Record<string, Record<string, unknown>>;
    };
    expect(txnSchema['x-quality'].currency_codes).toEqual(CURRENCY_CODES);
    expect(CURRENCY_CODES).toEqual(expect.arrayContaining(['USD', 'EUR', 'JPY', 'XCG', 'ZWG']));
    expect(CURRENCY_CODES).not.toEqual(expect.arrayContaining(['HRK']));
    expect(txnSchema.properties.currency).toMatchObject({ type: 'string', 'x-quality': { iso_4217: true } });
    expect(txnSchema.properties.transaction_id).toMatchObject({ 'x-quality': { min_length: 1 } });
    expect(txnSchema.properties.transaction_id?.minLength).toBeUndefined();
    expect(recordJsonSchema(insuranceClaims)).not.toHaveProperty('x-quality');
  });

  test('what the API contract accepts, the canonical validator accepts unchanged (a fixed point)', () => {
    for (const { definition, accept, validate } of registry.datasets) {
      const lax = {
        ...exampleOf(definition),
        ...Object.fromEntries(
          Object.entries(definition.fields).map(([name, f]) => [
            name,
            f.kind === 'money' || f.kind === 'number'
              ? '12.50'
              : f.kind.includes('timestamp')
                ? 1705314600
                : f.example,
          ]),
        ),
      };
      const accepted = accept(lax);
      expect(accepted.ok).toBe(true);
      if (accepted.ok) {
        expect(validate(accepted.record)).toEqual({ ok: true, record: accepted.record });
        expect(accept(accepted.record)).toEqual(accepted);
      }
    }
  });

  test('the contract refuses a non-object body as pydantic does', () => {
    expect(registry.byName('insurance_claims')?.accept([1, 2])).toEqual({
      ok: false,
      errors: [
        {
          loc: [],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          type: 'model_attributes_type',
        },
      ],
    });
  });

  test('raw columns are the fields followed by metadata columns', () => {
    const names = rawColumns(iotSensorEvents).map((c) => c.name);
    expect(names.slice(0, 7)).toEqual(Object.keys(iotSensorEvents.fields));
    expect(names).toContain('_kafka_offset');
  });

  test('refuses a streaming window over a field that cannot form a group or be measured', () => {
    const withWindow = (groupBy: string[], measure: string) =>
      createRegistry([{ ...financialTransactions, streamingWindow: { groupBy, measure } }]);
    expect(() => withWindow(['transaction_type', 'currency'], 'amount')).not.toThrow();
    expect(() => withWindow(['merchant_id'], 'amount')).toThrow(
      /"merchant_id" is not a required string or currency/,
    );
    expect(() => withWindow(['amount'], 'amount')).toThrow(/"amount" is not a required string or currency/);
    expect(() => withWindow(['currency'], 'currency')).toThrow(
      /measure: "currency" is not a number or money/,
    );
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

  // The figures are Python's: (datetime.fromisoformat(text) - epoch) // timedelta(microseconds=1).
  test.each([
    ['0001-01-01T00:00:00', -62135596800000000n],
    ['0001-01-01T00:00:00-01:00', -62135596800000000n + 3_600_000_000n],
    ['0099-12-31T23:59:59.999999', -59011459200000001n],
    ['0050-06-15T12:00:00+05:00', -60575014800000000n],
    ['9999-12-31T23:59:59.999999Z', 253402300799999999n],
    ['9999-12-31T23:30:00+01:00', 253402295400000000n],
  ])('years 1-99 and 9999 are themselves (Date.UTC maps 0-99 to 1900-1999): %s', (text, micros) =>
    expect(parseTimestampMicros(text)).toBe(micros),
  );

  test('the canonical text of an instant, and epochs as pydantic reads them', () => {
    expect(formatTimestampMicros(-62135596800000000n)).toBe('0001-01-01T00:00:00.000000Z');
    expect(formatTimestampMicros(-59011459200000001n)).toBe('0099-12-31T23:59:59.999999Z');
    expect(formatTimestampMicros(-1n)).toBe('1969-12-31T23:59:59.999999Z');
    expect(formatTimestampMicros(253402300799999999n)).toBe('9999-12-31T23:59:59.999999Z');
    expect(epochMicros(1705314600)).toBe(1705314600000000n);
    expect(epochMicros(2e10)).toBe(20_000_000_000_000_000n); // seconds up to 2e10 ...
    expect(epochMicros(2e10 + 1)).toBe(20_000_000_001_000n); // ... milliseconds above
    expect(epochMicros(-62135596800000)).toBe(-62135596800000000n);
    expect(epochMicros(-62135596801000)).toBeUndefined();
    expect(epochMicros(253402300800000)).toBeUndefined();
    expect(utcDateAndHour(-60575014800000000n)).toEqual({ date: '0050-06-15', hour: '07' });
  });

  test.each([
    '2024-13-01T00:00:00',
    '2024-01-15',
    'yesterday',
    '2024-01-15T24:00:00',
    '',
    '0000-01-01T00:00:00',
    '9999-12-31T23:30:00-01:00',
    '0001-01-01T00:00:00+01:00',
  ])('rejects %s', (text) => expect(parseTimestampMicros(text)).toBeUndefined());

  test('dates mean midnight UTC, and partitions are UTC date and hour', () => {
    expect(parseDateOrTimestampMicros('2024-02-29')).toBe(1709164800000000n);
    expect(parseDateOrTimestampMicros('2023-02-29')).toBeUndefined();
    expect(utcDateAndHour(parseTimestampMicros('2024-01-15T23:30:00-02:00') as bigint)).toEqual({
      date: '2024-01-16',
      hour: '01',
    });
  });
});
