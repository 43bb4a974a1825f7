import type { RegisteredDataset } from '../../../schemas';
import { acceptedMessage, validationErrorMessage } from '../../../schemas/api/openapi';
import type { HttpRequest, IngestResult } from '../http';
import { MESSAGE_TOO_LARGE, recordEncoder } from '../records';
import { inBody, problemReply, rejected, reply, unavailable, versionReply } from '../reply';
import { requestedVersion } from '../schema-version';
import { parseBody, produce, type RouteContext } from './context';

/** POST /ingest-<dataset>: one record, 200 once Kafka acknowledged it. */
export async function ingestOne(
  context: RouteContext,
  dataset: RegisteredDataset,
  request: HttpRequest,
): Promise<IngestResult> {
  const { definition } = dataset;
  const version = requestedVersion(dataset, request.headers);
  if (!version.ok)
    return { ...versionReply(version.error, definition.title), outcome: rejected(definition.name, 1) };
  const parsed = parseBody(context, request);
  if (!parsed.ok)
    return { ...problemReply(parsed.problem, definition.title), outcome: rejected(definition.name, 1) };
  const result = recordEncoder(
    version.version,
    request,
    context.clock(),
    context.maxMessageBytes,
  )(parsed.value);
  if (!result.ok) {
    const detail = inBody(result.errors);
    const tooLarge = result.errors[0]?.type === MESSAGE_TOO_LARGE;
    return {
      ...(tooLarge
        ? reply(413, { detail: result.errors[0]?.msg })
        : reply(422, { message: validationErrorMessage(detail.length, definition.title), detail })),
      outcome: rejected(definition.name, 1),
    };
  }
  const sent = await produce(context, dataset, [result.message]);
  if (!sent.ok) {
    return {
      ...unavailable(),
      outcome: { dataset: definition.name, accepted: 0, rejected: 0, produceError: sent.produceError },
    };
  }
  return {
    ...reply(200, { message: acceptedMessage(definition), [definition.idField]: result.id }),
    outcome: { dataset: definition.name, accepted: 1, rejected: 0, produceMs: sent.produceMs },
  };
}
