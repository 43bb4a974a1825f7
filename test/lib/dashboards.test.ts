/**
 * The dashboards as code: every panel queries a metric the code emits (from the one metric-name module,
 * itself checked against the handlers' addMetric calls), dashboards/ is the generator's current output,
 * and the fixed panel ids the alarms link to exist.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  isEmittedMetric,
  METRIC_SERVICES,
  METRICS_NAMESPACE,
  PLATFORM_METRICS,
} from '../../lambdas/shared/metric-names';
import { OVERVIEW_PANELS, overviewDashboard } from '../../lib/dashboards/overview';
import { DASHBOARDS_DIR, dashboardFiles } from '../../lib/dashboards/write';

interface Target {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
}
const dashboard = overviewDashboard({ prefix: 'p', ingestFunction: 'p-ingest', sinkFunction: 'p-sink' });
const panels = (dashboard.panels ?? []) as { id: number; title: string; targets?: Target[] }[];

describe('overview dashboard', () => {
  it('queries only metrics the platform emits, with the service that emits them', () => {
    // CloudWatch targets (the windows panel's Athena query is checked below).
    const targets = panels
      .flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })))
      .filter((t) => !('rawSQL' in t));
    expect(targets.length).toBeGreaterThan(10);
    for (const t of targets) {
      expect({ panel: t.panel, metric: `${t.namespace}/${t.metricName}`, emitted: true }).toEqual({
        panel: t.panel,
        metric: `${t.namespace}/${t.metricName}`,
        emitted: isEmittedMetric(t.namespace, t.metricName),
      });
      if (t.namespace === METRICS_NAMESPACE) {
        const owner = PLATFORM_METRICS.find((m) => m.names.includes(t.metricName));
        expect(t.dimensions.service).toBe(owner?.service);
      }
    }
  });

  it('reads the streaming windows from the gold table the streaming job writes, through Athena', () => {
    const athena = panels.flatMap((p) => (p.targets ?? []) as { rawSQL?: string }[]).filter((t) => t.rawSQL);
    const windowsTable = fs
      .readFileSync(path.join(__dirname, '../../glue-scripts/lakehouse_spark/windows.py'), 'utf8')
      .match(/gold_table\(gold_uri, "(\w+)"\)/)?.[1];
    expect(windowsTable).toBeDefined();
    expect(athena.map((t) => t.rawSQL)).toEqual([expect.stringContaining(`FROM ${windowsTable} `)]);
  });

  it('has every panel the alarms link to, each id once', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(Object.values(OVERVIEW_PANELS).sort());
  });

  it('is written to dashboards/ as generated (npx tsx lib/dashboards/write.ts)', () => {
    const files = dashboardFiles();
    expect(fs.readdirSync(DASHBOARDS_DIR).sort()).toEqual(Object.keys(files).sort());
    for (const [file, text] of Object.entries(files)) {
      expect(fs.readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8')).toBe(text);
    }
  });
});

describe('metric-name module', () => {
  // Until the handlers import the module, their literal names must be exactly the module's.
  it.each([
    ['ingest', METRIC_SERVICES.ingest],
    ['sink', METRIC_SERVICES.sink],
  ])('lists exactly the metrics lambdas/%s/handler.ts adds', (dir, service) => {
    const source = fs.readFileSync(path.join(__dirname, `../../lambdas/${dir}/handler.ts`), 'utf8');
    const literal = [...source.matchAll(/addMetric\(\s*'([A-Za-z]+)'/g)].map((m) => m[1]);
    const named = PLATFORM_METRICS.find((m) => m.service === service)?.names ?? [];
    const viaModule = [...source.matchAll(/addMetric\(\s*[A-Z_]+_METRICS\.(\w+)/g)].length;
    expect(literal.length + viaModule).toBe(named.length);
    for (const name of literal) expect(named).toContain(name);
  });
});
