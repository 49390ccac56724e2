/**
 * A fake API server for FakeEffects' http_ handler: objects by URL path, create (409 when present), read, list with an
 * equality label selector, replace (409 on a stale resourceVersion), delete. It adds what the API server adds
 * (uid, resourceVersion, creationTimestamp) and, when asked, fields a real server defaults, so that tests see what
 * kubeboot compares against in a live cluster. Every request is logged as "METHOD path".
 */
import type { HttpHandler } from './fake-effects.js';

type Obj = Record<string, any>;

export class FakeApiServer {
  readonly objects = new Map<string, Obj>();
  readonly calls: string[] = [];
  private rv = 100;
  /** answer every request with this status instead (e.g. 403, 500) */
  failWith: number | undefined;
  /** throw as a connection failure would */
  unreachable = false;
  /** fields the server adds to a stored object (defaulting), applied on create and update */
  defaulting: (path: string, obj: Obj) => void = () => {};

  constructor(readonly server = 'https://192.0.2.10:6443') {}

  /** Puts an object in as if someone created it. */
  seed(path: string, obj: Obj): void {
    this.rv++;
    this.objects.set(path, { ...obj, metadata: { ...obj.metadata, uid: `uid-${this.rv}`, resourceVersion: String(this.rv) } });
  }

  get(path: string): Obj | undefined {
    return this.objects.get(path);
  }

  private status(code: number, reason: string, message: string) {
    return { status: code, body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code, message }), headers: {} };
  }

  readonly handler: HttpHandler = (req) => {
    if (this.unreachable) throw Object.assign(new Error(`connect ECONNREFUSED ${new URL(req.url).host}`), { code: 'ECONNREFUSED' });
    const url = new URL(req.url);
    const path = decodeURIComponent(url.pathname);
    const method = req.method ?? 'GET';
    this.calls.push(`${method} ${url.pathname}${url.search}`);
    if (this.failWith !== undefined) return this.status(this.failWith, 'Failure', `injected ${this.failWith}`);
    const ok = (code: number, obj: unknown) => ({ status: code, body: JSON.stringify(obj), headers: {} });
    const body = req.body === undefined ? undefined : (JSON.parse(req.body) as Obj);
    switch (method) {
      case 'GET': {
        const hit = this.objects.get(path);
        if (hit) return ok(200, hit);
        // a collection: its direct children, filtered by an equality label selector
        const children = [...this.objects.entries()].filter(([p]) => p.startsWith(`${path}/`) && !p.slice(path.length + 1).includes('/'));
        const isCollection = /\/(configmaps|deployments|daemonsets|services|serviceaccounts|roles|rolebindings|clusterroles|clusterrolebindings)$/.test(path);
        if (!isCollection) return this.status(404, 'NotFound', `${path} not found`);
        const want = (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((kv) => kv.split('='));
        const items = children.map(([, o]) => o).filter((o) => want.every(([k, v]) => o.metadata?.labels?.[k as string] === v));
        return ok(200, { kind: 'List', apiVersion: 'v1', items });
      }
      case 'POST': {
        const key = `${path}/${body?.metadata?.name}`;
        if (this.objects.has(key)) return this.status(409, 'AlreadyExists', `${key} already exists`);
        this.rv++;
        const stored = structuredClone({ ...body, metadata: { ...body?.metadata, uid: `uid-${this.rv}`, resourceVersion: String(this.rv), creationTimestamp: '2026-01-01T00:00:00Z' } });
        this.defaulting(key, stored);
        this.objects.set(key, stored);
        return ok(201, stored);
      }
      case 'PUT': {
        const cur = this.objects.get(path);
        if (!cur) return this.status(404, 'NotFound', `${path} not found`);
        const rv = body?.metadata?.resourceVersion;
        if (rv && rv !== cur.metadata.resourceVersion) return this.status(409, 'Conflict', `${path}: the object has been modified`);
        this.rv++;
        const stored = structuredClone({ ...body, metadata: { ...body?.metadata, uid: cur.metadata.uid, resourceVersion: String(this.rv), creationTimestamp: cur.metadata.creationTimestamp } });
        this.defaulting(path, stored);
        this.objects.set(path, stored);
        return ok(200, stored);
      }
      case 'DELETE':
        if (!this.objects.delete(path)) return this.status(404, 'NotFound', `${path} not found`);
        return ok(200, { kind: 'Status', status: 'Success' });
      default:
        return this.status(405, 'MethodNotAllowed', `${method} not served`);
    }
  };
}
