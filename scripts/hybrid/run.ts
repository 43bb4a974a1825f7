import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CloudFormationClient,
  paginateListStackResources,
  ValidateTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GLUE_DATABASE, QUARANTINE_BUCKET, RAW_BUCKET } from '../../lambdas/sink/config';
import { deployableConfig, EMULATOR_ACCOUNT, HYBRID_KAFKA_ENV } from '../../lib/config/environments';
import { glueDatabaseName } from '../../lib/config/lake';
import { sinkGroupPrefix, topicSpecs } from '../../lib/config/topics';
import { INGESTION_OUTPUTS, ingestionStackName } from '../../lib/stacks/outputs';
import { REPO_ROOT } from '../../localstack/paths';
import { startSinkProcess } from '../../localstack/runtime/event-source-mapping/sink-process';
import { provisionTopics } from '../../localstack/services/cli';
import { startMinistack } from '../../localstack/services/emulator/ministack';
import { startKafka } from '../../localstack/services/kafka/broker';
import { freePort, tail } from '../../localstack/services/process';
import { DATASETS } from '../../schemas';
import { runSmoke, type SmokeReport } from '../smoke/core';
import { deployedTarget, type IngestionOutputs } from '../smoke/deployed';

/**
 * `npm run hybrid`: the real stacks deployed with `cdk deploy` into a local AWS emulator (ministack), the
 * deployed Lambdas proven through the deployed API. The `hybrid` environment of lib/config/environments.ts
 * is dev with the local KRaft broker for MSK and the services the emulator refuses turned off; its Kafka
 * event source mappings are not polled by the emulator, so the local event source mapping invokes the
 * deployed sink through the Lambda API.
 */

export interface HybridOptions {
  /** Folder for the broker, the emulator, the CDK's output and every log (emptied first). */
  readonly dir: string;
  /** Valid and invalid records per dataset the smoke test posts. */
  readonly records?: number;
  readonly invalid?: number;
  readonly smokeTimeoutMs?: number;
  /** Progress lines (one per step). */
  readonly log?: (line: string) => void;
}

export interface HybridRun {
  readonly endpoint: string;
  readonly brokers: readonly string[];
  readonly outputs: IngestionOutputs;
  /** Seconds per step, in order. */
  readonly seconds: Readonly<Record<string, number>>;
  /** Resources per type: what the emulator holds after the deploy, and what dev's templates declare. */
  readonly resources: { readonly deployed: Record<string, number>; readonly dev: Record<string, number> };
  /** dev's resource types the emulator refuses, with its own error for the template that declares them. */
  readonly refused: readonly { readonly stack: string; readonly error: string }[];
  readonly smoke: SmokeReport;
  /** Stops the event source mapping, the emulator and the broker (everything deployed is gone with it). */
  stop(): Promise<void>;
}

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

export async function runHybrid(options: HybridOptions): Promise<HybridRun> {
  const log = options.log ?? (() => {});
  const config = deployableConfig('hybrid');
  rmSync(options.dir, { recursive: true, force: true });
  mkdirSync(options.dir, { recursive: true });
  const seconds: Record<string, number> = {};
  const step = async <T>(name: string, work: () => Promise<T>, done: (result: T) => string): Promise<T> => {
    const t0 = performance.now();
    const result = await work();
    seconds[name] = Math.round((performance.now() - t0) / 100) / 10;
    log(`==> ${name} … ${done(result)}, ${seconds[name]} s`);
    return result;
  };
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    stops.length = 0;
  };
  try {
    const [kafkaPort, controllerPort, awsPort] = [await freePort(), await freePort(), await freePort()];
    const [broker, emulator] = await step(
      'Kafka and the AWS emulator',
      () =>
        Promise.all([
          startKafka({ dir: join(options.dir, 'kafka'), ports: [{ port: kafkaPort, controllerPort }] }).then(
            async (b) => {
              stops.push(() => b.stop());
              await provisionTopics(b.brokers, () => {}, config);
              return b;
            },
          ),
          startMinistack({ dir: join(options.dir, 'emulator'), port: awsPort, region: config.region }).then(
            (e) => {
              stops.push(() => e.stop());
              return e;
            },
          ),
        ]),
      ([b, e]) => `broker ${b.brokers.join(',')}, ministack ${e.endpoint}`,
    );
    // The CDK, the event source mapping and this process's SDK clients talk to the emulator.
    const env = {
      ...process.env,
      ...CREDENTIALS,
      AWS_REGION: config.region,
      AWS_ENDPOINT_URL: emulator.endpoint,
      [HYBRID_KAFKA_ENV]: broker.brokers.join(','),
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    };
    const emulatorClients = {
      region: config.region,
      endpoint: emulator.endpoint,
      credentials: {
        accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID,
        secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY,
      },
    };

    const cdkOut = join(options.dir, 'cdk.out');
    const outputsFile = join(options.dir, 'outputs.json');
    await step(
      'cdk bootstrap',
      () =>
        cdk(
          ['bootstrap', `aws://${EMULATOR_ACCOUNT}/${config.region}`, '-c', 'env=hybrid'],
          env,
          options.dir,
        ),
      () => `aws://${EMULATOR_ACCOUNT}/${config.region}`,
    );
    await step(
      'cdk deploy --all (env hybrid)',
      () =>
        cdk(
          [
            'deploy',
            '--all',
            '-c',
            'env=hybrid',
            '--require-approval',
            'never',
            '--outputs-file',
            outputsFile,
            '--output',
            cdkOut,
          ],
          env,
          options.dir,
        ),
      () => `${readdirSync(cdkOut).filter((f) => f.endsWith('.template.json')).length} stacks`,
    );
    const outputs = ingestionOutputsOf(JSON.parse(readFileSync(outputsFile, 'utf8')), config.prefix);

    const cfn = new CloudFormationClient(emulatorClients);
    stops.push(async () => cfn.destroy());
    const deployed = await deployedResources(cfn, config.prefix, cdkOut);
    const devOut = join(options.dir, 'cdk.out.dev');
    const { dev, refused } = await step(
      'dev templates checked against the emulator',
      async () => {
        await cdk(
          ['synth', '-q', '-c', 'env=dev', '--output', devOut],
          { ...env, LAKEHOUSE_DEV_ACCOUNT: EMULATOR_ACCOUNT },
          options.dir,
        );
        return refusedByEmulator(cfn, new S3Client({ ...emulatorClients, forcePathStyle: true }), devOut);
      },
      (r) => `${r.refused.length} of ${Object.keys(stackTemplates(devOut)).length} refused`,
    );

    await step(
      'event source mapping → deployed sink',
      () =>
        Promise.all(
          topicSpecs(config, DATASETS).map(async (topic) => {
            const sink = await startSinkProcess(
              {
                brokers: broker.brokers,
                topics: [topic.name],
                groupPrefix: sinkGroupPrefix(config),
                sink: config.sink,
                functionName: outputs.sinkFunctionName,
              },
              {
                env: {
                  ...env,
                  [RAW_BUCKET]: outputs.rawBucket,
                  [QUARANTINE_BUCKET]: outputs.quarantineBucket,
                  [GLUE_DATABASE]: glueDatabaseName(config),
                },
                logFile: join(options.dir, `esm-${topic.name}.log`),
              },
            );
            stops.push(() => sink.stop());
            return sink;
          }),
        ),
      (s) => `${s.length} topics polled, invoking ${outputs.sinkFunctionName}`,
    );

    const target = await deployedTarget(config, outputs, emulatorClients);
    stops.push(async () => target.s3.destroy());
    const smoke = await step(
      'smoke test through the deployed API',
      () =>
        runSmoke(target, {
          datasets: DATASETS,
          validPerDataset: options.records ?? 10,
          invalidPerDataset: options.invalid ?? 3,
          timeoutMs: options.smokeTimeoutMs ?? 120_000,
          sloMs: config.alarms.ingestLatencyP99Ms,
        }),
      (r) => `${r.ok ? 'passed' : 'FAILED'}: ${r.arrived}/${r.accepted} accepted records in raw Parquet`,
    );
    return {
      endpoint: emulator.endpoint,
      brokers: broker.brokers,
      outputs,
      seconds,
      resources: { deployed, dev },
      refused,
      smoke,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs the project's CDK CLI; its output goes to <dir>/cdk-<command>.log, whose end a failure shows. */
function cdk(args: string[], env: NodeJS.ProcessEnv, dir: string): Promise<void> {
  const logFile = join(dir, `cdk-${args[0]}.log`);
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'cdk'), [...args, '--no-notices'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      writeFileSync(logFile, Buffer.concat(chunks));
      if (code === 0) resolve();
      else
        reject(
          new Error(`cdk ${args[0]} failed (exit ${code}); the end of ${logFile}:\n${tail(logFile, 25)}`),
        );
    });
  });
}

function ingestionOutputsOf(file: Record<string, Record<string, string>>, prefix: string): IngestionOutputs {
  const outputs = file[ingestionStackName(prefix)] ?? {};
  return Object.fromEntries(
    Object.entries(INGESTION_OUTPUTS).map(([name, key]) => {
      const value = outputs[key];
      if (!value) throw new Error(`cdk deploy wrote no output ${key} for ${ingestionStackName(prefix)}`);
      return [name, value];
    }),
  ) as IngestionOutputs;
}

/** Each stack's template in a cloud assembly, by stack name. */
function stackTemplates(cdkOut: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(cdkOut, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  return Object.fromEntries(
    Object.entries(manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id, a]) => [a.properties?.stackName ?? id, join(cdkOut, a.properties?.templateFile ?? '')]),
  );
}

function countTypes(types: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of types) counts[t] = (counts[t] ?? 0) + 1;
  return counts;
}

/** What the emulator holds: every resource of the deployed stacks, per type (CDK's metadata left out). */
async function deployedResources(cfn: CloudFormationClient, prefix: string, cdkOut: string) {
  const types: string[] = [];
  for (const stackName of Object.keys(stackTemplates(cdkOut))) {
    if (!stackName.startsWith(prefix)) continue;
    for await (const page of paginateListStackResources({ client: cfn }, { StackName: stackName })) {
      for (const r of page.StackResourceSummaries ?? []) {
        if (r.ResourceStatus?.endsWith('_COMPLETE') && r.ResourceType !== 'AWS::CDK::Metadata')
          types.push(r.ResourceType as string);
      }
    }
  }
  return countTypes(types);
}

/**
 * The dev templates' resources per type, and the emulator's answer to ValidateTemplate for each stack it
 * refuses (the templates go through a bucket: most exceed the 51,200 bytes of an inline body).
 */
async function refusedByEmulator(cfn: CloudFormationClient, s3: S3Client, devOut: string) {
  const bucket = 'lakehouse-hybrid-dev-templates';
  const types: string[] = [];
  const refused: { stack: string; error: string }[] = [];
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const [stack, file] of Object.entries(stackTemplates(devOut))) {
      const body = readFileSync(file, 'utf8');
      const resources = (JSON.parse(body) as { Resources: Record<string, { Type: string }> }).Resources;
      types.push(
        ...Object.values(resources)
          .map((r) => r.Type)
          .filter((t) => t !== 'AWS::CDK::Metadata'),
      );
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${stack}.json`, Body: body }));
      const url = `https://s3.amazonaws.com/${bucket}/${stack}.json`;
      await cfn.send(new ValidateTemplateCommand({ TemplateURL: url })).catch((error: Error) => {
        refused.push({ stack, error: error.message.slice(0, 1_000) });
      });
    }
  } finally {
    s3.destroy();
  }
  return { dev: countTypes(types), refused };
}
