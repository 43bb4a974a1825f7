/**
 * The hybrid environment is dev, not a fork: the same stacks and constructs synthesize resources under the
 * same logical IDs, and what it leaves out are exactly the services its switches name (services.*, MSK as
 * an external broker, no NAT). cdk-nag and cfn-lint clean like every environment.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildLakehouse, newApp } from '../../lib/app';
import { deployableConfig } from '../../lib/config/environments';
import { cfnLint } from '../../scripts/report';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

function synth(env: 'dev' | 'hybrid') {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-${env}-`));
  try {
    const app = newApp({}, outdir);
    const { config } = buildLakehouse(app, { env });
    const assembly = app.synth();
    return {
      resources: Object.fromEntries(
        assembly.stacks.map((s) => [s.id, s.template.Resources as Record<string, Resource>]),
      ),
      violations: (
        JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
          pluginReports: { violations: unknown[] }[];
        }
      ).pluginReports.flatMap((r) => r.violations),
      lintErrors: cfnLint(assembly, config.region).filter((p) => p.Level === 'Error'),
    };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const hybrid = synth('hybrid');
const dev = synth('dev');
const all = (s: typeof dev) =>
  Object.entries(s.resources).flatMap(([stack, rs]) =>
    Object.entries(rs).map(([id, r]) => ({ stack, id, ...r })),
  );

describe('the hybrid environment', () => {
  test('synthesizes with no unacknowledged cdk-nag finding and no cfn-lint error', () => {
    expect(hybrid.violations).toEqual([]);
    expect(hybrid.lintErrors).toEqual([]);
  });

  test("every resource is one of dev's, under the same logical ID and of the same type", () => {
    const devIds = new Map(all(dev).map((r) => [`${r.stack}/${r.id}`, r.Type]));
    // An API Gateway deployment's logical ID hashes the API's definition, names included: it differs
    // between any two environments.
    const foreign = all(hybrid).filter(
      (r) => r.Type !== 'AWS::ApiGateway::Deployment' && devIds.get(`${r.stack}/${r.id}`) !== r.Type,
    );
    expect(foreign.map((r) => `${r.stack}/${r.id} ${r.Type}`)).toEqual([]);
    expect(Object.keys(hybrid.resources).sort()).toEqual(Object.keys(dev.resources).sort());
  });

  test('leaves out only what its switches name', () => {
    const types = (s: typeof dev) => new Set(all(s).map((r) => r.Type));
    const left = [...types(dev)].filter((t) => !types(hybrid).has(t)).sort();
    expect(left).toEqual(
      [
        // msk.mode external: the local broker; its cluster and topics are not deployed
        'AWS::MSK::ServerlessCluster',
        'AWS::MSK::Topic',
        // natGateways 0
        'AWS::EC2::EIP',
        'AWS::EC2::NatGateway',
        'AWS::EC2::InternetGateway',
        'AWS::EC2::VPCGatewayAttachment',
        'AWS::EC2::Route',
        // services.flowLogs
        'AWS::EC2::FlowLog',
        // security group rules between groups: the MSK cluster's group, and the Glue and MWAA network groups
        'AWS::EC2::SecurityGroupIngress',
        'AWS::EC2::SecurityGroupEgress',
        // services.glueSecurityConfiguration, schemaRegistry, emrServerless, mwaa, grafana
        'AWS::Glue::SecurityConfiguration',
        'AWS::Glue::Connection',
        'AWS::Glue::Registry',
        'AWS::Glue::Schema',
        'AWS::EMRServerless::Application',
        'AWS::MWAA::Environment',
        'AWS::Grafana::Workspace',
        'AWS::Athena::WorkGroup',
        'Custom::GrafanaProvisioning',
        // services.bucketDeployments (and the AWS CLI layers of their provider)
        'Custom::CDKBucketDeployment',
        'AWS::Lambda::LayerVersion',
      ].sort(),
    );
  });

  test('its Lambdas and mappings reach the local broker in plaintext', () => {
    const { msk } = deployableConfig('hybrid');
    if (msk.mode !== 'external') throw new Error('hybrid uses an external broker');
    const functions = all(hybrid).filter((r) => r.Type === 'AWS::Lambda::Function');
    const ingest = functions.find((f) => JSON.stringify(f.Properties).includes('KAFKA_BROKERS'));
    expect(ingest?.Properties?.Environment).toMatchObject({
      Variables: { KAFKA_BROKERS: msk.bootstrapServers },
    });
    expect(JSON.stringify(functions)).not.toContain('MSK_CLUSTER_ARN');
    const mappings = all(hybrid).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(3);
    for (const m of mappings) {
      expect(m.Properties?.SelfManagedEventSource).toEqual({
        Endpoints: { KafkaBootstrapServers: msk.bootstrapServers.split(',') },
      });
    }
  });
});
