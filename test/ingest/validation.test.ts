/**
 * Every field of every dataset, through the API core: each way it can be wrong gives a 422 naming that
 * field; each variant existing producers send is accepted. The cases are derived from the field kinds, so
 * a new field is covered by declaring it.
 */
import {
  createRegistry,
  DATASETS,
  type DatasetDefinition,
  type FieldKind,
  type FieldSpec,
  iotSensorEvents,
} from '../../schemas';
import { coreWith, exampleRecord, post } from './support';

const registry = createRegistry([...DATASETS, iotSensorEvents]);
const { core, memory } = coreWith({ registry });

/** Wrong values per kind, with the `type` the 422 entry must carry. */
const INVALID: Record<FieldKind, [unknown, string][]> = {
  string: [
    [42, 'string_type'],
    [true, 'string_type'],
    [{ a: 1 }, 'string_type'],
    [['x'], 'string_type'],
  ],
  timestamp: [
    ['yesterday', 'datetime_parsing'],
    ['2024-02-30T10:00:00', 'datetime_parsing'],
    ['2024-01-15T24:00:00', 'datetime_parsing'],
    ['2024-01-15T10:60:00', 'datetime_parsing'],
    ['2024-01-15T10:30:00+25:00', 'datetime_parsing'],
    ['2024-01-15', 'datetime_parsing'],
    ['15/01/2024 10:30', 'datetime_parsing'],
    ['', 'datetime_parsing'],
    [1705314600, 'string_type'],
  ],
  date_or_timestamp: [
    ['2024-13-01', 'date_parsing'],
    ['2023-02-29', 'date_parsing'],
    ['last week', 'date_parsing'],
    [20240110, 'string_type'],
  ],
  number: [
    ['21.5', 'finite_number'],
    [true, 'finite_number'],
    [[1], 'finite_number'],
  ],
  money: [
    ['ten', 'finite_number'],
    ['12.50', 'finite_number'],
    [false, 'finite_number'],
    [{ value: 1 }, 'finite_number'],
  ],
  currency: [
    ['DOLLARS', 'currency_code'],
    ['US', 'currency_code'],
    ['U$D', 'currency_code'],
    ['', 'currency_code'],
    [840, 'string_type'],
  ],
  json: [
    ['{"a":1}', 'dict_type'],
    [[1, 2], 'dict_type'],
    [3, 'dict_type'],
  ],
};

/** Values producers send that must be accepted, per kind. */
const VALID: Record<FieldKind, unknown[]> = {
  string: ['x', 'ünïcødé ✓', 'with spaces / slashes "quotes"'],
  timestamp: [
    '2024-01-15T10:30:00.123456', // Python datetime.isoformat(), microseconds, no offset (= UTC)
    '2024-01-15T10:30:00', // isoformat() when microsecond == 0
    '2024-01-15T10:30:00Z',
    '2024-01-15T10:30:00.123Z',
    '2024-01-15T10:30:00+02:00',
    '2024-01-15T10:30:00.123456-05:30',
    '2024-01-15T10:30:00+0000',
    '2024-01-15 10:30:00.5',
    '2024-02-29T23:59:59.999999999',
  ],
  date_or_timestamp: ['2024-01-10', '2024-01-10T08:00:00', '2024-01-10T08:00:00.000001+01:00', '2024-02-29'],
  number: [21.5, 0, -40, 1e-9, 12],
  money: [125.5, 100, 0, 0.01, 999999999.9999],
  currency: ['USD', 'eur', 'Gbp', 'JPY'],
  json: [{}, { firmware: '1.2.0', nested: { a: [1, 2] } }],
};

async function ingest(definition: DatasetDefinition, record: Record<string, unknown>) {
  const { response } = await core(post(definition.route, record));
  return { status: response.statusCode, body: JSON.parse(response.body) };
}

const fieldsOf = (d: DatasetDefinition) => Object.entries(d.fields) as [string, FieldSpec][];

describe.each([...DATASETS, iotSensorEvents].map((d) => [d.name, d] as const))('%s', (_name, definition) => {
  const valid = exampleRecord(definition);

  test('the example record is accepted', async () => {
    expect((await ingest(definition, valid)).status).toBe(200);
  });

  describe.each(fieldsOf(definition))('%s', (field, spec) => {
    test.each(INVALID[spec.kind])('rejects %j with 422 %s', async (value, type) => {
      const { status, body } = await ingest(definition, { ...valid, [field]: value });
      expect(status).toBe(422);
      expect(body.message).toBe(`1 validation error for ${definition.title}`);
      expect(body.detail).toEqual([{ loc: ['body', field], msg: expect.any(String), type }]);
    });

    test.each(VALID[spec.kind].map((v) => [v]))('accepts %j', async (value) => {
      const sendsBefore = memory.sends.length;
      const { status } = await ingest(definition, { ...valid, [field]: value });
      expect(status).toBe(200);
      const sent = memory.sends.at(-1);
      expect(memory.sends.length).toBe(sendsBefore + 1);
      expect(JSON.parse(sent?.messages[0]?.value ?? '{}')[field]).toEqual(value);
    });

    if (spec.required) {
      test('rejects it missing or null', async () => {
        const { [field]: _, ...without } = valid;
        expect((await ingest(definition, without)).body.detail).toEqual([
          { loc: ['body', field], msg: 'Field required', type: 'missing' },
        ]);
        const nulled = await ingest(definition, { ...valid, [field]: null });
        expect(nulled.status).toBe(422);
        expect(nulled.body.detail).toHaveLength(1);
        expect(nulled.body.detail[0].loc).toEqual(['body', field]);
      });
    } else {
      test('accepts it null or absent', async () => {
        const { [field]: _, ...without } = valid;
        expect((await ingest(definition, without)).status).toBe(200);
        expect((await ingest(definition, { ...valid, [field]: null })).status).toBe(200);
      });
    }

    if (spec.minLength) {
      test('rejects an empty string', async () => {
        const { body } = await ingest(definition, { ...valid, [field]: '' });
        expect(body.detail).toEqual([
          { loc: ['body', field], msg: expect.any(String), type: 'string_too_short' },
        ]);
      });
    }

    const minimum = spec.minimum;
    if (minimum !== undefined) {
      test(`rejects a value below ${spec.minimum}`, async () => {
        const { body } = await ingest(definition, { ...valid, [field]: minimum - 0.01 });
        expect(body.detail).toEqual([
          {
            loc: ['body', field],
            msg: `Input should be greater than or equal to ${spec.minimum}`,
            type: 'greater_than_equal',
          },
        ]);
      });
    }
  });

  test('reports every bad field at once, and counts them in the message', async () => {
    const broken = Object.fromEntries(
      fieldsOf(definition).map(([name, spec]) => [name, INVALID[spec.kind][0]?.[0]]),
    );
    const { status, body } = await ingest(definition, broken);
    expect(status).toBe(422);
    expect(body.detail.map((e: { loc: string[] }) => e.loc[1]).sort()).toEqual(
      Object.keys(definition.fields).sort(),
    );
    expect(body.message).toBe(
      `${Object.keys(definition.fields).length} validation errors for ${definition.title}`,
    );
  });
});

test('SPEC §3 producers: a Python-client transaction with nulls and an integer amount is accepted unchanged', async () => {
  const record = {
    transaction_id: 'txn-1',
    timestamp: '2024-01-15T10:30:00.123456',
    account_id: 'acc-1',
    amount: 100,
    currency: 'USD',
    transaction_type: 'debit',
    merchant_id: null,
    category: null,
  };
  const { status, body } = await ingest(DATASETS[0], record);
  expect({ status, body }).toEqual({
    status: 200,
    body: { message: 'Financial transaction ingested successfully', transaction_id: 'txn-1' },
  });
  expect(JSON.parse(memory.sends.at(-1)?.messages[0]?.value ?? '{}')).toEqual(record);
});
