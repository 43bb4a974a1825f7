import { join } from 'node:path';
import { type ForkedService, forkService } from '../../services/process';
import type { SinkProcessConfig, SinkProcessMessage } from './main';

/** Starts and stops the local event source mapping process (./main.ts). */

/**
 * stop() (SIGTERM): the invocation in flight finishes and is committed, then the process exits. kill()
 * (SIGKILL): dies mid-batch, as a crashed poller would; nothing in flight is committed.
 */
export type SinkProcess = ForkedService<SinkProcessMessage>;

import { REPO_ROOT as ROOT } from '../../paths';
import { childConfigEnv } from '../../settings';

export function startSinkProcess(
  config: SinkProcessConfig,
  options: {
    readonly env?: NodeJS.ProcessEnv;
    readonly onMessage?: (message: SinkProcessMessage) => void;
    readonly readyTimeoutMs?: number;
    readonly logFile?: string;
  } = {},
): Promise<SinkProcess> {
  return forkService<SinkProcessMessage>(
    `The event source mapping for ${config.topics.join(', ')}`,
    join(__dirname, 'main.ts'),
    {
      cwd: ROOT,
      env: { ...(options.env ?? process.env), ...childConfigEnv('eventSourceMapping', config) },
      onMessage: options.onMessage,
      readyTimeoutMs: options.readyTimeoutMs,
      logFile: options.logFile,
    },
  );
}
