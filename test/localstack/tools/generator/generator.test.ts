import { pythonIsoFormat, RecordFactory } from '../../../../localstack/tools/generator/records';
import { createRegistry, DATASETS, parseTimestampMicros } from '../../../../schemas';

describe('data generator', () => {
  const registry = createRegistry();

  it.each(DATASETS.map((d) => d.name))(
    'makes %s records the registry accepts, rejects or repeats',
    (name) => {
      const factory = new RecordFactory({ invalidShare: 0.1, duplicateShare: 0.05, seed: 7, runId: 'r1' });
      const dataset = registry.byName(name);
      if (!dataset) throw new Error(name);
      const records = Array.from({ length: 2_000 }, () => factory.next(name));
      const byKind = (kind: string) => records.filter((r) => r.kind === kind);

      for (const r of byKind('valid')) expect(dataset.validate(r.body)).toMatchObject({ ok: true });
      for (const r of byKind('invalid')) expect(dataset.validate(r.body).ok).toBe(false);
      const validIds = byKind('valid').map((r) => r.id);
      expect(new Set(validIds).size).toBe(validIds.length);
      for (const r of byKind('duplicate')) {
        expect(validIds).toContain(r.id);
        expect(dataset.validate(r.body).ok).toBe(true);
      }
      // Shares within a few points of the asked ones.
      expect(byKind('invalid').length / records.length).toBeCloseTo(0.1, 1);
      expect(byKind('duplicate').length / records.length).toBeCloseTo(0.05, 1);
    },
  );

  it('uses known values, the examples shapes and Python-style timestamps', () => {
    const factory = new RecordFactory({ invalidShare: 0, duplicateShare: 0, seed: 1, runId: 'abc' });
    const claim = factory.next('insurance_claims').body;
    expect(claim.claim_id).toMatch(/^clm-abc-\d{8}$/);
    expect(claim.policy_number).toMatch(/^POL-\d+$/);
    expect(['auto', 'health', 'home', 'life', 'property', 'travel']).toContain(claim.claim_type);
    expect(claim.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(claim.incident_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(claim.claim_amount as number).toBeGreaterThanOrEqual(0);
  });

  it('formats timestamps like datetime.isoformat() with microseconds', () => {
    const text = pythonIsoFormat(new Date('2024-01-15T10:30:00.123Z'), 456);
    expect(text).toBe('2024-01-15T10:30:00.123456');
    expect(parseTimestampMicros(text)).toBe(1705314600123456n);
  });

  it('gives separate runs distinct ids', () => {
    const a = new RecordFactory({ invalidShare: 0, duplicateShare: 0 }).next('financial_transactions');
    const b = new RecordFactory({ invalidShare: 0, duplicateShare: 0 }).next('financial_transactions');
    expect(a.id).not.toBe(b.id);
  });
});
