/** A small Kubernetes API client over the effects' HTTPS (client certificate auth), and the cluster-admins binding. */
import type { Effects, HttpRequest, HttpResponse } from '../effects/types.js';
import type { ClientCredentials } from './kubeconfig.js';

export interface ApiResult<T = unknown> {
  readonly status: number;
  readonly body: T | undefined;
  readonly text: string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The patch types of the API server's PATCH (server-side apply is 'apply'). */
export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const PATCH_CONTENT_TYPE: Readonly<Record<PatchType, string>> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** One event of a watch stream. */
export interface WatchEvent<T = unknown> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

export class ApiClient {
  constructor(
    private readonly fx: Effects,
    readonly creds: ClientCredentials,
    readonly label: string,
  ) {}

  private tls() {
    return {
      ...(this.creds.ca !== undefined ? { ca: this.creds.ca } : {}),
      cert: this.creds.cert,
      key: this.creds.key,
      insecure: this.creds.insecure,
    };
  }

  async request<T = unknown>(
    method: HttpMethod,
    path: string,
    body?: unknown,
    timeoutMs = 5000,
    contentType = 'application/json',
    extra: Pick<HttpRequest, 'absentWhenUnreachable'> = {},
  ): Promise<ApiResult<T>> {
    const res: HttpResponse = await this.fx.http({
      url: `${this.creds.server}${path}`,
      method,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      ...this.tls(),
      timeoutMs,
      ...extra,
    });
    let parsed: T | undefined;
    try {
      parsed = res.body === '' ? undefined : (JSON.parse(res.body) as T);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text: res.body };
  }

  /**
   * GET an object or a list. `absentWhenUnreachable`: the caller treats 404 as "create it", so a dry run with no
   * server to ask may answer 404 (see HttpRequest).
   */
  get<T = unknown>(path: string, timeoutMs?: number, opts: { absentWhenUnreachable?: boolean } = {}): Promise<ApiResult<T>> {
    return this.request<T>('GET', path, undefined, timeoutMs, undefined, opts.absentWhenUnreachable ? { absentWhenUnreachable: true } : {});
  }
  /** POST: create an object in a collection */
  create<T = unknown>(collection: string, obj: unknown, timeoutMs?: number): Promise<ApiResult<T>> {
    return this.request<T>('POST', collection, obj, timeoutMs);
  }
  /** PUT: replace an object (the body carries its resourceVersion for an optimistic update) */
  replace<T = unknown>(path: string, obj: unknown, timeoutMs?: number): Promise<ApiResult<T>> {
    return this.request<T>('PUT', path, obj, timeoutMs);
  }
  /** PATCH with a merge, strategic-merge or JSON patch */
  patch<T = unknown>(path: string, patch: unknown, type: Exclude<PatchType, 'apply'>, timeoutMs?: number): Promise<ApiResult<T>> {
    return this.request<T>('PATCH', path, patch, timeoutMs, PATCH_CONTENT_TYPE[type]);
  }
  /** Server-side apply: PATCH application/apply-patch+yaml with a field manager (JSON is YAML) */
  apply<T = unknown>(path: string, obj: unknown, fieldManager: string, opts: { force?: boolean; timeoutMs?: number } = {}): Promise<ApiResult<T>> {
    const q = `fieldManager=${encodeURIComponent(fieldManager)}${opts.force ? '&force=true' : ''}`;
    return this.request<T>('PATCH', `${path}${path.includes('?') ? '&' : '?'}${q}`, obj, opts.timeoutMs, PATCH_CONTENT_TYPE.apply);
  }
  delete<T = unknown>(path: string, timeoutMs?: number): Promise<ApiResult<T>> {
    return this.request<T>('DELETE', path, undefined, timeoutMs);
  }

  /**
   * Watches a collection (`?watch=1`, from resourceVersion when given): each event goes to onEvent, which returns true
   * when the caller has seen what it waits for. Ends then, when the server closes the stream (after timeoutSeconds),
   * or when the signal aborts; returns the HTTP status (200 for a stream) and the events' count.
   */
  async watch<T = unknown>(
    collection: string,
    onEvent: (e: WatchEvent<T>) => boolean | void,
    opts: { resourceVersion?: string; timeoutSeconds?: number; signal?: AbortSignal } = {},
  ): Promise<{ status: number; events: number; text: string }> {
    const q = [`watch=1`, `allowWatchBookmarks=true`, ...(opts.resourceVersion ? [`resourceVersion=${encodeURIComponent(opts.resourceVersion)}`] : []), `timeoutSeconds=${opts.timeoutSeconds ?? 60}`].join('&');
    let events = 0;
    const res = await this.fx.httpStream(
      { url: `${this.creds.server}${collection}${collection.includes('?') ? '&' : '?'}${q}`, headers: { accept: 'application/json' }, ...this.tls() },
      (line) => {
        let e: WatchEvent<T>;
        try {
          e = JSON.parse(line) as WatchEvent<T>;
        } catch {
          return false;
        }
        events++;
        return onEvent(e) === true;
      },
      opts.signal,
    );
    return { status: res.status, events, text: res.body };
  }
}

/** `message` of a metav1.Status body, or the raw text. */
export function statusMessage(r: ApiResult): string {
  const b = r.body as { message?: unknown } | undefined;
  if (b && typeof b.message === 'string') return b.message;
  return r.text.trim().slice(0, 200) || `HTTP ${r.status}`;
}

export const CLUSTER_ADMINS = 'kubeadm:cluster-admins';
export const CRB_PATH = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';

/** ClusterRoleBinding kubeadm:cluster-admins → ClusterRole cluster-admin for the Group kubeadm:cluster-admins (reference §1.5). */
export function clusterAdminsBinding(): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: CLUSTER_ADMINS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: CLUSTER_ADMINS }],
  };
}

export type EnsureOutcome =
  | { readonly ok: true; readonly how: 'exists' | 'created-admin' | 'created-super-admin' | 'already-exists' }
  | { readonly ok: false; readonly error: string };

/**
 * Makes sure the ClusterRoleBinding kubeadm:cluster-admins exists before admin.conf is used: GET it with admin.conf;
 * on 403 (admin.conf's group has no rights yet) create it with super-admin.conf; on 404 create it with admin.conf;
 * 409 AlreadyExists counts as success. One attempt; the caller retries.
 */
export async function ensureClusterAdmins(
  admin: ApiClient,
  superAdmin: () => Promise<ApiClient | undefined>,
  timeoutMs: number,
): Promise<EnsureOutcome> {
  // (a dry run with no API server to ask reads "not found", and records the create)
  const get = await admin.get(`${CRB_PATH}/${encodeURIComponent(CLUSTER_ADMINS)}`, timeoutMs, { absentWhenUnreachable: true });
  if (get.status === 200) return { ok: true, how: 'exists' };
  let client: ApiClient;
  let how: 'created-admin' | 'created-super-admin';
  if (get.status === 403) {
    const sa = await superAdmin();
    if (!sa) {
      return {
        ok: false,
        error: `the ClusterRoleBinding for the ${CLUSTER_ADMINS} Group is missing but there is no super-admin.conf to create it`,
      };
    }
    client = sa;
    how = 'created-super-admin';
  } else if (get.status === 404) {
    client = admin;
    how = 'created-admin';
  } else {
    return { ok: false, error: `GET ${CRB_PATH}/${CLUSTER_ADMINS} with ${admin.label}: ${get.status} ${statusMessage(get)}` };
  }
  const post = await client.request('POST', CRB_PATH, clusterAdminsBinding(), timeoutMs);
  if (post.status === 200 || post.status === 201) return { ok: true, how };
  if (post.status === 409) return { ok: true, how: 'already-exists' };
  return { ok: false, error: `POST ${CRB_PATH} with ${client.label}: ${post.status} ${statusMessage(post)}` };
}
