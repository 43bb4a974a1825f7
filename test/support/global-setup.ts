import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DIR, type Services, startServices } from '../../localstack/services/cli';
import { isAlive } from '../../localstack/services/process';

/**
 * Starts a broker and an AWS emulator on free ports unless the environment already names them (as
 * scripts/test.sh does), and exports their variables to the test workers. The teardown runs in the same
 * jest process, so the handle is kept on globalThis.
 */
const holder = globalThis as { lakehouseServices?: { services: Services; dir: string } };

export default async function globalSetup(): Promise<void> {
  const needKafka = !process.env.KAFKA_BROKERS;
  const needAws = !process.env.AWS_ENDPOINT_URL;
  if (!needKafka && !needAws) return;
  removeDeadRunsData();
  const dir = join(DEFAULT_DIR, `test-${process.pid}`);
  const services = await startServices({
    dir,
    fresh: true,
    kafka: needKafka,
    aws: needAws,
    kafkaPort: 'free',
    awsPort: 'free',
    // The tests need Glue, which LocalStack's open-source edition lacks.
    emulator: 'moto',
  }).catch((error: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  Object.assign(process.env, services.env);
  holder.lakehouseServices = { services, dir };
}

/** Data of earlier runs that were killed before their teardown (their processes died with them). */
function removeDeadRunsData(): void {
  if (!existsSync(DEFAULT_DIR)) return;
  for (const entry of readdirSync(DEFAULT_DIR)) {
    const pid = /^test-(?:run-)?(\d+)$/.exec(entry)?.[1];
    if (pid && !isAlive(Number(pid))) rmSync(join(DEFAULT_DIR, entry), { recursive: true, force: true });
  }
}

export async function globalTeardown(): Promise<void> {
  const started = holder.lakehouseServices;
  if (!started) return;
  holder.lakehouseServices = undefined;
  await started.services.stop();
  rmSync(started.dir, { recursive: true, force: true });
}
