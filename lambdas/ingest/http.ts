/**
 * The ingest API's request and result, as the core and its routes exchange them: plain data, no AWS
 * types (the Lambda handler and the local platform adapt theirs to these).
 */

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
  /** Carried into every record's metadata (the API Gateway request id on AWS). */
  readonly requestId: string;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What happened to the records of one request, for metrics and logs. */
export interface IngestOutcome {
  readonly dataset: string;
  readonly accepted: number;
  readonly rejected: number;
  /** Time from send to acknowledgement, when something was sent. */
  readonly produceMs?: number;
  /** Why Kafka failed, when it did (the response is then 503). */
  readonly produceError?: unknown;
}

export interface IngestResult {
  readonly response: HttpResponse;
  readonly outcome?: IngestOutcome;
}
