import type { FieldError } from '../../schemas';
import { validationErrorMessage } from '../../schemas/api/openapi';
import type { IngestOutcome, IngestResult } from './http';
import type { BodyProblem } from './request-body';

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function reply(statusCode: number, body: unknown, headers: Record<string, string> = {}): IngestResult {
  return { response: { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) } };
}

/** FastAPI's `loc` starts with "body"; the registry's validators report paths inside the record. */
export const inBody = (errors: readonly FieldError[], prefix: readonly (string | number)[] = []) =>
  errors.map(({ loc, msg, type, ctx }) => ({
    loc: ['body', ...prefix, ...loc],
    msg,
    type,
    ...(ctx && { ctx }),
  }));

export function problemReply(problem: BodyProblem, title: string): IngestResult {
  if (typeof problem.detail === 'string') return reply(problem.statusCode, { detail: problem.detail });
  const detail = inBody(problem.detail);
  return reply(problem.statusCode, { message: validationErrorMessage(detail.length, title), detail });
}

/** An unknown X-Schema-Version: 422 as FastAPI answers a bad header (its `loc` starts with "header"). */
export const versionReply = (error: FieldError, title: string) =>
  reply(422, { message: validationErrorMessage(1, title), detail: [error] });

export const unavailable = () =>
  reply(503, { detail: 'Kafka is unavailable; nothing was ingested. Retry later.' }, { 'retry-after': '1' });

export function rejected(dataset: string, count: number): IngestOutcome {
  return { dataset, accepted: 0, rejected: count };
}
