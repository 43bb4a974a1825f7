/**
 * The bounded `npm run hybrid`: the real stacks deployed with the CDK CLI into ministack, the deployed
 * ingest Lambda behind the deployed API Gateway writing to a real broker, and the deployed sink (invoked by
 * the local event source mapping through the Lambda API) writing raw Parquet into the emulated S3.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MINISTACK } from '../../../localstack/services/emulator/ministack';
import { type HybridRun, runHybrid } from '../../../scripts/hybrid/run';

const installed = fs.existsSync(MINISTACK);
if (!installed)
  console.warn(`Skipping the hybrid deploy: ${MINISTACK} is missing (bash scripts/setup.sh --for test)`);
const describeIf = installed ? describe : describe.skip;

describeIf('npm run hybrid, bounded', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hybrid-'));
  let run: HybridRun;
  beforeAll(async () => {
    run = await runHybrid({ dir, records: 3, invalid: 1, smokeTimeoutMs: 60_000 });
  }, 300_000);
  afterAll(async () => {
    await run?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the smoke test passes through the deployed API: routes, 403 without the key, 422, records in raw Parquet', () => {
    expect(run.smoke.unexpectedAnswers).toEqual([]);
    expect(run.smoke.missing).toEqual([]);
    expect(run.smoke.accepted).toBe(9);
    expect(run.smoke.arrived).toBe(9);
    expect(run.smoke.rejectedInLake).toEqual([]);
    expect(run.smoke.ok).toBe(true);
  });

  test("every type the emulator refuses in dev's templates is one hybrid does not deploy", () => {
    const refused = run.refused.flatMap((r) => /\[([^\]]+)\]/.exec(r.error)?.[1]?.split(', ') ?? [r.error]);
    expect(refused.length).toBeGreaterThan(0);
    for (const type of refused) expect([type, run.resources.deployed[type] ?? 0]).toEqual([type, 0]);
    // The ingest and sink functions, from their esbuild bundles.
    expect(run.resources.deployed['AWS::Lambda::Function']).toBe(2);
    expect(run.resources.deployed['AWS::ApiGateway::RestApi']).toBe(1);
  });
});
