/**
 * The AWS side of the provisioner: short-lived Amazon Managed Grafana service-account tokens through the
 * `grafana` control-plane REST API, signed with the SDK's own SigV4 signer. (@aws-sdk/client-grafana lags
 * the other clients by a hundred releases and would bundle a second SDK core; three calls are small enough to
 * sign directly.) And a fetch-based JSON HTTP client.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { type HttpClient, type TokenIssuer, WorkspaceNotFoundError } from './core';

export const SERVICE_ACCOUNT_NAME = 'cloudformation-provisioner';
/** Long enough for one provisioning run; the token is also deleted when the run ends. */
export const TOKEN_SECONDS_TO_LIVE = 600;

export interface ManagedGrafanaOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** Default `https://grafana.<region>.amazonaws.com` (tests point it at a local stand-in). */
  readonly endpoint?: string;
  readonly now?: () => number;
}

export const fetchJson: HttpClient = async ({ method, url, token, body }) => {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? safeJson(text) : undefined };
};

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Admin tokens of a workspace's `cloudformation-provisioner` service account (created on first use). */
export function managedGrafanaTokens(options: ManagedGrafanaOptions): TokenIssuer {
  const endpoint = new URL(options.endpoint ?? `https://grafana.${options.region}.amazonaws.com`);
  const signer = new SignatureV4({
    service: 'grafana',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const signed = await signer.sign({
      method,
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path,
      query: {},
      headers: {
        host: endpoint.host,
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: payload,
    });
    const response = await fetch(new URL(path, endpoint), {
      method,
      headers: signed.headers,
      body: payload,
    });
    const text = await response.text();
    if (response.status === 404) throw new WorkspaceNotFoundError(`${method} ${path}: ${text}`);
    if (!response.ok) throw new Error(`Managed Grafana ${method} ${path}: HTTP ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  return async (workspaceId) => {
    const base = `/workspaces/${encodeURIComponent(workspaceId)}/serviceaccounts`;
    const listed = (await call('GET', base)) as { serviceAccounts?: { id: string; name: string }[] };
    const existing = listed.serviceAccounts?.find((a) => a.name === SERVICE_ACCOUNT_NAME);
    const accountId =
      existing?.id ??
      ((await call('POST', base, { name: SERVICE_ACCOUNT_NAME, grafanaRole: 'ADMIN' })) as { id: string }).id;
    const tokens = `${base}/${encodeURIComponent(accountId)}/tokens`;
    const created = (await call('POST', tokens, {
      name: `provisioning-${(options.now ?? Date.now)()}`,
      secondsToLive: TOKEN_SECONDS_TO_LIVE,
    })) as { serviceAccountToken: { id: string; key: string } };
    const { id, key } = created.serviceAccountToken;
    return {
      key,
      revoke: async () => {
        await call('DELETE', `${tokens}/${encodeURIComponent(id)}`);
      },
    };
  };
}
