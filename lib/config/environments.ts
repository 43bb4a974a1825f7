/**
 * Every environment's settings, the one module the rest imports: the deployable ones (`cdk synth|deploy -c
 * env=<name>`) as one base plus each environment's overrides, and the local platform's (localstack/) in its
 * own small object. The parts, in environments/, in the order they build on each other: settings.ts,
 * config.ts, base.ts, deployable.ts, local.ts, lookup.ts.
 */

import type { DeployableConfig } from './environments/config';

export * from './environments/config';
export { AWS_ENVS, DEPLOYABLE_ENVS, ENVIRONMENTS, HYBRID_KAFKA_ENV } from './environments/deployable';
export { EMULATOR_ACCOUNT, LOCAL } from './environments/local';
export { deployableConfig, environmentConfig } from './environments/lookup';
export * from './environments/settings';

/** The alarm topic's name: Observability names its topic so, and the sink's alarms publish to it by name. */
export function alarmTopicName(config: Pick<DeployableConfig, 'prefix'>): string {
  return `${config.prefix}-alarms`;
}
