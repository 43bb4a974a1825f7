/**
 * Outputs of the ingestion stack that `npm run smoke -- --env <name>` reads (with `aws cloudformation
 * describe-stacks`) to post through the deployed API and find the records in the lake.
 */
export const INGESTION_OUTPUTS = {
  apiUrl: 'ApiUrl',
  smokeApiKeyId: 'SmokeApiKeyId',
  rawBucket: 'RawBucket',
  quarantineBucket: 'QuarantineBucket',
} as const;

/** Stack name of the ingestion stack (LakehouseStack names stacks `<prefix>-<id in lower case>`). */
export function ingestionStackName(prefix: string): string {
  return `${prefix}-ingestion`;
}
