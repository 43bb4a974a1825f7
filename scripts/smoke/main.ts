/**
 * `npm run smoke -- --env <dev|staging|prod|local> [--records N] [--invalid N] [--timeout-seconds S]`
 *
 * Deployed environments: the API URL, the smoke producer's API key id and the buckets come from the
 * ingestion stack's outputs, the key's value from API Gateway (AWS CLI, with the caller's credentials — in
 * CI the deploy role). Local: the local platform's URLs (LAKEHOUSE_API_URL or port, AWS_ENDPOINT_URL or
 * port) and buckets. Prints a JSON report; exits 1 unless every accepted record reached raw Parquet and
 * nothing rejected reached the lake. Latency above the SLO is reported, not fatal (a fresh deploy's cold
 * starts are not the steady state the SLO describes).
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { environmentConfig } from '../../lib/config/environments';
import { bucketName } from '../../lib/config/lake';
import { INGESTION_OUTPUTS, ingestionStackName } from '../../lib/stacks/outputs';
import { localSettings } from '../../localstack/settings';
import { DATASETS } from '../../schemas';
import { runSmoke, type SmokeTarget } from './core';

const { values } = parseArgs({
  options: {
    env: { type: 'string' },
    records: { type: 'string', default: '10' },
    invalid: { type: 'string', default: '3' },
    'timeout-seconds': { type: 'string', default: '120' },
  },
});

function aws(args: string[], region: string): string {
  return execFileSync('aws', [...args, '--region', region, '--output', 'text'], { encoding: 'utf8' }).trim();
}

function target(envName: string): SmokeTarget {
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
  const outputs = Object.fromEntries(
    aws(
      [
        'cloudformation',
        'describe-stacks',
        '--stack-name',
        ingestionStackName(config.prefix),
        '--query',
        'Stacks[0].Outputs[].[OutputKey,OutputValue]',
      ],
      config.region,
    )
      .split('\n')
      .map((line) => line.split('\t') as [string, string]),
  );
  const output = (key: keyof typeof INGESTION_OUTPUTS) => {
    const value = outputs[INGESTION_OUTPUTS[key]];
    if (!value)
      throw new Error(`Stack ${ingestionStackName(config.prefix)} has no output ${INGESTION_OUTPUTS[key]}`);
    return value;
  };
  const apiKey = aws(
    [
      'apigateway',
      'get-api-key',
      '--api-key',
      output('smokeApiKeyId'),
      '--include-value',
      '--query',
      'value',
    ],
    config.region,
  );
  return {
    apiUrl: output('apiUrl').replace(/\/$/, ''),
    apiKey,
    s3: new S3Client({ region: config.region }),
    rawBucket: output('rawBucket'),
    quarantineBucket: output('quarantineBucket'),
  };
}

async function main(): Promise<void> {
  if (!values.env) throw new Error('Usage: npm run smoke -- --env <dev|staging|prod|local>');
  const config = environmentConfig(values.env);
  const smokeTarget = target(values.env);
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
