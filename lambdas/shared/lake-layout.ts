/**
 * The lake's names that the sink handler, the CDK and the local platform must agree on. Imports nothing:
 * handlers import it, and lib/config/lake.ts re-exports it for the CDK.
 */

/**
 * The Glue table of a dataset's raw zone, in database `glueDatabaseName(env)`: CDK creates it, the sink
 * registers its partitions.
 */
export function rawTableName(dataset: string): string {
  return `raw_${dataset}`;
}

/**
 * Object layout inside the buckets, shared by the sink (TypeScript) and the Spark jobs (which receive
 * these prefixes as arguments):
 * - raw:        s3://<raw>/<dataset>/event_date=YYYY-MM-DD/event_hour=HH/<file>.parquet
 * - quarantine: s3://<quarantine>/sink/<dataset>/... (JSON lines)  and  s3://<quarantine>/curated/<dataset>/ (Delta)
 *               s3://<quarantine>/aws/lambda/... batches the event source mapping gave up on (its on-failure
 *               destination), moved to s3://<quarantine>/replayed/aws/lambda/... once `npm run replay` wrote them
 * - curated:    s3://<curated>/<dataset>/ (Delta)
 * - gold:       s3://<gold>/<table>/ (Delta)
 */
export const QUARANTINE_SINK_PREFIX = 'sink';
export const QUARANTINE_CURATED_PREFIX = 'curated';
/** Where Lambda writes batches the mapping gave up on (the S3 on-failure destination's own key layout). */
export const FAILED_BATCHES_PREFIX = 'aws/lambda';
/** Where `npm run replay` moves an on-failure record once its batch is in the raw zone. */
export const REPLAYED_PREFIX = 'replayed';
