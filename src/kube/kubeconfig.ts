/**
 * Reading a kubeconfig back, one parser for every use: the current context's cluster and user as a view (the PKI's
 * existing-file checks, check-expiration, renew), and the credentials an HTTPS client needs (server URL, CA, client
 * certificate and key as PEM), with `certificate-authority` / `client-certificate` / `client-key` file references
 * read through the caller. Errors are kubeadm's wording where kubeadm has one.
 */
import { parseYaml } from '../render/yaml.js';

/** The current context's cluster and user. */
export interface KubeconfigView {
  readonly currentContext: string;
  readonly clusterName: string;
  readonly server: string;
  /** embedded CA (decoded), when present */
  readonly caData: string | undefined;
  /** a CA file path (certificate-authority), when present */
  readonly caFile: string | undefined;
  readonly insecure: boolean;
  readonly user: string;
  readonly clientCertData: string | undefined;
  readonly clientKeyData: string | undefined;
  readonly clientCertFile: string | undefined;
  readonly clientKeyFile: string | undefined;
}

export interface ClientCredentials {
  readonly server: string;
  readonly ca: string | undefined;
  readonly cert: string;
  readonly key: string;
  readonly user: string;
  readonly cluster: string;
  readonly insecure: boolean;
}

export class KubeconfigError extends Error {}

type Named = { name?: unknown; [k: string]: unknown };

function findNamed(list: unknown, name: string, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const item = (list as Named[]).find((x) => x !== null && typeof x === 'object' && x.name === name);
  const inner = item?.[field];
  return inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function decoded(v: unknown): string | undefined {
  const s = str(v);
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
}

/** Parses a kubeconfig's current context; returns an error message instead of throwing. */
export function parseKubeconfig(text: string): KubeconfigView | string {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return `it is not valid YAML: ${(err as Error).message.split('\n')[0]}`;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'it is not a kubeconfig (not a YAML mapping)';
  const d = doc as Record<string, unknown>;
  const current = d['current-context'];
  if (typeof current !== 'string' || current === '') return 'it has no current-context';
  const ctx = findNamed(d.contexts, current, 'context');
  if (!ctx) return `failed to find CurrentContext "${current}" in Contexts of the kubeconfig file`;
  const clusterName = typeof ctx.cluster === 'string' ? ctx.cluster : '';
  const cluster = findNamed(d.clusters, clusterName, 'cluster');
  if (!cluster) return `failed to find the cluster "${clusterName}" of CurrentContext "${current}" in Clusters of the kubeconfig file`;
  const user = typeof ctx.user === 'string' ? ctx.user : '';
  const auth = findNamed(d.users, user, 'user');
  return {
    currentContext: current,
    clusterName,
    server: typeof cluster.server === 'string' ? cluster.server : '',
    caData: decoded(cluster['certificate-authority-data']),
    caFile: str(cluster['certificate-authority']),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    user,
    clientCertData: decoded(auth?.['client-certificate-data']),
    clientKeyData: decoded(auth?.['client-key-data']),
    clientCertFile: str(auth?.['client-certificate']),
    clientKeyFile: str(auth?.['client-key']),
  };
}

function pem(text: string | undefined, what: string, source: string): string | undefined {
  if (text === undefined) return undefined;
  if (!text.includes('-----BEGIN')) throw new KubeconfigError(`${source}: ${what} is not base64-encoded PEM`);
  return text;
}

/**
 * The credentials of a kubeconfig's current context. `readFile` resolves `certificate-authority`,
 * `client-certificate` and `client-key` file references (host paths). Errors name the file.
 */
export async function kubeconfigCredentials(
  text: string,
  source: string,
  readFile: (path: string) => Promise<string | undefined>,
): Promise<ClientCredentials> {
  const v = parseKubeconfig(text);
  if (typeof v === 'string') throw new KubeconfigError(`${source}: ${v}`);
  if (v.server === '') throw new KubeconfigError(`${source}: cluster "${v.clusterName}" has no server`);
  try {
    new URL(v.server);
  } catch {
    throw new KubeconfigError(`${source}: server "${v.server}" is not a URL`);
  }
  const fromFile = async (p: string, what: string): Promise<string> => {
    const t = await readFile(p);
    if (t === undefined) throw new KubeconfigError(`${source}: ${what} file ${p} does not exist`);
    return t;
  };
  const ca = pem(v.caData, 'certificate-authority-data', source) ?? (v.caFile ? await fromFile(v.caFile, 'certificate-authority') : undefined);
  const cert = pem(v.clientCertData, 'client-certificate-data', source) ?? (v.clientCertFile ? await fromFile(v.clientCertFile, 'client-certificate') : undefined);
  const key = pem(v.clientKeyData, 'client-key-data', source) ?? (v.clientKeyFile ? await fromFile(v.clientKeyFile, 'client-key') : undefined);
  if (!cert || !key) throw new KubeconfigError(`${source}: user "${v.user}" has no client certificate and key`);
  return { server: v.server.replace(/\/+$/, ''), ca, cert, key, user: v.user, cluster: v.clusterName, insecure: v.insecure };
}

// ------------------------------------------------------------------------------------------ whole documents (merge)

/** A whole kubeconfig as read: every field kept, unknown ones included, so that writing it back loses nothing. */
export type KubeconfigDocument = Record<string, unknown>;

/** The three named lists of a kubeconfig and the field that holds each entry's body. */
export const KUBECONFIG_LISTS = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses a whole kubeconfig and checks the shape kubectl reads: a mapping, `kind: Config` and `apiVersion: v1` when
 * given, `clusters`, `users` and `contexts` lists of mappings that each have a name. An empty file (or one holding
 * only comments) is an empty kubeconfig, as kubectl reads it. Returns what is wrong instead of throwing.
 */
export function parseKubeconfigDocument(text: string): KubeconfigDocument | string {
  if (text.split('\n').every((l) => /^\s*(#.*)?$/.test(l))) return {};
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return `it is not valid YAML: ${(err as Error).message.split('\n')[0]}`;
  }
  if (doc === undefined || doc === null) return {};
  if (!isMapping(doc)) return 'it is not a kubeconfig (not a YAML mapping)';
  if (doc.kind !== undefined && doc.kind !== null && doc.kind !== 'Config') return `it is not a kubeconfig: kind is "${String(doc.kind)}", not Config`;
  if (doc.apiVersion !== undefined && doc.apiVersion !== null && doc.apiVersion !== 'v1') return `apiVersion is "${String(doc.apiVersion)}"; kubeconfig files are v1`;
  const current = doc['current-context'];
  if (current !== undefined && current !== null && typeof current !== 'string') return 'current-context is not a string';
  for (const [list, field] of KUBECONFIG_LISTS) {
    const v = doc[list];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) return `${list} is not a list`;
    for (const [i, e] of v.entries()) {
      if (!isMapping(e)) return `${list}[${i}] is not a mapping`;
      if (typeof e.name !== 'string' || e.name === '') return `${list}[${i}] has no name`;
      const body = e[field];
      if (body !== undefined && body !== null && !isMapping(body)) return `${list}[${i}] ("${e.name}"): ${field} is not a mapping`;
    }
  }
  return doc;
}

/** A cluster, a user and a context under one name (kind's way: kind-<cluster> names all three). */
export interface KubeconfigEntries {
  readonly name: string;
  readonly cluster: Readonly<Record<string, unknown>>;
  readonly user: Readonly<Record<string, unknown>>;
  readonly context: Readonly<Record<string, unknown>>;
}

export interface KubeconfigMerge {
  readonly doc: KubeconfigDocument;
  /** which of cluster, user, context were not there and were added */
  readonly added: readonly ('cluster' | 'user' | 'context')[];
  /** which had an entry of that name, replaced */
  readonly replaced: readonly ('cluster' | 'user' | 'context')[];
  /** current-context before the merge ('' when none) */
  readonly previousContext: string;
}

/**
 * Puts the entries into a kubeconfig document (PURE): an entry of the same name in the same list is replaced where
 * it stands (further ones of that name are dropped), a new one goes last; every other entry and every other field
 * stays as it was. current-context becomes the entries' context; apiVersion and kind are filled in when absent.
 */
export function mergeKubeconfig(doc: KubeconfigDocument, e: KubeconfigEntries): KubeconfigMerge {
  const out: KubeconfigDocument = { ...doc };
  const added: ('cluster' | 'user' | 'context')[] = [];
  const replaced: ('cluster' | 'user' | 'context')[] = [];
  for (const [list, field] of KUBECONFIG_LISTS) {
    const entry = { name: e.name, [field]: { ...e[field] } };
    const cur = Array.isArray(doc[list]) ? (doc[list] as Mapping[]) : [];
    const at = cur.findIndex((x) => x.name === e.name);
    if (at < 0) {
      out[list] = [...cur, entry];
      added.push(field);
    } else {
      out[list] = [...cur.slice(0, at), entry, ...cur.slice(at + 1).filter((x) => x.name !== e.name)];
      replaced.push(field);
    }
  }
  if (out.apiVersion === undefined || out.apiVersion === null) out.apiVersion = 'v1';
  if (out.kind === undefined || out.kind === null) out.kind = 'Config';
  const previous = doc['current-context'];
  out['current-context'] = e.name;
  return { doc: out, added, replaced, previousContext: typeof previous === 'string' ? previous : '' };
}

/**
 * The current context's cluster, user and context bodies of a kubeconfig, whole (every field, so that
 * `tls-server-name`, `proxy-url` or a namespace come along), to be exported under another name. The context's
 * cluster and user are renamed with it.
 */
export function currentContextEntries(doc: KubeconfigDocument, name: string): KubeconfigEntries | string {
  const current = doc['current-context'];
  if (typeof current !== 'string' || current === '') return 'it has no current-context';
  const body = (list: string, field: string, n: string): Mapping | undefined => {
    const items = Array.isArray(doc[list]) ? (doc[list] as Mapping[]) : [];
    const b = items.find((x) => isMapping(x) && x.name === n)?.[field];
    return isMapping(b) ? b : undefined;
  };
  const context = body('contexts', 'context', current);
  if (!context) return `failed to find CurrentContext "${current}" in Contexts of the kubeconfig file`;
  const clusterName = typeof context.cluster === 'string' ? context.cluster : '';
  const cluster = body('clusters', 'cluster', clusterName);
  if (!cluster) return `failed to find the cluster "${clusterName}" of CurrentContext "${current}" in Clusters of the kubeconfig file`;
  const userName = typeof context.user === 'string' ? context.user : '';
  const user = body('users', 'user', userName);
  if (!user) return `failed to find the user "${userName}" of CurrentContext "${current}" in Users of the kubeconfig file`;
  return { name, cluster: { ...cluster }, user: { ...user }, context: { ...context, cluster: name, user: name } };
}
