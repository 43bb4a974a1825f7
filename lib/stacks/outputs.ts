/**
 * Outputs of the ingestion stack that `npm run smoke -- --env <name>` reads (CloudFormation DescribeStacks)
 * to post through the deployed API and find the records in the lake; `npm run hybrid` also invokes the
 * deployed sink by its name (the emulator has no Kafka event source mapping).
 */
export const INGESTION_OUTPUTS = {
  apiUrl: 'ApiUrl',
  smokeApiKeyId: 'SmokeApiKeyId',
  rawBucket: 'RawBucket',
  quarantineBucket: 'QuarantineBucket',
  sinkFunctionName: 'SinkFunctionName',
} as const;

/** Stack name of the ingestion stack (LakehouseStack names stacks `<prefix>-<id in lower case>`). */
export function ingestionStackName(prefix: string): string {
  return `${prefix}-ingestion`;
}
