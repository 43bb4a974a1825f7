import { join } from 'node:path';
import { type ForkedService, forkService } from '../../services/process';
import type { ApiParentMessage, ApiProcessConfig, ApiProcessMessage } from './main';
import type { ApiMetrics } from './metrics';

/** Starts and stops the local API process (./main.ts); its metrics are recorded and rendered here. */

export type ApiProcess = ForkedService<ApiProcessMessage> & { readonly url: string };

import { REPO_ROOT as ROOT } from '../../paths';
import { childConfigEnv } from '../../settings';

export async function startApiProcess(
  config: ApiProcessConfig,
  options: {
    readonly env: NodeJS.ProcessEnv;
    readonly metrics: ApiMetrics;
    readonly onRecords?: (dataset: string, produced: number, rejected: number) => void;
    readonly logFile?: string;
  },
): Promise<ApiProcess> {
  const service = await forkService<ApiProcessMessage>('The local API', join(__dirname, 'main.ts'), {
    cwd: ROOT,
    env: { ...options.env, ...childConfigEnv('api', config) },
    logFile: options.logFile,
    onMessage: (message, child) => {
      if (message.type === 'request') options.metrics.observeRequest(message);
      else if (message.type === 'records')
        options.onRecords?.(message.dataset, message.produced, message.rejected);
      else if (message.type === 'render-metrics') {
        options.metrics.render().then((rendered) => {
          const answer: ApiParentMessage = { type: 'metrics', id: message.id, ...rendered };
          if (child.connected) child.send(answer);
        });
      }
    },
  });
  const url = service.ready.type === 'ready' ? service.ready.url : '';
  return { ...service, url };
}
