import { GetObjectCommand, PutObjectCommand, S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import { startS3FaultProxy } from '../../../localstack/services/s3-fault-proxy';
import { awsEndpoint, awsRegion, createTestBucket } from '../../support/services';

/** The fault proxy in front of the real emulator: S3's own errors at the configured share, switchable live. */
it('fails the configured share of requests with S3 errors, adds latency, and is switched at run time', async () => {
  const bucket = await createTestBucket('faults');
  const proxy = await startS3FaultProxy({ target: awsEndpoint(), faults: { errorShare: 0.5 }, seed: 7 });
  // One attempt per call: the SDK's own retries would hide the injected errors.
  const s3 = new S3Client({ endpoint: proxy.url, region: awsRegion(), maxAttempts: 1, forcePathStyle: true });
  const put = (i: number) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i}`, Body: `v${i}` })).then(
      () => 'ok',
      (e: S3ServiceException) => `${e.$metadata.httpStatusCode} ${e.name}`,
    );
  try {
    const outcomes = [];
    for (let i = 0; i < 40; i++) outcomes.push(await put(i));
    const failed = outcomes.filter((o) => o !== 'ok');
    expect(new Set(failed)).toEqual(new Set(['503 SlowDown']));
    expect(failed.length).toBeGreaterThan(5);
    expect(failed.length).toBeLessThan(35);
    expect(proxy.counts()).toEqual({ forwarded: 40 - failed.length, failed: failed.length });

    // From another process, as the chaos harness would: all requests fail with 500, then none, with latency.
    const control = async (body: object) =>
      (await fetch(`${proxy.url}/__faults`, { method: 'POST', body: JSON.stringify(body) })).json();
    expect(await control({ errorShare: 1, status: 500 })).toMatchObject({ errorShare: 1, status: 500 });
    expect(await put(100)).toBe('500 InternalError');
    await control({ errorShare: 0, latencyMs: 200 });
    const started = performance.now();
    expect(await put(101)).toBe('ok');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k101' }));
    expect(await Body?.transformToString()).toBe('v101');
  } finally {
    s3.destroy();
    await proxy.close();
  }
});
