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
