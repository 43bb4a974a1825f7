import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DATASETS, type DatasetDefinition, type FieldSpec, recordJsonSchema } from '../../schemas';
import { incompatibilities } from '../../schemas/compatibility';
import {
  committedVersions,
  HISTORY_DIR,
  historyFile,
  historyProblems,
  historyText,
} from '../../schemas/history';

const base = {
  name: 'orders',
  title: 'Order',
  label: 'Order',
  route: '/ingest-order',
  idField: 'order_id',
  eventTimeField: 'at',
  schemaVersion: 1,
  fields: {
    order_id: { kind: 'string', required: true, minLength: 1, description: 'id', example: 'o-1' },
    at: { kind: 'timestamp', required: true, description: 'when', example: '2024-01-01T00:00:00' },
    amount: { kind: 'money', required: true, minimum: 0, description: 'amount', example: 1 },
    status: {
      kind: 'string',
      required: true,
      knownValues: ['new', 'paid'],
      description: 's',
      example: 'new',
    },
    note: { kind: 'string', required: false, description: 'note', example: 'x' },
    currency: { kind: 'currency', required: true, description: 'ccy', example: 'EUR' },
  },
} as const satisfies DatasetDefinition;

/** v2 of `base`: its fields changed by `change` (undefined removes a field). */
function v2(change: Record<string, Partial<FieldSpec> | undefined>, top: Partial<DatasetDefinition> = {}) {
  const fields: Record<string, FieldSpec> = { ...base.fields };
  for (const [name, spec] of Object.entries(change)) {
    if (spec === undefined) delete fields[name];
    else fields[name] = { ...(fields[name] ?? { description: 'new', example: 'x' }), ...spec } as FieldSpec;
  }
  return { ...base, ...top, schemaVersion: 2, fields };
}

const check = (next: DatasetDefinition) => incompatibilities(recordJsonSchema(base), recordJsonSchema(next));

describe('incompatibilities: allowed changes', () => {
  test.each<[string, DatasetDefinition]>([
    ['no change', v2({})],
    ['a new optional field', v2({ channel: { kind: 'string', required: false } })],
    ['a new known value', v2({ status: { knownValues: ['new', 'paid', 'refunded'] } })],
    ['widening timestamp to date_or_timestamp', v2({ at: { kind: 'date_or_timestamp' } })],
    ['widening currency to string', v2({ currency: { kind: 'string' } })],
    ['a required field becoming optional', v2({ amount: { required: false } })],
    ['a lower minimum', v2({ amount: { minimum: -10 } })],
    ['dropping a minLength', v2({ order_id: { minLength: undefined } })],
    ['dropping the known values', v2({ status: { knownValues: undefined } })],
    ['a new description', v2({ note: { description: 'free text' } })],
  ])('%s', (_, next) => {
    expect(check(next)).toEqual([]);
  });
});

describe('incompatibilities: refused changes say what to do instead', () => {
  test.each<[string, DatasetDefinition, RegExp]>([
    ['removing a field', v2({ note: undefined }), /"note" was removed.*Instead: keep the field/],
    [
      'renaming a field',
      v2({ note: undefined, comment: { kind: 'string', required: false } }),
      /"note" was removed \(or renamed\).*a rename is a remove plus an add: add a new optional field and deprecate/,
    ],
    [
      'changing a kind (money to string)',
      v2({ amount: { kind: 'string', minimum: undefined } }),
      /"amount" changed kind from money to string.*Instead: add a new optional field of kind string/,
    ],
    [
      'making an optional field required',
      v2({ note: { required: true } }),
      /"note" became required.*keep it optional/,
    ],
    [
      'adding a required field',
      v2({ channel: { kind: 'string', required: true } }),
      /new field "channel" is required.*add it as optional/,
    ],
    [
      'removing a known value',
      v2({ status: { knownValues: ['new'] } }),
      /no longer knows "paid".*deprecated/,
    ],
    ['raising a minimum', v2({ amount: { minimum: 1 } }), /narrowed its minimum from 0 to 1/],
    ['adding a minLength', v2({ note: { minLength: 3 } }), /narrowed its minLength from none to 3/],
    ['changing the id field', v2({}, { idField: 'at' }), /x-id-field changed.*Instead: create a new dataset/],
  ])('%s', (_, next, message) => {
    expect(check(next)).toEqual([expect.stringMatching(message)]);
  });

  test('narrowing a kind (date_or_timestamp back to timestamp)', () => {
    const widened = recordJsonSchema(v2({ at: { kind: 'date_or_timestamp' } }));
    expect(incompatibilities(widened, recordJsonSchema(base))).toEqual([
      expect.stringMatching(
        /"at" changed kind from date_or_timestamp to timestamp, which the lake cannot widen/,
      ),
    ]);
  });
});

describe('history of schema versions', () => {
  test('every dataset has its current version committed, unchanged and compatible with every earlier one', () => {
    for (const d of DATASETS) {
      const committed = committedVersions(d.name);
      expect(committed.map((c) => c.version)).toContain(d.schemaVersion);
      expect(historyProblems(d, committed)).toEqual([]);
    }
  });

  test('every committed dataset is still defined (removing a dataset is a removal too)', () => {
    const defined = DATASETS.map((d) => d.name).sort();
    expect(readdirSync(HISTORY_DIR).sort()).toEqual(defined);
  });

  describe('against a published v1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'history-'));
    const file = historyFile(base.name, 1, dir);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, historyText(base));
    const committed = committedVersions(base.name, dir);
    const changedNote = { ...base.fields, note: { ...base.fields.note, description: 'changed' } };

    test('v1 itself and a compatible v2 take their place', () => {
      expect(committed.map((c) => c.version)).toEqual([1]);
      expect(historyProblems(base, committed)).toEqual([]);
      expect(historyProblems(v2({ note: { description: 'changed' } }), committed)).toEqual([]);
    });

    test('a changed definition under the published version must bump schemaVersion', () => {
      expect(historyProblems({ ...base, fields: changedNote }, committed)).toEqual([
        expect.stringMatching(/differs from the published v1.*bump schemaVersion/),
      ]);
    });

    test('a version older than the published one is refused', () => {
      expect(historyProblems({ ...base, schemaVersion: 0 }, committed)).toEqual([
        expect.stringMatching(/older than the published v1/),
      ]);
    });

    test('an incompatible v2 is refused with what to do instead', () => {
      expect(historyProblems(v2({ note: undefined }), committed)).toEqual([
        expect.stringMatching(
          /^orders v2 is incompatible with the published v1: field "note" was removed.*Instead:/,
        ),
      ]);
    });
  });
});
