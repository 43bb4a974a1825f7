/**
 * CloudFormation custom resource entry point (Custom::GrafanaProvisioning, service token = this function):
 * runs the core with Managed Grafana tokens and fetch, then answers CloudFormation's pre-signed URL itself —
 * on any error too, so a failure fails the deployment instead of leaving it waiting for an hour.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { type CustomResourceRequest, provisionGrafana } from './core';
import { fetchJson, managedGrafanaTokens } from './managed-grafana';

const tokens = managedGrafanaTokens({
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: defaultProvider(),
});

export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<void> {
  const request = event as unknown as CustomResourceRequest;
  let answer: Record<string, unknown>;
  try {
    const result = await provisionGrafana(request, { tokens, http: fetchJson });
    answer = { Status: 'SUCCESS', PhysicalResourceId: result.physicalResourceId, Data: result.data };
  } catch (error) {
    console.error(JSON.stringify({ message: 'Grafana provisioning failed', error: String(error) }));
    answer = {
      Status: 'FAILED',
      Reason: `${String(error).slice(0, 500)} (log stream ${context.logStreamName})`,
      PhysicalResourceId: request.PhysicalResourceId ?? context.logStreamName,
    };
  }
  const body = JSON.stringify({
    ...answer,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  // The pre-signed S3 URL accepts a PUT without content type.
  const response = await fetch(event.ResponseURL, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!response.ok) throw new Error(`CloudFormation response refused: HTTP ${response.status}`);
}
