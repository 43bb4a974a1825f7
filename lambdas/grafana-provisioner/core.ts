/**
 * Provisions data sources, a folder and dashboards into a Grafana workspace through the Grafana HTTP API,
 * for a CloudFormation custom resource: idempotent create and update (upsert by uid; what an update drops
 * is deleted), delete tolerant of what is already gone. Collaborators come in as arguments: the workspace
 * token issuer (Amazon Managed Grafana service-account tokens on AWS) and the HTTP client.
 */

export interface HttpResponse {
  readonly status: number;
  readonly body: unknown;
}

/** One JSON request to `baseUrl + path` with the given bearer token. */
export type HttpClient = (request: {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly token: string;
  readonly body?: unknown;
}) => Promise<HttpResponse>;

export interface WorkspaceToken {
  readonly key: string;
  /** Deletes the token (it also expires by itself within minutes). */
  revoke(): Promise<void>;
}

/** Issues a short-lived admin token of one workspace. */
export type TokenIssuer = (workspaceId: string) => Promise<WorkspaceToken>;

export interface DataSourceSpec {
  readonly uid: string;
  readonly name: string;
  readonly type: string;
  readonly jsonData: Record<string, unknown>;
}

/** The custom resource's properties (CloudFormation passes every value as a string, hence JSON). */
export interface ProvisioningSpec {
  readonly workspaceId: string;
  /** https://<workspace endpoint> */
  readonly grafanaUrl: string;
  readonly folder: { readonly uid: string; readonly title: string };
  readonly dataSources: readonly DataSourceSpec[];
  /** Dashboard models, each with a `uid`. */
  readonly dashboards: readonly Record<string, unknown>[];
}

export interface CustomResourceRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly Spec: string };
  readonly OldResourceProperties?: { readonly Spec: string };
}

export interface CustomResourceResult {
  readonly physicalResourceId: string;
  readonly data: Record<string, string>;
}

export class GrafanaApiError extends Error {}

/** Thrown by a TokenIssuer when the workspace does not exist (any more). */
export class WorkspaceNotFoundError extends Error {}

/** The Grafana HTTP API calls the provisioner makes, against one workspace with one token. */
function grafanaApi(http: HttpClient, baseUrl: string, token: string) {
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
    return http({ method, url: `${baseUrl}${path}`, token, body });
  };
  const expect = (response: HttpResponse, what: string, ok: (status: number) => boolean) => {
    if (!ok(response.status)) {
      throw new GrafanaApiError(`${what}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response;
  };
  const success = (s: number) => s >= 200 && s < 300;
  const successOrGone = (s: number) => success(s) || s === 404;
  return {
    async upsertDataSource(ds: DataSourceSpec) {
      const body = { ...ds, access: 'proxy' };
      const path = `/api/datasources/uid/${encodeURIComponent(ds.uid)}`;
      const existing = await call('GET', path);
      if (existing.status === 404) {
        expect(await call('POST', '/api/datasources', body), `create data source ${ds.uid}`, success);
      } else {
        expect(existing, `read data source ${ds.uid}`, success);
        expect(await call('PUT', path, body), `update data source ${ds.uid}`, success);
      }
    },
    async deleteDataSource(uid: string) {
      const path = `/api/datasources/uid/${encodeURIComponent(uid)}`;
      expect(await call('DELETE', path), `delete data source ${uid}`, successOrGone);
    },
    async ensureFolder(folder: ProvisioningSpec['folder']) {
      const path = `/api/folders/${encodeURIComponent(folder.uid)}`;
      const existing = await call('GET', path);
      if (existing.status === 404) {
        expect(await call('POST', '/api/folders', folder), `create folder ${folder.uid}`, success);
      } else {
        expect(existing, `read folder ${folder.uid}`, success);
        const version = (existing.body as { version?: number }).version;
        expect(await call('PUT', path, { ...folder, version }), `update folder ${folder.uid}`, success);
      }
    },
    async deleteFolder(uid: string) {
      expect(
        await call('DELETE', `/api/folders/${encodeURIComponent(uid)}`),
        `delete folder ${uid}`,
        successOrGone,
      );
    },
    async putDashboard(dashboard: Record<string, unknown>, folderUid: string) {
      // `id: null` with `overwrite`: Grafana matches the dashboard by uid, creating or replacing it.
      const body = {
        dashboard: { ...dashboard, id: null },
        folderUid,
        overwrite: true,
        message: 'CloudFormation',
      };
      expect(await call('POST', '/api/dashboards/db', body), `put dashboard ${dashboard.uid}`, success);
    },
    async deleteDashboard(uid: string) {
      const path = `/api/dashboards/uid/${encodeURIComponent(uid)}`;
      expect(await call('DELETE', path), `delete dashboard ${uid}`, successOrGone);
    },
  };
}

const dashboardUid = (d: Record<string, unknown>): string => {
  if (typeof d.uid !== 'string' || d.uid === '')
    throw new Error(`A dashboard has no uid: ${String(d.title)}`);
  return d.uid;
};

export function parseSpec(text: string): ProvisioningSpec {
  const spec = JSON.parse(text) as ProvisioningSpec;
  for (const key of ['workspaceId', 'grafanaUrl', 'folder', 'dataSources', 'dashboards'] as const) {
    if (spec[key] === undefined) throw new Error(`Spec lacks ${key}`);
  }
  return spec;
}

/** Handles one custom resource request; the physical id names the workspace, so a new workspace replaces it. */
export async function provisionGrafana(
  request: CustomResourceRequest,
  deps: { readonly tokens: TokenIssuer; readonly http: HttpClient },
): Promise<CustomResourceResult> {
  const spec = parseSpec(request.ResourceProperties.Spec);
  const physicalResourceId = `grafana-provisioning:${spec.workspaceId}`;
  let token: WorkspaceToken;
  try {
    token = await deps.tokens(spec.workspaceId);
  } catch (error) {
    // Nothing left to delete in a workspace that is gone; anything else must not pass silently.
    if (request.RequestType === 'Delete' && error instanceof WorkspaceNotFoundError) {
      return { physicalResourceId: request.PhysicalResourceId ?? physicalResourceId, data: {} };
    }
    throw error;
  }
  try {
    const api = grafanaApi(deps.http, spec.grafanaUrl.replace(/\/$/, ''), token.key);
    if (request.RequestType === 'Delete') {
      for (const d of spec.dashboards) await api.deleteDashboard(dashboardUid(d));
      await api.deleteFolder(spec.folder.uid);
      for (const ds of spec.dataSources) await api.deleteDataSource(ds.uid);
      return { physicalResourceId: request.PhysicalResourceId ?? physicalResourceId, data: {} };
    }
    for (const ds of spec.dataSources) await api.upsertDataSource(ds);
    await api.ensureFolder(spec.folder);
    for (const d of spec.dashboards) await api.putDashboard(d, spec.folder.uid);
    // An update in place removes what the new spec no longer has (a replacement's Delete removes the rest).
    const old = request.OldResourceProperties && parseSpec(request.OldResourceProperties.Spec);
    if (request.RequestType === 'Update' && old && old.workspaceId === spec.workspaceId) {
      const keep = new Set(spec.dashboards.map(dashboardUid));
      for (const d of old.dashboards)
        if (!keep.has(dashboardUid(d))) await api.deleteDashboard(dashboardUid(d));
      const keepSources = new Set(spec.dataSources.map((ds) => ds.uid));
      for (const ds of old.dataSources) if (!keepSources.has(ds.uid)) await api.deleteDataSource(ds.uid);
    }
    return {
      physicalResourceId,
      data: { Dashboards: spec.dashboards.map(dashboardUid).join(','), FolderUid: spec.folder.uid },
    };
  } finally {
    await token.revoke();
  }
}
