/**
 * The API contract against the replaced service's own validator: a generated corpus of bodies goes once
 * through pydantic (test/lambdas/ingest/oracle/pydantic_oracle.py, the seed's two models run as FastAPI ran them)
 * and through our ingest core. Both must agree on accept/reject, on the locations and types of the errors,
 * and on the normalised values, outside the deliberate exceptions the README documents:
 * - non-finite numbers (NaN/Infinity literals, "nan"/"inf" strings, overflowing numbers) are refused;
 * - strings that are not well-formed Unicode (lone surrogates) are refused in string fields too;
 * - date-times that fall outside years 1–9999 once moved to UTC are refused (Python cannot hold them);
 * - error types may differ inside one family: datetime_parsing ~ datetime_from_date_parsing, and an
 *   integer literal beyond float range is finite_number here, float_type there.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createRegistry } from '../../../schemas';
import { coreWith, post } from './support';

const ROOT = join(__dirname, '..', '..', '..');
const ORACLE = join(__dirname, 'oracle', 'pydantic_oracle.py');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');

type Model = 'FinancialTransaction' | 'InsuranceClaim';
interface Case {
  readonly model: Model;
  readonly body: string;
}
type OracleError = { loc: (string | number)[]; type: string };
type Verdict =
  | { ok: true; record: Record<string, unknown> | null; unrepresentable_in_utc?: boolean }
  | { ok: false; errors: OracleError[] };

const MODELS: Record<Model, { dataset: string; route: string; base: Record<string, unknown> }> = {
  FinancialTransaction: {
    dataset: 'financial_transactions',
    route: '/ingest-financial-transaction',
    base: {
      transaction_id: 'txn-000123',
      timestamp: '2024-01-15T10:30:00.123456',
      account_id: 'acc-42',
      amount: 125.5,
      currency: 'USD',
      transaction_type: 'debit',
      merchant_id: 'm-7',
      category: null,
    },
  },
  InsuranceClaim: {
    dataset: 'insurance_claims',
    route: '/ingest-insurance-claim',
    base: {
      claim_id: 'clm-000987',
      timestamp: '2024-01-15T10:30:00.123456',
      policy_number: 'POL-1001',
      claim_amount: 2500,
      claim_type: 'auto',
      claim_status: 'submitted',
      customer_id: 'cust-9',
      incident_date: '2024-01-10T00:00:00',
    },
  },
};

/** A value spliced into a body as raw JSON text, for what JSON.stringify cannot write. */
class Raw {
  constructor(readonly text: string) {}
}
const MISSING = Symbol('missing');
type Value = unknown;

const STRINGS: Value[] = [
  '',
  ' ',
  'x',
  ' padded ',
  'üñîçødé',
  '日本語',
  '😀',
  'a\u0000b',
  'line\nbreak',
  'x'.repeat(1000),
  'USD',
  'usd',
  'US1',
  'EURO',
  '\ud800',
  '\udc00x',
  'e\u0301',
  '\u00e9',
];
const NUMBERS: Value[] = [
  0,
  -0,
  1,
  -1,
  12.5,
  -12.5,
  1e-7,
  1e300,
  1.7976931348623157e308,
  new Raw('9007199254740993'),
  new Raw('1e400'),
  new Raw(`1${'0'.repeat(400)}`),
  new Raw('-0.0'),
  new Raw('1E5'),
  new Raw('NaN'),
  new Raw('Infinity'),
  new Raw('-Infinity'),
];
const NUMERIC_STRINGS: Value[] = [
  '12.50',
  ' 12.5 ',
  '\t12.5\n',
  '1e3',
  '1E5',
  '1_000',
  '1__0',
  '_1',
  '1_',
  '+_1',
  '1_.5',
  '1e1_0',
  '+5',
  '.5',
  '5.',
  '-0',
  '00012',
  '0x10',
  'nan',
  'NaN',
  'inf',
  '-Infinity',
  '1e400',
  '',
  '1,5',
  '١٢',
  '\u00a012.5',
  '\ufeff5',
  '\u200b12',
  '\u001c5',
  'twelve',
  '1 000',
  '1e',
  '--1',
];
const OTHER_TYPES: Value[] = [true, false, null, MISSING, [], {}, [1], { a: 1 }];
const DATETIME_STRINGS: Value[] = [
  '2024-01-15T10:30:00.123456',
  '2024-01-15T10:30:00',
  '2024-01-15T10:30:00Z',
  '2024-01-15t10:30:00z',
  '2024-01-15 10:30',
  '2024-01-15_10:30:00',
  '2024-01-15T10:30',
  '2024-01-15T10',
  '2024-01-15',
  '2024-02-29',
  '2023-02-29',
  '2024-02-30',
  '2024-1-5',
  '20240115',
  '2024-01-15T10:30:00.1234567',
  '2024-01-15T10:30:00.123456789123',
  '2024-01-15T10:30:00,5',
  '2024-01-15T10:30:00.',
  '2024-01-15T10:30:00+01:00',
  '2024-01-15T10:30:00+0100',
  '2024-01-15T10:30:00+01',
  '2024-01-15T10:30:00-00:00',
  '2024-01-15T10:30:00.123+05:30',
  '2024-01-15T10:30:00+14:00',
  '2024-01-15T10:30:00-23:59',
  '2024-01-15T10:30:00+24:00',
  '2024-01-15T10:30:00 +01:00',
  '2024-01-15T10:30:00GMT',
  '2024-01-15T24:00:00',
  '2024-01-15T10:60:00',
  '2024-01-15T10:30:60',
  '2024-01-15T1:30:00',
  ' 2024-01-15',
  '2024-01-15T10:30:00Z ',
  '2024-W03-1',
  '+2024-01-15',
  '12024-01-15',
  '0000-01-01T00:00:00',
  '0000-01-01',
  '0001-01-01',
  '0001-01-01T00:00:00+01:00',
  '0001-01-01T00:00:00-01:00',
  '0012-03-04T05:06:07.000008',
  '0099-12-31T23:59:59',
  '0050-06-15T12:00:00+05:00',
  '1899-12-31T23:59:59.999999',
  '1969-12-31T23:59:59.999999Z',
  '9999-12-31',
  '9999-12-31T23:59:59.999999',
  '9999-12-31T23:30:00-01:00',
  '9999-12-31T23:59:59+00:01',
  'yesterday',
  '15/01/2024 10:30',
];
const EPOCHS: Value[] = [
  0,
  -1,
  1705314600,
  1705314600123,
  1705314600.5,
  -0.5,
  -1.25,
  2e10,
  new Raw('20000000001'),
  -2e10,
  -20000000001,
  99999999999,
  253402300799,
  253402300799999,
  253402300800000,
  -62135596800000,
  -62135596801000,
  1e15,
  1e20,
  new Raw('1705314600.1234567'),
  new Raw('1705314600123.4567'),
  new Raw('1705314600.0'),
  '1705314600',
  '1705314600123',
  '1705314600.5',
  '1705314600.1234567',
  '1705314600.9999999',
  '12.5',
  '.5',
  '-0.5',
  '-12',
  '+1705314600',
  '00001705314600',
  '1705314600.',
  ' 1705314600',
  '1705314600 ',
  '1e9',
  '1_705_314_600',
  '-',
];

const ALL_VALUES = [
  ...STRINGS,
  ...NUMBERS,
  ...NUMERIC_STRINGS,
  ...OTHER_TYPES,
  ...DATETIME_STRINGS,
  ...EPOCHS,
];

function bodyText(record: Record<string, Value>): string {
  const parts = Object.entries(record)
    .filter(([, v]) => v !== MISSING)
    .map(([k, v]) => `${JSON.stringify(k)}:${v instanceof Raw ? v.text : JSON.stringify(v)}`);
  return `{${parts.join(',')}}`;
}

/** A small seeded generator, so the corpus is the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): Case[] {
  const cases: Case[] = [];
  for (const [model, { base }] of Object.entries(MODELS) as [Model, (typeof MODELS)[Model]][]) {
    cases.push({ model, body: bodyText(base) });
    // Every value of every pool in every field.
    for (const field of Object.keys(base))
      for (const value of ALL_VALUES) cases.push({ model, body: bodyText({ ...base, [field]: value }) });
    // Whole bodies: missing, not objects, not JSON, extra and duplicate fields.
    for (const body of [
      '',
      ' ',
      'null',
      '5',
      '"x"',
      '[]',
      'true',
      '{}',
      '{"a":1}',
      '{',
      "{'transaction_id': 'x'}",
      `${bodyText(base).slice(0, -1)},}`,
      `${bodyText(base)} x`,
      `[${bodyText(base)}]`,
      bodyText({ ...base, extra: 'ignored', nested: { deep: [1, { x: null }] } }),
      bodyText({ ...base, __proto__x: 1, constructor: 'c' }),
      `${bodyText(base).slice(0, -1)},${JSON.stringify(Object.keys(base)[0])}:"second-wins"}`,
      `${bodyText(base).slice(0, -1)},"extra":${'['.repeat(200)}${']'.repeat(200)}}`,
    ])
      cases.push({ model, body });
    // Realistic producers: each field drawn at random, mostly from what a client would send.
    const random = mulberry32(model === 'FinancialTransaction' ? 12 : 10);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
    for (let i = 0; i < 150; i++) {
      const record: Record<string, Value> = {};
      for (const [field, value] of Object.entries(base)) {
        const r = random();
        record[field] =
          r < 0.55
            ? value
            : r < 0.7
              ? pick(typeof value === 'number' ? NUMERIC_STRINGS : DATETIME_STRINGS)
              : r < 0.85
                ? pick(typeof value === 'number' ? NUMBERS : EPOCHS)
                : pick(ALL_VALUES);
      }
      cases.push({ model, body: bodyText(record) });
    }
  }
  return cases;
}

function runOracle(cases: readonly Case[]): Verdict[] {
  const out = spawnSync(PYTHON, [ORACLE], {
    input: cases.map((c) => JSON.stringify(c)).join('\n'),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (out.status !== 0)
    throw new Error(
      `pydantic oracle failed (pip install -r requirements-test.txt?): ${out.stderr || out.error}`,
    );
  return out.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Verdict);
}

const LONE_SURROGATE = /\p{Cs}/u;
const SAME_FAMILY: Record<string, string> = {
  datetime_from_date_parsing: 'datetime_parsing',
  // Integer literals beyond 64 bits: pydantic cannot take them as numbers, JSON.parse rounds them.
  datetime_type: 'datetime_parsing',
  float_type: 'finite_number',
};
const family = (type: string) => SAME_FAMILY[type] ?? type;

function jsonParses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Our errors for exception values (only counted where pydantic rejected the body for other reasons). */
const isExceptionError = (e: OracleError & { msg?: string }) =>
  e.type === 'finite_number' || e.type === 'string_unicode' || Boolean(e.msg?.includes('outside 0001'));

/** The documented exception a pydantic-accepted record falls under, if any: we must then refuse it. */
function exception(verdict: Verdict, body: string): string | undefined {
  if (!verdict.ok)
    return jsonParses(body) || verdict.errors[0]?.type === 'json_invalid' ? undefined : 'non-finite literal';
  if (verdict.unrepresentable_in_utc) return 'outside years 1-9999 in UTC';
  const values = Object.values(verdict.record ?? {});
  if (values.some((v) => typeof v === 'object' && v !== null && 'non_finite' in v))
    return 'non-finite number';
  if (values.some((v) => typeof v === 'string' && LONE_SURROGATE.test(v))) return 'lone surrogate';
  return undefined;
}

const count = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

describe('the API contract, with pydantic as the oracle', () => {
  const cases = corpus();
  const verdicts = runOracle(cases);
  const registry = createRegistry();

  test(`agrees with the replaced service on ${cases.length} bodies`, async () => {
    const { core } = coreWith({ registry });
    const disagreements: string[] = [];
    const exceptions = new Map<string, number>();
    let accepted = 0;
    for (const [i, c] of cases.entries()) {
      const verdict = verdicts[i] as Verdict;
      const { dataset, route } = MODELS[c.model];
      const { response } = await core(post(route, c.body));
      const ours = JSON.parse(response.body) as { detail?: OracleError[] };
      const disagree = (why: string) => disagreements.push(`${c.model} ${c.body.slice(0, 200)}: ${why}`);
      const why = exception(verdict, c.body);
      if (why) {
        count(exceptions, why);
        if (response.statusCode !== 422)
          disagree(`exception "${why}" must be refused, got ${response.statusCode}`);
        continue;
      }
      if (verdict.ok) {
        accepted += 1;
        if (response.statusCode !== 200) {
          disagree(`pydantic accepts, we answer ${response.statusCode} ${response.body.slice(0, 300)}`);
          continue;
        }
        const record = registry.byName(dataset)?.accept(JSON.parse(c.body));
        // Compared as JSON text, as Kafka carries them (-0 and 0 are both 0 there).
        const normalised = JSON.stringify(record?.ok ? record.record : undefined);
        if (normalised !== JSON.stringify(verdict.record))
          disagree(`values differ: ours ${normalised}, pydantic ${JSON.stringify(verdict.record)}`);
        continue;
      }
      if (response.statusCode !== 422) {
        disagree(`pydantic rejects ${JSON.stringify(verdict.errors)}, we answer ${response.statusCode}`);
        continue;
      }
      // A JSON decode error's position is the parser's own; the rest must match exactly.
      const key = (e: OracleError) =>
        e.type === 'json_invalid' ? 'body json_invalid' : `${e.loc.join('.')} ${family(e.type)}`;
      const theirs = verdict.errors.map(key).sort();
      const theirLocs = new Set(verdict.errors.map((e) => e.loc.join('.')));
      const extra = (ours.detail ?? []).filter((e) => !theirLocs.has(e.loc.join('.')) && isExceptionError(e));
      if (extra.length > 0) count(exceptions, 'exception value beside other errors');
      const mine = (ours.detail ?? [])
        .filter((e) => !extra.includes(e))
        .map(key)
        .sort();
      if (!isDeepStrictEqual(mine, theirs))
        disagree(`errors differ: ours ${JSON.stringify(mine)}, pydantic ${JSON.stringify(theirs)}`);
    }
    const excepted = [...exceptions.values()].reduce((a, b) => a + b, 0);
    console.log(
      `differential corpus: ${cases.length} bodies; pydantic accepts ${accepted}, rejects ${
        cases.length - accepted - excepted
      }; documented exceptions ${excepted} (${[...exceptions].map(([k, n]) => `${k}: ${n}`).join(', ')}); ` +
        `agreement ${cases.length - excepted - disagreements.length}/${cases.length - excepted}`,
    );
    expect(disagreements.slice(0, 40)).toEqual([]);
  });
});
