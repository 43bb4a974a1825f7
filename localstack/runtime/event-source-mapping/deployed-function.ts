import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { MskHandler } from './event-source-mapping';

/**
 * A deployed function as the mapping's handler (hybrid: the emulator has no Kafka event source mapping,
 * so the local one invokes the deployed sink through the Lambda API, synchronously, as Lambda's pollers
 * do). A function error (the handler threw, or its bundle did not load) rejects, so the batch is retried
 * and finally given up to the on-failure destination exactly as for the in-process handler.
 */
export function deployedFunction(client: LambdaClient, functionName: string): MskHandler {
  return async (event) => {
    const response = await client.send(
      new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }),
    );
    const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
    if (response.FunctionError) {
      throw new Error(`${functionName} failed (${response.FunctionError}): ${errorMessageOf(text)}`);
    }
    return text === '' || text === 'null' ? undefined : JSON.parse(text);
  };
}

/** Lambda's error payload is `{"errorType", "errorMessage", ...}`; anything else is shown as it came. */
function errorMessageOf(payload: string): string {
  try {
    const { errorType, errorMessage } = JSON.parse(payload) as Record<string, unknown>;
    if (typeof errorMessage === 'string') return `${errorType ?? 'Error'}: ${errorMessage}`;
  } catch {
    // not JSON: shown whole
  }
  return payload.slice(0, 2_000);
}
