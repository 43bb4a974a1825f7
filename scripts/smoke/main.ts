/**
 * `npm run smoke -- --env <dev|staging|prod|hybrid|local> [--records N] [--invalid N] [--timeout-seconds S]`
 *
 * Deployed environments: the API URL, the smoke producer's API key id and the buckets come from the
 * ingestion stack's outputs, the key's value from API Gateway (AWS SDK, with the caller's credentials — in
 * CI the deploy role); hybrid's from the AWS emulator at AWS_ENDPOINT_URL. Local: the local platform's URLs (LAKEHOUSE_API_URL or port, AWS_ENDPOINT_URL or
 * port) and buckets. Prints a JSON report; exits 1 unless every accepted record reached raw Parquet and
 * nothing rejected reached the lake. Latency above the SLO is reported, not fatal (a fresh deploy's cold
 * starts are not the steady state the SLO describes).
 */
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { deployableConfig, environmentConfig } from '../../lib/config/environments';
import { bucketName } from '../../lib/config/lake';
import { localSettings } from '../../localstack/settings';
import { DATASETS } from '../../schemas';
import { runSmoke, type SmokeTarget } from './core';
import { deployedTarget, ingestionOutputs } from './deployed';

const { values } = parseArgs({
  options: {
    env: { type: 'string' },
    records: { type: 'string', default: '10' },
    invalid: { type: 'string', default: '3' },
    'timeout-seconds': { type: 'string', default: '120' },
  },
});

async function target(envName: string): Promise<SmokeTarget> {
  const config = environmentConfig(envName);
  if (config.name === 'local') {
    const local = localSettings();
    const endpoint = process.env.AWS_ENDPOINT_URL ?? `http://127.0.0.1:${local.awsPort}`;
    return {
      apiUrl: local.apiUrl,
      s3: new S3Client({
        endpoint,
        region: config.region,
        forcePathStyle: true,
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
        },
      }),
      rawBucket: bucketName(config, 'raw'),
      quarantineBucket: bucketName(config, 'quarantine'),
    };
  }
  const deployed = deployableConfig(envName);
  const emulator = deployed.name === 'hybrid' ? process.env.AWS_ENDPOINT_URL : undefined;
  if (deployed.name === 'hybrid' && !emulator) {
    throw new Error(
      'hybrid lives in an AWS emulator: set AWS_ENDPOINT_URL (npm run hybrid -- --keep prints it)',
    );
  }
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return deployedTarget(
    deployed,
    await ingestionOutputs(deployed),
    emulator ? { endpoint: emulator, credentials } : undefined,
  );
}

async function main(): Promise<void> {
  if (!values.env) throw new Error('Usage: npm run smoke -- --env <dev|staging|prod|hybrid|local>');
  const config = environmentConfig(values.env);
  const smokeTarget = await target(values.env);
  const report = await runSmoke(smokeTarget, {
    datasets: DATASETS,
    validPerDataset: Number(values.records),
    invalidPerDataset: Number(values.invalid),
    timeoutMs: Number(values['timeout-seconds']) * 1000,
    sloMs: config.alarms.ingestLatencyP99Ms,
    log: (line) => console.error(line),
  });
  smokeTarget.s3.destroy();
  console.log(JSON.stringify(report, null, 2));
  const latency = report.latencyMs
    ? `p50 ${report.latencyMs.p50} ms, max ${report.latencyMs.max} ms`
    : 'none';
  console.error(
    `smoke ${values.env}: ${report.ok ? 'PASSED' : 'FAILED'} — ${report.arrived}/${report.accepted} accepted records in raw Parquet; ` +
      `accept → raw ${latency} (SLO ${report.sloMs} ms: ${report.withinSlo ? 'met' : 'missed'}); ` +
      `${report.deletedObjects} objects cleaned up, ${report.sharedObjects} shared objects kept`,
  );
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((error: Error) => {
  console.error(`smoke: ${error.message}`);
  process.exitCode = 1;
});
