/**
 * Writes the dashboards to dashboards/ (the compose profile's Grafana reads them there; a test fails when
 * they are stale): `npx tsx lib/dashboards/write.ts`. Managed Grafana gets them from the CDK directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { environmentConfig } from '../config/environments';
import { dashboards } from './overview';

export const DASHBOARDS_DIR = path.resolve(__dirname, '../../dashboards');

/** The committed files' content: the dev environment's names as the variables' defaults. */
export function dashboardFiles(): Record<string, string> {
  const { prefix } = environmentConfig('dev');
  const built = dashboards({ prefix, ingestFunction: `${prefix}-ingest`, sinkFunction: `${prefix}-sink` });
  return Object.fromEntries(
    Object.entries(built).map(([name, json]) => [`${name}.json`, `${JSON.stringify(json, null, 2)}\n`]),
  );
}

if (require.main === module) {
  for (const [file, text] of Object.entries(dashboardFiles())) {
    fs.writeFileSync(path.join(DASHBOARDS_DIR, file), text);
    console.log(`wrote dashboards/${file}`);
  }
}
