import { type CfnElement, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeployableConfig } from '../config/environments';

export interface LakehouseStackProps extends StackProps {
  readonly config: DeployableConfig;
  /** The environment name passed as `-c confirmDestroyData=<env>`, if any (second half of the opt-in). */
  readonly confirmDestroyData?: string;
  /** Deploys to this region instead of the environment's (the replica stack). */
  readonly region?: string;
}

/** `<region>a`, `<region>b`, … : explicit AZ names, so synth needs no context lookup and no credentials. */
export function availabilityZoneNames(
  config: Pick<DeployableConfig, 'availabilityZones' | 'region'>,
): string[] {
  return Array.from({ length: config.availabilityZones }, (_, i) => `${config.region}${'abcdef'[i]}`);
}

/**
 * What happens to data (buckets, catalog, logs) on `cdk destroy` or replacement: deleted only when the
 * environment allows it AND the deploy confirms it with `-c confirmDestroyData=<env>`; retained otherwise.
 */
export function dataRemovalPolicy(
  config: Pick<DeployableConfig, 'name' | 'allowDataDestruction'>,
  confirmDestroyData?: string,
): RemovalPolicy {
  if (confirmDestroyData !== undefined && confirmDestroyData !== config.name) {
    throw new Error(`confirmDestroyData=${confirmDestroyData} does not name the environment ${config.name}`);
  }
  if (confirmDestroyData === config.name && !config.allowDataDestruction) {
    throw new Error(`${config.name} does not allow data destruction (allowDataDestruction is false)`);
  }
  return confirmDestroyData === config.name ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

/** Base of every stack: the environment's account/region, its prefix in the stack name, explicit AZs. */
export class LakehouseStack extends Stack {
  readonly config: DeployableConfig;
  readonly dataRemovalPolicy: RemovalPolicy;
  private readonly moved: [string, string][] = [];

  constructor(scope: Construct, id: string, props: LakehouseStackProps) {
    super(scope, id, {
      ...props,
      env: { account: props.config.account, region: props.region ?? props.config.region },
      stackName: `${props.config.prefix}-${id.toLowerCase()}`,
      terminationProtection: !props.config.allowDataDestruction,
    });
    this.config = props.config;
    this.dataRemovalPolicy = dataRemovalPolicy(props.config, props.confirmDestroyData);
  }

  /**
   * Construct paths (relative to the stack) that moved when a construct was split, each with the path its
   * resources had before: they keep the logical IDs of the deployed resources, so a deploy updates them
   * in place instead of replacing them (named ones such as alarms, topics and Glue jobs cannot be
   * replaced, and a replaced Grafana provisioning would delete the dashboards it just created).
   */
  protected keepLogicalIds(moves: Readonly<Record<string, string>>): void {
    this.moved.push(...Object.entries(moves));
    this.moved.sort(([a], [b]) => b.length - a.length);
  }

  protected override allocateLogicalId(element: CfnElement): string {
    const scopes = element.node.scopes;
    const path = scopes
      .slice(scopes.indexOf(this) + 1)
      .map((scope) => scope.node.id)
      .join('/');
    const move = this.moved.find(([to]) => path === to || path.startsWith(`${to}/`));
    if (!move) return super.allocateLogicalId(element);
    const before = `${move[1]}${path.slice(move[0].length)}`.split('/').map((id) => ({ node: { id } }));
    return super.allocateLogicalId({
      node: { scopes: [this, ...before] },
      stack: this,
    } as unknown as CfnElement);
  }

  override get availabilityZones(): string[] {
    return availabilityZoneNames(this.config);
  }
}
