/**
 * The sink Lambda's settings: environment variable NAMES (CDK and the local platform import these, never
 * repeat the strings) and the reader that turns them into typed settings.
 */
export const RAW_BUCKET = 'RAW_BUCKET';
export const QUARANTINE_BUCKET = 'QUARANTINE_BUCKET';
export const GLUE_DATABASE = 'GLUE_DATABASE';

/**
 * Hour files a batch may write per topic-partition before the rest of its records go to one `late` file
 * (see keys.ts): bounds the objects and Glue partitions of one invocation whatever the event times.
 */
export const DEFAULT_MAX_HOUR_FILES = 8;

export interface SinkSettings {
  readonly rawBucket: string;
  readonly quarantineBucket: string;
  readonly glueDatabase: string;
  /** DEFAULT_MAX_HOUR_FILES unless a test sets it. */
  readonly maxHourFiles?: number;
}

export function sinkSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): SinkSettings {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`Environment variable ${name} is required by the sink`);
    return value;
  };
  return {
    rawBucket: required(RAW_BUCKET),
    quarantineBucket: required(QUARANTINE_BUCKET),
    glueDatabase: required(GLUE_DATABASE),
  };
}
