/**
 * The node's way to the API server: a client from admin.conf, with super-admin.conf only to create the
 * kubeadm:cluster-admins ClusterRoleBinding when admin.conf's group has no rights yet (kubeadm's
 * EnsureAdminClusterRoleBinding). Nothing is sent until a call is made.
 */
import type { ClusterSpec } from '../config/spec.js';
import type { Effects } from '../effects/types.js';
import { OperationError, errorMessage } from '../errors.js';
import type { ApiClient, EnsureOutcome } from '../kube/api.js';
import { adminKubeconfigPaths } from './names.js';

export interface ApiAccess {
  /** the client of admin.conf */
  readonly client: ApiClient;
  /** the client of super-admin.conf (undefined without the file); read on first use */
  readonly superAdmin: () => Promise<ApiClient | undefined>;
  /** one attempt at making sure kubeadm:cluster-admins exists (the caller retries while the API server comes up); after a success, the same answer without a request */
  readonly ensureClusterAdmins: (timeoutMs: number) => Promise<EnsureOutcome>;
}

/** The API server through admin.conf; undefined when admin.conf does not exist, an OperationError when it is unreadable. */
export async function openApi(fx: Effects, spec: ClusterSpec): Promise<ApiAccess | undefined> {
  const [{ kubeconfigCredentials }, { ApiClient, ensureClusterAdmins }] = await Promise.all([import('../kube/kubeconfig.js'), import('../kube/api.js')]);
  const read = async (p: string) => (await fx.readFile(p))?.toString('utf8');
  const load = async (path: string) => {
    const text = await read(path);
    return text === undefined ? undefined : kubeconfigCredentials(text, path, read);
  };
  const paths = adminKubeconfigPaths(spec);
  let admin;
  try {
    admin = await load(paths.admin);
  } catch (err) {
    throw new OperationError(`cannot read ${paths.admin}: ${errorMessage(err)}`);
  }
  if (!admin) return undefined;
  const client = new ApiClient(fx, admin, paths.admin);
  let superClient: ApiClient | undefined | null = null;
  const superAdmin = async () => {
    if (superClient === null) {
      const c = await load(paths.superAdmin).catch(() => undefined);
      superClient = c ? new ApiClient(fx, c, paths.superAdmin) : undefined;
    }
    return superClient;
  };
  // once the binding is known to exist, later phases of the run do not ask again (kubeadm's init client ensures it once)
  let ensured: EnsureOutcome | undefined;
  const ensure = async (timeoutMs: number): Promise<EnsureOutcome> => {
    if (ensured) return ensured;
    const r = await ensureClusterAdmins(client, superAdmin, timeoutMs);
    if (r.ok) ensured = r;
    return r;
  };
  return { client, superAdmin, ensureClusterAdmins: ensure };
}
