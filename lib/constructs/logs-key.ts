import { aws_iam as iam, aws_kms as kms, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * A customer-managed key (rotated) for a service that encrypts its CloudWatch Logs with it (Glue, MWAA):
 * CloudWatch Logs may use it for the account's log groups only.
 */
export function logsEncryptionKey(scope: Construct, props: { alias: string; description: string }): kms.Key {
  const { partition, region, account } = Stack.of(scope);
  const key = new kms.Key(scope, 'Key', { ...props, enableKeyRotation: true });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:*` },
      },
    }),
  );
  return key;
}
