import { APIGatewayClient, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import type { DeployableConfig } from '../../lib/config/environments';
import { INGESTION_OUTPUTS, ingestionStackName } from '../../lib/stacks/outputs';
import { ministackApiUrl } from '../../localstack/services/emulator/ministack';
import type { SmokeTarget } from './core';

export type IngestionOutputs = Record<keyof typeof INGESTION_OUTPUTS, string>;

/** An AWS emulator's endpoint and the credentials it takes (hybrid). */
export interface Emulator {
  readonly endpoint: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The ingestion stack's outputs, read with the caller's credentials (in CI the deploy role). */
export async function ingestionOutputs(config: DeployableConfig): Promise<IngestionOutputs> {
  const stackName = ingestionStackName(config.prefix);
  const client = new CloudFormationClient({ region: config.region });
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = new Map((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    return Object.fromEntries(
      Object.entries(INGESTION_OUTPUTS).map(([name, key]) => {
        const value = outputs.get(key);
        if (!value) throw new Error(`Stack ${stackName} has no output ${key}: deploy it first`);
        return [name, value];
      }),
    ) as IngestionOutputs;
  } finally {
    client.destroy();
  }
}

/**
 * What the smoke test posts to and reads from in a deployed environment: its API stage, the smoke
 * producer's key (its value from API Gateway) and buckets. `emulator`: the AWS emulator `hybrid` is
 * deployed into (AWS_ENDPOINT_URL), whose API Gateway serves the stage under its own endpoint.
 */
export async function deployedTarget(
  config: DeployableConfig,
  outputs: IngestionOutputs,
  emulator?: Emulator,
): Promise<SmokeTarget> {
  const clients = { region: config.region, ...emulator };
  const apiGateway = new APIGatewayClient(clients);
  try {
    const { value } = await apiGateway.send(
      new GetApiKeyCommand({ apiKey: outputs.smokeApiKeyId, includeValue: true }),
    );
    if (!value) throw new Error(`API key ${outputs.smokeApiKeyId} has no value`);
    const stage = outputs.apiUrl.replace(/\/$/, '');
    return {
      apiUrl: emulator ? ministackApiUrl(emulator.endpoint, outputs.apiUrl) : stage,
      apiKey: value,
      s3: new S3Client({ ...clients, ...(emulator && { forcePathStyle: true }) }),
      rawBucket: outputs.rawBucket,
      quarantineBucket: outputs.quarantineBucket,
    };
  } finally {
    apiGateway.destroy();
  }
}
