import {
  ingestTimeMs,
  LatencyHistogram,
  latencyPercentile,
  throughput,
} from '../../../../localstack/tools/lake/latency';

describe('accept-to-Parquet latency', () => {
  it('gives nearest-rank percentiles at 10 ms resolution', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 100; i += 1) h.add(i * 10 - 5, 0, 1_000); // 5, 15, ..., 995 ms
    const s = h.snapshot();
    expect(latencyPercentile(s, 50)).toBe(500);
    expect(latencyPercentile(s, 99)).toBe(990);
    expect(latencyPercentile(s, 100)).toBe(1_000);
    expect(latencyPercentile(new LatencyHistogram().snapshot(), 50)).toBeUndefined();
  });

  it('merges snapshots from the sink process and measures throughput from first accept to last write', () => {
    const a = new LatencyHistogram();
    a.add(100, 1_000, 1_100);
    const b = new LatencyHistogram();
    b.add(300, 1_500, 1_800);
    b.add(1_000, 1_000, 2_000);
    const total = new LatencyHistogram();
    total.merge(a.snapshot());
    total.merge(b.snapshot());
    expect(total.count).toBe(3);
    expect(throughput(total.snapshot())).toBe(3);
    expect(total.drain().count).toBe(3);
    expect(total.count).toBe(0);
  });

  it('reads the ingest time out of the ingest-time header', () => {
    const at = '2024-01-15T10:31:00.250Z';
    expect(ingestTimeMs({ 'ingest-time': Buffer.from(at) })).toBe(Date.UTC(2024, 0, 15, 10, 31, 0, 250));
    expect(ingestTimeMs({ 'ingest-time': ['2020-01-01T00:00:00Z', at] })).toBe(Date.parse(at));
    expect(ingestTimeMs({ 'ingest-time': 'not a time' })).toBeUndefined();
    expect(ingestTimeMs({})).toBeUndefined();
    expect(ingestTimeMs(undefined)).toBeUndefined();
  });
});
