import { execFileSync } from 'node:child_process';
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalstackContainer, type StartedLocalStackContainer } from '@testcontainers/localstack';
import { environmentConfig } from '../../../lib/config/environments';
import { bucketName, LAKE_ZONES } from '../../../lib/config/lake';
import { emulatorClientConfig, provisionLake } from '../../../localstack/services/emulator/provision';

/**
 * The lake provisioning against LocalStack 4.13.1 in Docker (the compose profile's emulator). Needs a
 * Docker daemon; where none answers (as on the project's CI host) the suite is skipped and says why.
 */

/** Asks testcontainers itself (same discovery: DOCKER_HOST, socket, ~/.testcontainers.properties). */
function dockerUnavailableReason(): string | undefined {
  try {
    execFileSync(
      process.execPath,
      [
        '-e',
        "require('testcontainers').getContainerRuntimeClient().then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); })",
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000, encoding: 'utf8' },
    );
    return undefined;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '')
      .trim()
      .split('\n')
      .pop();
    return stderr || (error as Error).message;
  }
}

const unavailable = dockerUnavailableReason();
if (unavailable) {
  // Straight to stderr: Jest drops console output of files whose tests are all skipped.
  process.stderr.write(
    `SKIPPED: LocalStack container tests need a Docker daemon, and none answers here (${unavailable}).\n`,
  );
}
const describeWithDocker = unavailable ? describe.skip : describe;

describeWithDocker('LocalStack 4.13.1 in Docker (testcontainers)', () => {
  const local = environmentConfig('local');
  let container: StartedLocalStackContainer;

  beforeAll(async () => {
    container = await new LocalstackContainer('localstack/localstack:4.13.1').start();
  }, 300_000);
  afterAll(async () => {
    await container?.stop();
  });

  it('receives the lake the CDK declares from the same provisioning code, and stores objects', async () => {
    const endpoint = container.getConnectionUri();
    await provisionLake(local, endpoint);
    const s3 = new S3Client(emulatorClientConfig(endpoint, local.region));
    try {
      const listed = await s3.send(new ListBucketsCommand({}));
      const names = (listed.Buckets ?? []).map((b) => b.Name);
      expect(names).toEqual(expect.arrayContaining(LAKE_ZONES.map((zone) => bucketName(local, zone))));
      const bucket = bucketName(local, 'raw');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'probe.json', Body: '{"ok":true}' }));
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'probe.json' }));
      expect(await object.Body?.transformToString()).toBe('{"ok":true}');
    } finally {
      s3.destroy();
    }
  });
});
