import { type CfnResource, type aws_s3_deployment as s3deploy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type IApplyRule, NagRuleCompliance } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';

/**
 * cdk-nag acknowledgements, each scoped to one construct (and its children) with a specific reason.
 * Anything not acknowledged fails synth (cdk-nag runs as a validation plugin of the app).
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

export interface FindingAllowance {
  /** Matched against one finding of a granular rule, e.g. `Resource::<bucket arn>/sink/*`. */
  readonly finding: RegExp;
  readonly reason: string;
}

const allowances = new Map<IConstruct, { rule: string; allowed: readonly FindingAllowance[] }[]>();

/**
 * Allows the findings of a granular rule (whose findings embed tokens such as ARNs and cross-stack imports,
 * so they cannot be named exactly in advance) on `scope` and its children when they match a pattern; every
 * finding it allows is also recorded as an acknowledgement with its reason. Unmatched findings still fail.
 */
export function allowFindings(scope: IConstruct, rule: string, allowed: readonly FindingAllowance[]): void {
  allowances.set(scope, [...(allowances.get(scope) ?? []), { rule, allowed }]);
}

/** Wildcard permissions (AwsSolutions-IAM5) matching the allowances. */
export function allowWildcards(scope: IConstruct, allowed: readonly FindingAllowance[]): void {
  allowFindings(scope, 'AwsSolutions-IAM5', allowed);
}

function allowanceFor(node: IConstruct, rule: string, finding: string): FindingAllowance | undefined {
  for (let scope: IConstruct | undefined = node; scope; scope = scope.node.scope) {
    for (const entry of allowances.get(scope) ?? []) {
      const match = entry.rule === rule ? entry.allowed.find((a) => a.finding.test(finding)) : undefined;
      if (match) return match;
    }
  }
  return undefined;
}

/** AwsSolutions with the pattern allowances above. */
export class LakehouseSolutionsChecks extends AwsSolutionsChecks {
  protected override applyRule(params: IApplyRule): void {
    const rule = `${this.packName}-${params.ruleSuffixOverride ?? params.rule.name}`;
    const check = (node: CfnResource) => {
      const result = params.rule(node);
      if (!Array.isArray(result)) return result;
      const left = result.filter((finding) => {
        const allowance = allowanceFor(node, rule, finding);
        if (allowance) acknowledge(node, `${rule}[${finding}]`, allowance.reason);
        return !allowance;
      });
      return left.length > 0 ? left : NagRuleCompliance.COMPLIANT;
    };
    Object.defineProperty(check, 'name', { value: params.rule.name });
    super.applyRule({ ...params, rule: check });
  }
}

/** A wildcard on S3 objects under one of the given key prefixes (of any bucket). */
export function objectsUnder(...prefixes: string[]): RegExp {
  const escaped = prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^Resource::.*/(${escaped.join('|')})\\*$`);
}

export const ENI_AND_XRAY: FindingAllowance = {
  finding: /^Resource::\*$/,
  reason:
    'EC2 network-interface and Describe* actions (Lambda and MSK pollers in a VPC) and X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
};

export interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgement recorded under `root` (after synth: including the allowed findings). */
export function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, unknown>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason: typeof reason === 'string' ? reason : JSON.stringify(reason),
        })),
      ),
  );
}

/**
 * BucketDeployment's provider (a CDK-managed singleton Lambda per stack): its role and runtime are CDK's.
 */
export function acknowledgeBucketDeployment(deployment: s3deploy.BucketDeployment): void {
  const provider = deployment.handlerRole.node.scope as Construct;
  acknowledge(
    provider,
    'AwsSolutions-L1',
    'CDK-managed BucketDeployment provider; its runtime is pinned by aws-cdk-lib.',
  );
  acknowledge(
    provider,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'CDK-managed BucketDeployment provider writes its own logs with the basic execution policy.',
  );
  allowWildcards(provider, [
    {
      finding:
        /^(Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*|Action::kms:(GenerateDataKey|ReEncrypt)\*)$/,
      reason:
        'CDK-managed BucketDeployment copies asset objects into the destination prefix and prunes stale ones.',
    },
    {
      finding: /^Resource::.*(cdk-[a-z0-9]+-assets-|scripts|dags).*\/\*$/,
      reason:
        'CDK-managed BucketDeployment reads the CDK asset bucket and writes the scripts and DAGs buckets.',
    },
  ]);
}
