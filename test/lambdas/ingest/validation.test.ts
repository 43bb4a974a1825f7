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
} from '../../../schemas';
import { coreWith, exampleRecord, post } from './support';

const registry = createRegistry(DATASETS);
const { core, memory } = coreWith({ registry });

/** Wrong values per kind, with pydantic's `type` the 422 entry must carry. */
const BAD_DATETIMES: [unknown, string][] = [
  ['yesterday', 'datetime_from_date_parsing'],
  ['2024-02-30T10:00:00', 'datetime_from_date_parsing'],
  ['2024-01-15T24:00:00', 'datetime_from_date_parsing'],
  ['2024-01-15T10:60:00', 'datetime_from_date_parsing'],
  ['2024-01-15T10:30:00+25:00', 'datetime_from_date_parsing'],
  ['15/01/2024 10:30', 'datetime_from_date_parsing'],
  ['', 'datetime_from_date_parsing'],
  ['0000-01-01T00:00:00', 'datetime_from_date_parsing'],
  // Valid local times that leave years 1-9999 in UTC: Python cannot hold them, the lake neither.
  ['9999-12-31T23:30:00-01:00', 'datetime_parsing'],
  ['0001-01-01T00:00:00+01:00', 'datetime_parsing'],
  [1e20, 'datetime_parsing'],
  [253402300800000, 'datetime_parsing'],
  [true, 'datetime_type'],
  [{}, 'datetime_type'],
  ['\ud800', 'string_unicode'],
];
const BAD_NUMBERS: [unknown, string][] = [
  ['ten', 'float_parsing'],
  ['1,5', 'float_parsing'],
  ['1__0', 'float_parsing'],
  [{ value: 1 }, 'float_type'],
  [[1], 'float_type'],
  ['nan', 'finite_number'],
  ['-Infinity', 'finite_number'],
  ['1e400', 'finite_number'],
];
const INVALID: Record<FieldKind, [unknown, string][]> = {
  string: [
    [42, 'string_type'],
    [true, 'string_type'],
    [{ a: 1 }, 'string_type'],
    [['x'], 'string_type'],
    ['\ud800', 'string_unicode'],
    ['x\udc00', 'string_unicode'],
  ],
  timestamp: BAD_DATETIMES,
  date_or_timestamp: BAD_DATETIMES,
  number: BAD_NUMBERS,
  money: BAD_NUMBERS,
  currency: [
    [840, 'string_type'],
    [false, 'string_type'],
  ],
  json: [
    ['{"a":1}', 'dict_type'],
    [[1, 2], 'dict_type'],
    [3, 'dict_type'],
  ],
};

/** Values producers send that must be accepted, per kind, with the canonical value Kafka gets. */
const DATETIMES: [unknown, string][] = [
  ['2024-01-15T10:30:00.123456', '2024-01-15T10:30:00.123456Z'], // Python isoformat(), no offset = UTC
  ['2024-01-15T10:30:00', '2024-01-15T10:30:00.000000Z'],
  ['2024-01-15T10:30:00Z', '2024-01-15T10:30:00.000000Z'],
  ['2024-01-15T10:30:00.123Z', '2024-01-15T10:30:00.123000Z'],
  ['2024-01-15T10:30:00+02:00', '2024-01-15T08:30:00.000000Z'],
  ['2024-01-15T10:30:00.123456-05:30', '2024-01-15T16:00:00.123456Z'],
  ['2024-01-15T10:30:00+0000', '2024-01-15T10:30:00.000000Z'],
  ['2024-01-15 10:30:00.5', '2024-01-15T10:30:00.500000Z'],
  ['2024-02-29T23:59:59.999999999', '2024-02-29T23:59:59.999999Z'],
  ['2024-01-15', '2024-01-15T00:00:00.000000Z'],
  [1705314600, '2024-01-15T10:30:00.000000Z'],
  [1705314600123, '2024-01-15T10:30:00.123000Z'],
  [1705314600.5, '2024-01-15T10:30:00.500000Z'],
  ['1705314600', '2024-01-15T10:30:00.000000Z'],
  [-1, '1969-12-31T23:59:59.000000Z'],
  // Years 1-99 stay themselves (Date.UTC would make them 1901-1999).
  ['0001-01-01T00:00:00', '0001-01-01T00:00:00.000000Z'],
  ['0012-03-04T05:06:07.000008', '0012-03-04T05:06:07.000008Z'],
  ['0050-06-15T12:00:00+05:00', '0050-06-15T07:00:00.000000Z'],
  ['0099-12-31T23:59:59', '0099-12-31T23:59:59.000000Z'],
  ['0001-01-01T00:00:00-01:00', '0001-01-01T01:00:00.000000Z'],
  ['9999-12-31T23:59:59.999999', '9999-12-31T23:59:59.999999Z'],
  ['9999-12-31T23:30:00+01:00', '9999-12-31T22:30:00.000000Z'],
];
const NUMBERS: [unknown, number][] = [
  [21.5, 21.5],
  [0, 0],
  [-40, -40],
  [1e-9, 1e-9],
  ['12.50', 12.5], // what Python's Decimal often becomes
  [' 12.5 ', 12.5],
  ['1_000', 1000],
  ['1e3', 1000],
  [true, 1],
  [false, 0],
];
const VALID: Record<FieldKind, [unknown, unknown][]> = {
  string: [
    ['x', 'x'],
    ['ünïcødé ✓ 😀', 'ünïcødé ✓ 😀'],
    ['with spaces / slashes "quotes"', 'with spaces / slashes "quotes"'],
    // Never trimmed nor Unicode-normalised: two different ids stay two keys.
    [' x ', ' x '],
    ['e\u0301', 'e\u0301'],
    ['', ''],
  ],
  timestamp: DATETIMES,
  date_or_timestamp: DATETIMES,
  number: NUMBERS,
  money: NUMBERS,
  currency: [
    ['USD', 'USD'],
    ['eur', 'eur'],
    ['DOLLARS', 'DOLLARS'],
    ['', ''],
  ],
  json: [
    [{}, {}],
    [
      { firmware: '1.2.0', nested: { a: [1, 2] } },
      { firmware: '1.2.0', nested: { a: [1, 2] } },
    ],
  ],
};

async function ingest(definition: DatasetDefinition, record: Record<string, unknown>) {
  const { response } = await core(post(definition.route, record));
  return { status: response.statusCode, body: JSON.parse(response.body) };
}

const fieldsOf = (d: DatasetDefinition) => Object.entries(d.fields) as [string, FieldSpec][];

describe.each(DATASETS.map((d) => [d.name, d] as const))('%s', (_name, definition) => {
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

    test.each(VALID[spec.kind])('accepts %j as %j', async (value, canonical) => {
      const sendsBefore = memory.sends.length;
      const { status } = await ingest(definition, { ...valid, [field]: value });
      expect(status).toBe(200);
      const sent = memory.sends.at(-1);
      expect(memory.sends.length).toBe(sendsBefore + 1);
      expect(JSON.parse(sent?.messages[0]?.value ?? '{}')[field]).toEqual(canonical);
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

    const minimum = spec.minimum;
    if (spec.minLength !== undefined || minimum !== undefined) {
      test('accepts what breaks its quality rule: the curated zone quarantines it', async () => {
        const value = minimum !== undefined ? minimum - 0.01 : '';
        expect((await ingest(definition, { ...valid, [field]: value })).status).toBe(200);
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

test('producers of the replaced service (README.md#data-contracts): a Python-client transaction with nulls and an integer amount is accepted, in canonical form', async () => {
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
  expect(JSON.parse(memory.sends.at(-1)?.messages[0]?.value ?? '{}')).toEqual({
    ...record,
    timestamp: '2024-01-15T10:30:00.123456Z',
  });
});
