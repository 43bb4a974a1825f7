/**
 * Where the brokers are: a fixed list locally, the MSK cluster's IAM bootstrap string on AWS (looked up
 * once per cold start and cached, so requests never pay for the control-plane call).
 */
export type BrokerSource =
  | { readonly kind: 'static'; readonly brokers: readonly string[] }
  | { readonly kind: 'msk'; readonly clusterArn: string };

export function parseBrokerList(text: string): string[] {
  return text
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

async function mskBootstrapBrokers(clusterArn: string): Promise<string[]> {
  // Lazy: only AWS cold starts load the SDK client (provided by the Lambda runtime, not bundled).
  const { KafkaClient, GetBootstrapBrokersCommand } = await import('@aws-sdk/client-kafka');
  const out = await new KafkaClient({}).send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
  const brokers = parseBrokerList(out.BootstrapBrokerStringSaslIam ?? '');
  if (brokers.length === 0) throw new Error(`MSK cluster ${clusterArn} has no IAM bootstrap brokers`);
  return brokers;
}

/** A memoized resolver; a failed lookup is not cached, so the next request tries again. */
export function brokerResolver(source: BrokerSource): () => Promise<readonly string[]> {
  if (source.kind === 'static') {
    const brokers = Promise.resolve(source.brokers);
    return () => brokers;
  }
  let cached: Promise<readonly string[]> | undefined;
  return () => {
    cached ??= mskBootstrapBrokers(source.clusterArn).catch((error) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}
