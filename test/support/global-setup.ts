import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DIR, type Services, startServices } from '../../localstack/services';

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
  const dir = join(DEFAULT_DIR, `test-${process.pid}`);
  const services = await startServices({
    dir,
    fresh: true,
    kafka: needKafka,
    aws: needAws,
    kafkaPort: 'free',
    awsPort: 'free',
  });
  Object.assign(process.env, services.env);
  holder.lakehouseServices = { services, dir };
}

export async function globalTeardown(): Promise<void> {
  const started = holder.lakehouseServices;
  if (!started) return;
  holder.lakehouseServices = undefined;
  await started.services.stop();
  rmSync(started.dir, { recursive: true, force: true });
}
