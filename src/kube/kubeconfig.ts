/**
 * Reads a kubeconfig (admin.conf, super-admin.conf) into what an HTTPS client needs: the server URL, the CA and the
 * client certificate and key as PEM. Embedded *-data fields are base64; file references are read through the caller.
 */
import { parseYaml } from '../render/yaml.js';

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

type Named<T> = { name?: unknown } & { [k: string]: T | unknown };

function findNamed(list: unknown, name: string, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const e of list as Named<unknown>[]) {
    if (e && typeof e === 'object' && e.name === name) {
      const v = (e as Record<string, unknown>)[field];
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    }
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function b64(v: string, what: string, source: string): string {
  const text = Buffer.from(v, 'base64').toString('utf8');
  if (!text.includes('-----BEGIN')) throw new KubeconfigError(`${source}: ${what} is not base64-encoded PEM`);
  return text;
}

/**
 * Parses the current context of a kubeconfig. `readFile` resolves `certificate-authority`, `client-certificate` and
 * `client-key` file references (host paths).
 */
export async function parseKubeconfig(
  text: string,
  source: string,
  readFile: (path: string) => Promise<string | undefined>,
): Promise<ClientCredentials> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new KubeconfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new KubeconfigError(`${source}: not a kubeconfig (expected a YAML mapping)`);
  const d = doc as Record<string, unknown>;
  const current = str(d['current-context']);
  if (!current) throw new KubeconfigError(`${source}: no current-context`);
  const ctx = findNamed(d.contexts, current, 'context');
  if (!ctx) throw new KubeconfigError(`${source}: context "${current}" not found`);
  const clusterName = str(ctx.cluster);
  const userName = str(ctx.user);
  if (!clusterName || !userName) throw new KubeconfigError(`${source}: context "${current}" names no cluster or user`);
  const cluster = findNamed(d.clusters, clusterName, 'cluster');
  if (!cluster) throw new KubeconfigError(`${source}: cluster "${clusterName}" not found`);
  const user = findNamed(d.users, userName, 'user');
  if (!user) throw new KubeconfigError(`${source}: user "${userName}" not found`);
  const server = str(cluster.server);
  if (!server) throw new KubeconfigError(`${source}: cluster "${clusterName}" has no server`);
  try {
    new URL(server);
  } catch {
    throw new KubeconfigError(`${source}: server "${server}" is not a URL`);
  }
  const fromFile = async (p: string, what: string): Promise<string> => {
    const t = await readFile(p);
    if (t === undefined) throw new KubeconfigError(`${source}: ${what} file ${p} does not exist`);
    return t;
  };
  let ca: string | undefined;
  const caData = str(cluster['certificate-authority-data']);
  const caFile = str(cluster['certificate-authority']);
  if (caData) ca = b64(caData, 'certificate-authority-data', source);
  else if (caFile) ca = await fromFile(caFile, 'certificate-authority');
  const certData = str(user['client-certificate-data']);
  const certFile = str(user['client-certificate']);
  const keyData = str(user['client-key-data']);
  const keyFile = str(user['client-key']);
  const cert = certData ? b64(certData, 'client-certificate-data', source) : certFile ? await fromFile(certFile, 'client-certificate') : undefined;
  const key = keyData ? b64(keyData, 'client-key-data', source) : keyFile ? await fromFile(keyFile, 'client-key') : undefined;
  if (!cert || !key) throw new KubeconfigError(`${source}: user "${userName}" has no client certificate and key`);
  return {
    server: server.replace(/\/+$/, ''),
    ca,
    cert,
    key,
    user: userName,
    cluster: clusterName,
    insecure: cluster['insecure-skip-tls-verify'] === true,
  };
}
