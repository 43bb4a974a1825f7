/** An environment's settings by name, as the CDK app, the local platform and the tools ask for them. */

import type { DeployableConfig, DeployableEnvName, EnvironmentConfig } from './config';
import { DEPLOYABLE_ENVS, ENVIRONMENTS } from './deployable';
import { LOCAL } from './local';

/** A deployable environment's settings (literal names type as such), or the local platform's. */
export function environmentConfig(name: DeployableEnvName): DeployableConfig;
export function environmentConfig(name: 'local'): EnvironmentConfig;
export function environmentConfig(name: string | undefined): EnvironmentConfig;
export function environmentConfig(name: string | undefined): EnvironmentConfig {
  return name === 'local' ? LOCAL : deployableConfig(name);
}

/** A deployable environment's settings; the local platform is not deployed with CDK. */
export function deployableConfig(name: string | undefined): DeployableConfig {
  const config = ENVIRONMENTS[(name ?? '') as DeployableEnvName];
  if (!config) {
    const hint = name === 'local' ? ' The local environment is not deployed with CDK (see localstack/).' : '';
    throw new Error(`Unknown environment "${name}". Use one of: ${DEPLOYABLE_ENVS.join(', ')}.${hint}`);
  }
  return config;
}
