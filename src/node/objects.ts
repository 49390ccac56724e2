/**
 * Objects in the API server, as init's later phases make them: one call per object that creates it, or brings an
 * existing one to what the configuration says, or leaves it alone when it already says that — and reports which
 * (kubeadm's apiclient.CreateOrUpdate*, with an "unchanged" answer so that a re-run of init can say nothing changed).
 * "Equal" means every field kubeboot sets has the value kubeboot wants; fields the API server or others added are not
 * kubeboot's business. An update is a PUT of the existing object with kubeboot's fields set over it (its
 * resourceVersion makes it an optimistic write; a conflict is retried).
 */
import { OperationError } from '../errors.js';
import { statusMessage, type ApiClient, type ApiResult } from '../kube/api.js';
import type { Output } from '../workflow/events.js';
import { slot } from '../workflow/slots.js';

/** What happened to the API objects of this run, by outcome (the summary of init says it). */
export const OBJECT_TALLY = slot<Map<string, number>>('object-tally');

export type KubeObject = {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
};

export type ObjectOutcome = 'created' | 'updated' | 'unchanged' | 'retained';

/** The REST resource of each kind kubeboot writes. */
const RESOURCES: Readonly<Record<string, { readonly resource: string; readonly namespaced: boolean }>> = {
  ConfigMap: { resource: 'configmaps', namespaced: true },
  Secret: { resource: 'secrets', namespaced: true },
  ServiceAccount: { resource: 'serviceaccounts', namespaced: true },
  Service: { resource: 'services', namespaced: true },
  Deployment: { resource: 'deployments', namespaced: true },
  DaemonSet: { resource: 'daemonsets', namespaced: true },
  Role: { resource: 'roles', namespaced: true },
  RoleBinding: { resource: 'rolebindings', namespaced: true },
  ClusterRole: { resource: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { resource: 'clusterrolebindings', namespaced: false },
  Node: { resource: 'nodes', namespaced: false },
  Namespace: { resource: 'namespaces', namespaced: false },
};

/** The collection path of an object's kind (namespaced kinds in the object's namespace). */
export function collectionPath(apiVersion: string, kind: string, namespace?: string): string {
  const r = RESOURCES[kind];
  if (!r) throw new Error(`internal: kubeboot does not know the resource of kind ${kind}`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  if (!r.namespaced) return `${base}/${r.resource}`;
  if (!namespace) throw new Error(`internal: ${kind} needs a namespace`);
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${r.resource}`;
}

export function objectPath(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace)}/${encodeURIComponent(obj.metadata.name)}`;
}

export function describeObject(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
}

type Json = unknown;

/** Every field of `want` is in `have` with the same value (lists: same length, item by item). */
export function covers(have: Json, want: Json): boolean {
  if (want === null || typeof want !== 'object') return have === want;
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w));
  }
  if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
  const h = have as Record<string, Json>;
  return Object.entries(want as Record<string, Json>).every(([k, v]) => (v === undefined ? true : covers(h[k], v)));
}

/** `want`'s fields set over `have` (objects merged key by key; lists and scalars replaced). */
function overlay(have: Json, want: Json): Json {
  if (want === null || typeof want !== 'object' || Array.isArray(want)) return want;
  if (have === null || typeof have !== 'object' || Array.isArray(have)) return want;
  const out: Record<string, Json> = { ...(have as Record<string, Json>) };
  for (const [k, v] of Object.entries(want as Record<string, Json>)) if (v !== undefined) out[k] = overlay(out[k], v);
  return out;
}

function failure(what: string, r: ApiResult, client: ApiClient): OperationError {
  return new OperationError(`${what} with ${client.label}: ${r.status} ${statusMessage(r)}`);
}

export interface EnsureOptions {
  /** 'update' (default): bring an existing object to kubeboot's fields; 'retain': keep an existing one as it is */
  readonly existing?: 'update' | 'retain';
  /** fields (as key paths) not compared when deciding whether an existing object is up to date (still written on update) */
  readonly ignore?: readonly (readonly string[])[];
  readonly timeoutMs?: number;
}

function without(obj: Json, paths: readonly (readonly string[])[]): Json {
  const copy = structuredClone(obj) as Record<string, Json>;
  for (const p of paths) {
    let cur: Json = copy;
    for (let i = 0; i < p.length - 1 && cur !== null && typeof cur === 'object'; i++) cur = (cur as Record<string, Json>)[p[i] as string];
    if (cur !== null && typeof cur === 'object') delete (cur as Record<string, Json>)[p[p.length - 1] as string];
  }
  return copy;
}

/**
 * Creates `obj`, or updates the existing one to kubeboot's fields, or leaves it; returns what happened. Conflicts
 * (someone else wrote in between) are retried a few times.
 */
export async function ensureObject(client: ApiClient, obj: KubeObject, opts: EnsureOptions = {}): Promise<ObjectOutcome> {
  const path = objectPath(obj);
  const what = describeObject(obj);
  for (let attempt = 0; attempt < 5; attempt++) {
    // a dry run with no API server to ask reads "not found", and the create is recorded, not sent
    const cur = await client.get<Record<string, Json>>(path, opts.timeoutMs, { absentWhenUnreachable: true });
    if (cur.status === 404) {
      const r = await client.create(collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace), obj, opts.timeoutMs);
      if (r.status === 200 || r.status === 201) return 'created';
      if (r.status === 409) continue; // created in between: look again
      throw failure(`creating ${what}`, r, client);
    }
    if (cur.status !== 200 || !cur.body) throw failure(`reading ${what}`, cur, client);
    if (opts.existing === 'retain') return 'retained';
    if (covers(cur.body, opts.ignore ? without(obj, opts.ignore) : obj)) return 'unchanged';
    const next = overlay(cur.body, obj) as Record<string, Json>;
    const r = await client.replace(path, next, opts.timeoutMs);
    if (r.status === 200 || r.status === 201) return 'updated';
    if (r.status === 409) continue; // changed in between: read it again
    throw failure(`updating ${what}`, r, client);
  }
  throw new OperationError(`${what}: it kept changing while kubeboot updated it (5 conflicts)`);
}

/** An object event (shown with -v and in JSON), and the run's tally of what happened to objects. */
export function reportObject(out: Output, obj: Pick<KubeObject, 'kind' | 'metadata'>, outcome: ObjectOutcome | 'patched', tally?: Map<string, number>): void {
  tally?.set(outcome, (tally.get(outcome) ?? 0) + 1);
  out.emit({
    type: 'object',
    kind: obj.kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    status: outcome,
    ...(out.currentPhase ? { phase: out.currentPhase } : {}),
  });
}
