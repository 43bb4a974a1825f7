import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  createRegistry,
  definitionAt,
  definitionVersions,
  financialTransactions,
  recordJsonSchema,
  sinceProblems,
  validatorKey,
} from '../../schemas';
import { compileValidator, standaloneValidatorsSource } from '../../schemas/ajv-compile';
import { committedVersions, historyFile, historyProblems, historyText } from '../../schemas/history';
import { financialTransactionsV2 } from '../support/evolution';

const v2 = financialTransactionsV2;

const record = {
  transaction_id: 't-1',
  timestamp: '2024-01-15T10:30:00Z',
  account_id: 'a-1',
  amount: 12.5,
  currency: 'EUR',
  transaction_type: 'debit',
  channel: 'web',
};

describe('versions derived from `since`', () => {
  test('v1 is the definition minus the fields added later; the latest is the definition itself', () => {
    expect(definitionVersions(v2).map((d) => d.schemaVersion)).toEqual([1, 2]);
    expect(definitionAt(v2, 2)).toBe(v2);
    expect(definitionAt(v2, 1)).toEqual({ ...v2, schemaVersion: 1, fields: financialTransactions.fields });
    // Derived v1 is exactly what was published as v1.
    expect(recordJsonSchema(definitionAt(v2, 1))).toEqual(recordJsonSchema(financialTransactions));
    expect(() => definitionAt(v2, 3)).toThrow('financial_transactions has no version 3 (1..2)');
  });

  test('a since outside the versions, or on a required field, is a problem', () => {
    const wrong = (spec: object) => ({
      ...v2,
      fields: { ...v2.fields, channel: { ...v2.fields.channel, ...spec } },
    });
    expect(sinceProblems(v2)).toEqual([]);
    expect(sinceProblems(wrong({ since: 3 }))).toEqual([
      'financial_transactions: field "channel" has since 3, not a version in 1..2.',
    ]);
    expect(sinceProblems(wrong({ required: true }))).toEqual([
      'financial_transactions: field "channel" is required but added in v2; add it as optional.',
    ]);
  });

  test('the registry judges a record by its version: a field added later is ignored by v1', () => {
    const registry = createRegistry([v2], { compile: compileValidator });
    const dataset = registry.byName(v2.name);
    expect(dataset?.versions.map((v) => v.definition.schemaVersion)).toEqual([1, 2]);
    expect(dataset?.version(2)).toBe(dataset?.versions[1]);
    expect(dataset?.version(3)).toBeUndefined();
    expect(dataset?.version(1)?.accept(record)).toEqual({
      ok: true,
      record: expect.not.objectContaining({ channel: expect.anything() }),
    });
    expect(dataset?.accept(record)).toEqual({
      ok: true,
      record: expect.objectContaining({ channel: 'web' }),
    });
    // Each version's validator checks that version's schema: v1 knows no channel, so any value passes it.
    expect(dataset?.version(1)?.validate({ ...record, channel: 7 }).ok).toBe(true);
    expect(dataset?.validate({ ...record, channel: 7 }).ok).toBe(false);
  });

  test('precompiled validators: one per version, the latest under the dataset name', () => {
    const source = standaloneValidatorsSource([v2]);
    expect(validatorKey(v2, 1)).toBe('financial_transactions_v1');
    expect(source).toMatch(/exports\.financial_transactions_v1 = /);
    expect(source).toMatch(/exports\.financial_transactions = /);
    expect(source).toMatch(
      /"financial_transactions_v1":"[0-9a-f]{16}","financial_transactions":"[0-9a-f]{16}"/,
    );
  });
});

describe('the history check holds `since` to the published versions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  const file = historyFile(financialTransactions.name, 1, dir);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, historyText(financialTransactions));
  const committed = committedVersions(financialTransactions.name, dir);

  test('a v2 whose new field says since: 2 takes its place', () => {
    expect(historyProblems(v2, committed)).toEqual([]);
  });

  test('a v2 whose new field lacks since would make the API take it as part of v1', () => {
    const { since: _, ...channel } = v2.fields.channel;
    expect(historyProblems({ ...v2, fields: { ...v2.fields, channel } }, committed)).toEqual([
      "financial_transactions: v1 as derived from the fields' `since` differs from the published v1 " +
        '(not published then: channel). Set `since` on every field to the version that added it.',
    ]);
  });
});
