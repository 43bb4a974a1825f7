import { parseArgs } from 'node:util';
import { environmentConfig } from '../../../lib/config/environments';
import { localSettings } from '../../settings';
import { progressLine, sendRecords } from './send';

/**
 * `npm run generate -- --rate R --count N [--route batch|single] [--batch-size B] [--invalid 0.02]
 * [--duplicates 0.01] [--datasets a,b] [--seed S] [--api URL]`: realistic records into the running
 * local API, with a live progress line on stderr and a JSON summary on stdout.
 */

export const DEFAULT_API_URL = localSettings().apiUrl;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '1000' },
      count: { type: 'string', default: '10000' },
      route: { type: 'string', default: 'batch' },
      'batch-size': { type: 'string', default: String(environmentConfig('local').ingest.maxBatchRecords) },
      invalid: { type: 'string', default: '0.02' },
      duplicates: { type: 'string', default: '0.01' },
      datasets: { type: 'string' },
      seed: { type: 'string' },
      api: { type: 'string', default: DEFAULT_API_URL },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stderr.write(
      'Usage: npm run generate -- --rate R --count N [--route batch|single] [--batch-size B]\n' +
        '         [--invalid SHARE] [--duplicates SHARE] [--datasets a,b] [--seed S] [--api URL]\n',
    );
    return;
  }
  const number = (name: string, text: string, min: number, max = Number.POSITIVE_INFINITY) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`--${name} must be a number in [${min}, ${max}], got "${text}"`);
    }
    return value;
  };
  const route = values.route === 'single' ? 'single' : values.route === 'batch' ? 'batch' : undefined;
  if (!route) throw new Error(`--route must be batch or single, got "${values.route}"`);
  const count = Math.floor(number('count', values.count, 1));
  const live = process.stderr.isTTY;
  let lastLine = 0;
  const tally = await sendRecords({
    apiUrl: values.api.replace(/\/$/, ''),
    rate: number('rate', values.rate, 0.001),
    count,
    route,
    batchSize: Math.floor(number('batch-size', values['batch-size'], 1)),
    invalidShare: number('invalid', values.invalid, 0, 1),
    duplicateShare: number('duplicates', values.duplicates, 0, 1),
    ...(values.datasets ? { datasets: values.datasets.split(',').map((d) => d.trim()) } : {}),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
    onProgress: (t) => {
      // A refreshed line on a terminal; one line every 2 s into logs.
      if (live) process.stderr.write(`\r\x1b[2K${progressLine(t, count)}`);
      else if (Date.now() - lastLine >= 2_000) {
        lastLine = Date.now();
        process.stderr.write(`${progressLine(t, count)}\n`);
      }
    },
  });
  process.stderr.write(`${live ? '\r\x1b[2K' : ''}${progressLine(tally, count)}\n`);
  const { byDataset, ...totals } = tally;
  const perDataset = Object.fromEntries(
    Object.entries(byDataset).map(([name, { acceptedIds, rejectedIds, ...counts }]) => [name, counts]),
  );
  process.stdout.write(`${JSON.stringify({ ...totals, byDataset: perDataset }, null, 2)}\n`);
  if (tally.failed > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`generate: ${error.message}\n`);
    process.exit(1);
  });
}
