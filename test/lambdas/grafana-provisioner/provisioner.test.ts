/**
 * The Grafana provisioner (core + the Managed Grafana token client + the fetch client) against a local
 * HTTP stand-in for both the Managed Grafana control plane (SigV4-signed /workspaces/… calls) and the
 * workspace's Grafana HTTP API (/api/…, bearer token). The stand-in checks every request — signature
 * scope, live token, JSON body shape — and keeps the state, so idempotency is observed, not assumed.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CustomResourceRequest,
  GrafanaApiError,
  type ProvisioningSpec,
  provisionGrafana,
} from '../../../lambdas/grafana-provisioner/core';
import {
  fetchJson,
  managedGrafanaTokens,
  SERVICE_ACCOUNT_NAME,
  TOKEN_SECONDS_TO_LIVE,
} from '../../../lambdas/grafana-provisioner/managed-grafana';

const WORKSPACE = 'g-0123456789';

interface Logged {
  readonly method: string;
  readonly path: string;
}

class GrafanaStandIn {
  readonly log: Logged[] = [];
  readonly problems: string[] = [];
  readonly dataSources = new Map<string, Record<string, unknown>>();
  readonly folders = new Map<string, { uid: string; title: string; version: number }>();
  readonly dashboards = new Map<string, { dashboard: Record<string, unknown>; folderUid: string }>();
  readonly accounts: { id: string; name: string; grafanaRole: string }[] = [];
  readonly tokens = new Map<string, { id: string; key: string }>();
  workspaceExists = true;
  failNext?: { path: string; status: number };
  private server?: http.Server;
  private sequence = 0;

  async start(): Promise<string> {
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => {
        const { status, body } = this.handle(req, text);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body === undefined ? '' : JSON.stringify(body));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  private check(ok: boolean, problem: string) {
    if (!ok) this.problems.push(problem);
    return ok;
  }

  private handle(req: http.IncomingMessage, text: string): { status: number; body?: unknown } {
    const method = req.method ?? '';
    const path = req.url ?? '';
    this.log.push({ method, path });
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    if (text) this.check(req.headers['content-type'] === 'application/json', `${method} ${path}: not JSON`);
    if (this.failNext && path.startsWith(this.failNext.path)) {
      const { status } = this.failNext;
      this.failNext = undefined;
      return { status, body: { message: 'injected failure' } };
    }
    if (path.startsWith('/workspaces/')) return this.controlPlane(req, method, path, body);
    if (path.startsWith('/api/')) return this.grafana(req, method, path, body);
    this.check(false, `unexpected ${method} ${path}`);
    return { status: 404 };
  }

  private controlPlane(
    req: http.IncomingMessage,
    method: string,
    path: string,
    body?: Record<string, unknown>,
  ) {
    const auth = String(req.headers.authorization ?? '');
    if (
      !this.check(
        /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/grafana\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/.test(
          auth,
        ),
        `unsigned ${method} ${path}: ${auth}`,
      )
    )
      return { status: 403 };
    const base = `/workspaces/${WORKSPACE}/serviceaccounts`;
    if (!this.workspaceExists || !path.startsWith(base))
      return { status: 404, body: { message: 'ResourceNotFound' } };
    const rest = path.slice(base.length);
    if (method === 'GET' && rest === '') return { status: 200, body: { serviceAccounts: this.accounts } };
    if (method === 'POST' && rest === '') {
      this.check(
        body?.name === SERVICE_ACCOUNT_NAME && body?.grafanaRole === 'ADMIN',
        `account body ${text(body)}`,
      );
      const account = { id: String(++this.sequence), name: String(body?.name), grafanaRole: 'ADMIN' };
      this.accounts.push(account);
      return { status: 200, body: account };
    }
    const tokenPath = /^\/(\d+)\/tokens(?:\/(\d+))?$/.exec(rest);
    if (tokenPath && this.accounts.some((a) => a.id === tokenPath[1])) {
      if (method === 'POST' && !tokenPath[2]) {
        this.check(
          body?.secondsToLive === TOKEN_SECONDS_TO_LIVE && typeof body?.name === 'string',
          `token body ${text(body)}`,
        );
        const token = { id: String(++this.sequence), key: `glsa_${this.sequence}` };
        this.tokens.set(token.key, token);
        return { status: 200, body: { serviceAccountToken: { ...token, name: body?.name } } };
      }
      if (method === 'DELETE' && tokenPath[2]) {
        const key = [...this.tokens.values()].find((t) => t.id === tokenPath[2])?.key;
        if (!key) return { status: 404 };
        this.tokens.delete(key);
        return { status: 200, body: {} };
      }
    }
    this.check(false, `unexpected control-plane ${method} ${path}`);
    return { status: 404 };
  }

  private grafana(req: http.IncomingMessage, method: string, path: string, body?: Record<string, unknown>) {
    const key = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!this.check(this.tokens.has(key), `${method} ${path} without a live token`)) return { status: 401 };
    let m = /^\/api\/datasources(?:\/uid\/([^/]+))?$/.exec(path);
    if (m) {
      const uid = m[1] && decodeURIComponent(m[1]);
      if (method === 'POST' && !uid) {
        this.check(
          body?.access === 'proxy' && typeof body?.type === 'string',
          `data source body ${text(body)}`,
        );
        if (this.dataSources.has(String(body?.uid))) return { status: 409, body: { message: 'exists' } };
        this.dataSources.set(String(body?.uid), body ?? {});
        return { status: 200, body: {} };
      }
      if (!uid) return { status: 405 };
      const found = this.dataSources.get(uid);
      if (method === 'GET') return found ? { status: 200, body: found } : { status: 404 };
      if (method === 'PUT') {
        if (!found) return { status: 404 };
        this.dataSources.set(uid, body ?? {});
        return { status: 200, body: {} };
      }
      if (method === 'DELETE')
        return this.dataSources.delete(uid) ? { status: 200, body: {} } : { status: 404 };
    }
    m = /^\/api\/folders(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const uid = m[1] && decodeURIComponent(m[1]);
      if (method === 'POST' && !uid) {
        if (this.folders.has(String(body?.uid))) return { status: 409 };
        this.folders.set(String(body?.uid), {
          uid: String(body?.uid),
          title: String(body?.title),
          version: 1,
        });
        return { status: 200, body: {} };
      }
      const found = uid ? this.folders.get(uid) : undefined;
      if (method === 'GET') return found ? { status: 200, body: found } : { status: 404 };
      if (method === 'PUT' && found) {
        this.check(body?.version === found.version, `folder update without its version ${text(body)}`);
        this.folders.set(found.uid, { ...found, title: String(body?.title), version: found.version + 1 });
        return { status: 200, body: {} };
      }
      if (method === 'DELETE' && uid) {
        this.check(
          [...this.dashboards.values()].every((d) => d.folderUid !== uid),
          'folder deleted before its dashboards',
        );
        return this.folders.delete(uid) ? { status: 200, body: {} } : { status: 404 };
      }
    }
    if (method === 'POST' && path === '/api/dashboards/db') {
      const dashboard = body?.dashboard as Record<string, unknown>;
      const folderUid = String(body?.folderUid);
      this.check(body?.overwrite === true && dashboard?.id === null, `dashboard body ${text(body)}`);
      this.check(this.folders.has(folderUid), `dashboard into missing folder ${folderUid}`);
      this.dashboards.set(String(dashboard.uid), { dashboard, folderUid });
      return { status: 200, body: { uid: dashboard.uid } };
    }
    m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path);
    if (m && method === 'DELETE') {
      return this.dashboards.delete(decodeURIComponent(m[1] as string))
        ? { status: 200, body: {} }
        : { status: 404 };
    }
    this.check(false, `unexpected Grafana ${method} ${path}`);
    return { status: 404 };
  }
}

const text = (body: unknown) => JSON.stringify(body);

let standIn: GrafanaStandIn;
let url: string;

beforeEach(async () => {
  standIn = new GrafanaStandIn();
  url = await standIn.start();
});
afterEach(async () => {
  expect(standIn.problems).toEqual([]);
  // Every token issued was revoked: nothing long-lived is left behind.
  expect([...standIn.tokens.keys()]).toEqual([]);
  await standIn.stop();
});

const spec = (overrides: Partial<ProvisioningSpec> = {}): ProvisioningSpec => ({
  workspaceId: WORKSPACE,
  grafanaUrl: url,
  folder: { uid: 'lakehouse', title: 'Lakehouse' },
  dataSources: [
    {
      uid: 'cloudwatch',
      name: 'CloudWatch',
      type: 'cloudwatch',
      jsonData: { authType: 'ec2_iam_role', defaultRegion: 'eu-west-1' },
    },
    { uid: 'athena', name: 'Athena', type: 'grafana-athena-datasource', jsonData: { workgroup: 'wg' } },
  ],
  dashboards: [
    { uid: 'lakehouse-overview', title: 'Overview', panels: [] },
    { uid: 'second', title: 'Second', panels: [] },
  ],
  ...overrides,
});

const request = (
  type: CustomResourceRequest['RequestType'],
  current: ProvisioningSpec,
  old?: ProvisioningSpec,
): CustomResourceRequest => ({
  RequestType: type,
  PhysicalResourceId: type === 'Create' ? undefined : `grafana-provisioning:${WORKSPACE}`,
  ResourceProperties: { Spec: JSON.stringify(current) },
  OldResourceProperties: old && { Spec: JSON.stringify(old) },
});

const deps = () => ({
  tokens: managedGrafanaTokens({
    region: 'eu-west-1',
    endpoint: url,
    credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }),
  }),
  http: fetchJson,
});

describe('Grafana provisioner', () => {
  it('creates data sources, the folder and dashboards with a short-lived token it then deletes', async () => {
    const result = await provisionGrafana(request('Create', spec()), deps());
    expect(result).toEqual({
      physicalResourceId: `grafana-provisioning:${WORKSPACE}`,
      data: { Dashboards: 'lakehouse-overview,second', FolderUid: 'lakehouse' },
    });
    expect([...standIn.dataSources.keys()]).toEqual(['cloudwatch', 'athena']);
    expect([...standIn.dashboards.keys()]).toEqual(['lakehouse-overview', 'second']);
    expect(standIn.accounts).toHaveLength(1);
    const calls = standIn.log.map((l) => `${l.method} ${l.path}`);
    expect(calls[0]).toBe(`GET /workspaces/${WORKSPACE}/serviceaccounts`);
    expect(calls.at(-1)).toMatch(
      new RegExp(`^DELETE /workspaces/${WORKSPACE}/serviceaccounts/\\d+/tokens/\\d+$`),
    );
  });

  it('is idempotent: a repeated create and an update converge on the same state, reusing the account', async () => {
    await provisionGrafana(request('Create', spec()), deps());
    await provisionGrafana(request('Create', spec()), deps());
    const changed = spec({ folder: { uid: 'lakehouse', title: 'Lakehouse (prod)' } });
    await provisionGrafana(request('Update', changed, spec()), deps());
    expect(standIn.accounts).toHaveLength(1);
    expect(standIn.dataSources.size).toBe(2);
    expect(standIn.dashboards.size).toBe(2);
    expect(standIn.folders.get('lakehouse')).toEqual({
      uid: 'lakehouse',
      title: 'Lakehouse (prod)',
      version: 3,
    });
    expect(
      standIn.log.filter((l) => l.method === 'PUT' && l.path.startsWith('/api/datasources/')),
    ).toHaveLength(4);
  });

  it('an update deletes the dashboards and data sources the new spec dropped', async () => {
    await provisionGrafana(request('Create', spec()), deps());
    const smaller = spec({
      dashboards: [{ uid: 'lakehouse-overview', title: 'Overview' }],
      dataSources: [spec().dataSources[0] as never],
    });
    await provisionGrafana(request('Update', smaller, spec()), deps());
    expect([...standIn.dashboards.keys()]).toEqual(['lakehouse-overview']);
    expect([...standIn.dataSources.keys()]).toEqual(['cloudwatch']);
  });

  it('deletes everything it provisioned, and deleting again (or without a workspace) succeeds', async () => {
    await provisionGrafana(request('Create', spec()), deps());
    await provisionGrafana(request('Delete', spec()), deps());
    expect(standIn.dashboards.size + standIn.dataSources.size + standIn.folders.size).toBe(0);
    await provisionGrafana(request('Delete', spec()), deps());
    standIn.workspaceExists = false;
    await expect(provisionGrafana(request('Delete', spec()), deps())).resolves.toMatchObject({
      physicalResourceId: `grafana-provisioning:${WORKSPACE}`,
    });
  });

  it('fails on a Grafana error (and still revokes its token); a missing workspace fails a create', async () => {
    standIn.failNext = { path: '/api/dashboards/db', status: 500 };
    await expect(provisionGrafana(request('Create', spec()), deps())).rejects.toThrow(GrafanaApiError);
    standIn.workspaceExists = false;
    await expect(provisionGrafana(request('Create', spec()), deps())).rejects.toThrow(/ResourceNotFound/);
  });
});
