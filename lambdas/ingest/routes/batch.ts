import type { FieldError, RegisteredDataset } from '../../../schemas';
import { validationErrorMessage } from '../../../schemas/api/openapi';
import type { HttpRequest, IngestResult } from '../http';
import type { KafkaMessage } from '../kafka/producer';
import { recordEncoder, tooLargeForKafka } from '../records';
import { inBody, problemReply, rejected, reply, unavailable, versionReply } from '../reply';
import { requestedVersion } from '../schema-version';
import { parseBody, produce, type RouteContext } from './context';

/**
 * POST /ingest-<dataset>/batch: `{"records": [...]}`; the valid records go to Kafka in one send, each
 * record's result is reported (200 all accepted, 207 some, 422 none).
 */
export async function ingestBatch(
  context: RouteContext,
  dataset: RegisteredDataset,
  request: HttpRequest,
): Promise<IngestResult> {
  const { definition } = dataset;
  const batchTitle = `${definition.title}Batch`;
  const version = requestedVersion(dataset, request.headers);
  if (!version.ok) return versionReply(version.error, batchTitle);
  const parsed = parseBody(context, request);
  if (!parsed.ok) return problemReply(parsed.problem, batchTitle);
  const records = batchRecords(parsed.value, context.limits.maxBatchRecords);
  if (!Array.isArray(records)) {
    return reply(422, { message: validationErrorMessage(1, batchTitle), detail: inBody([records]) });
  }
  const encode = recordEncoder(version.version, request, context.clock(), context.maxMessageBytes);
  const messages: KafkaMessage[] = [];
  const results: Record<string, unknown>[] = [];
  const allErrors: ReturnType<typeof inBody> = [];
  let batchBytes = 0;
  records.forEach((input, index) => {
    const result = encode(input);
    if (result.ok) {
      messages.push(result.message);
      batchBytes += result.bytes;
      results.push({ index, status: 'accepted', [definition.idField]: result.id });
    } else {
      const detail = inBody(result.errors, ['records', index]);
      allErrors.push(...detail);
      results.push({
        index,
        status: 'rejected',
        message: validationErrorMessage(detail.length, definition.title),
        detail,
      });
    }
  });
  const accepted = messages.length;
  const rejectedCount = records.length - accepted;
  // All of a batch may land in one partition, i.e. in one record batch the broker weighs whole.
  if (batchBytes > context.maxMessageBytes) {
    return {
      ...reply(413, {
        detail: `${tooLargeForKafka('The batch', batchBytes, context.maxMessageBytes)}: send fewer records per request`,
      }),
      outcome: rejected(definition.name, records.length),
    };
  }
  if (accepted === 0) {
    return {
      ...reply(422, {
        message: validationErrorMessage(allErrors.length, batchTitle),
        detail: allErrors,
        results,
      }),
      outcome: rejected(definition.name, rejectedCount),
    };
  }
  const sent = await produce(context, dataset, messages);
  if (!sent.ok) {
    return {
      ...unavailable(),
      outcome: {
        dataset: definition.name,
        accepted: 0,
        rejected: rejectedCount,
        produceError: sent.produceError,
      },
    };
  }
  return {
    ...reply(rejectedCount === 0 ? 200 : 207, {
      message: `${accepted} of ${records.length} records ingested`,
      accepted,
      rejected: rejectedCount,
      results,
    }),
    outcome: { dataset: definition.name, accepted, rejected: rejectedCount, produceMs: sent.produceMs },
  };
}

/** The records of a batch body `{"records": [...]}`, or the one error that makes it no batch at all. */
function batchRecords(body: unknown, maxRecords: number): unknown[] | FieldError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { loc: [], msg: 'Input should be an object with a "records" list', type: 'dict_type' };
  }
  const records = (body as { records?: unknown }).records;
  if (records === undefined) return { loc: ['records'], msg: 'Field required', type: 'missing' };
  if (!Array.isArray(records))
    return { loc: ['records'], msg: 'Input should be a valid list', type: 'list_type' };
  if (records.length === 0) {
    return {
      loc: ['records'],
      msg: 'List should have at least 1 item after validation, not 0',
      type: 'too_short',
    };
  }
  if (records.length > maxRecords) {
    return {
      loc: ['records'],
      msg: `List should have at most ${maxRecords} items after validation, not ${records.length}`,
      type: 'too_long',
    };
  }
  return records;
}
