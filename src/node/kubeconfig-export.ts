/**
 * The admin kubeconfig in the user's hands (`kubeboot kubeconfig`): read /etc/kubernetes/admin.conf (under --root when
 * given), print it, write it to a file of the user's, or merge its cluster, user and context into the user's
 * kubeconfig under one name (`kubeboot-<clusterName>` unless --context says otherwise), as kind does with
 * `kind-<name>`. Two effects: `node` reads the node's files (mapped under --root), `user` reads and writes the user's
 * file (a path as the user gave it, never under --root). Parsing is src/kube/kubeconfig.ts's, writing YAML
 * src/render/yaml.ts's.
 */
import { posix } from 'node:path';
import { KUBERNETES_DIR } from '../config/spec.js';
import type { Effects, WriteStatus } from '../effects/types.js';
import { ConfigError, OperationError, PreflightError } from '../errors.js';
import {
  currentContextEntries,
  mergeKubeconfig,
  parseKubeconfigDocument,
  parseKubeconfig,
  type KubeconfigDocument,
  type KubeconfigEntries,
  type KubeconfigView,
} from '../kube/kubeconfig.js';
import { SerializeError, toYaml } from '../render/yaml.js';

export const ADMIN_CONF = `${KUBERNETES_DIR}/admin.conf`;
/** The prefix of the default context name: kubeboot-<clusterName> (kind's is kind-<name>). */
export const CONTEXT_PREFIX = 'kubeboot-';
/** A kubeconfig kubeboot creates: readable by its owner only (it holds a cluster-admin key). */
export const NEW_FILE_MODE = 0o600;
/** The directory kubeboot creates for a new kubeconfig (~/.kube when it does not exist). */
export const NEW_DIR_MODE = 0o700;

export interface AdminKubeconfig {
  readonly path: string;
  readonly text: string;
  readonly doc: KubeconfigDocument;
  readonly view: KubeconfigView;
}

function where(fx: Effects): string {
  return fx.describe === 'host' ? '' : ` (under ${fx.realPath('/')})`;
}

/** admin.conf, parsed. Missing: this is not a node kubeboot set up (exit 2). Unreadable: exit 1, naming the file. */
export async function readAdminKubeconfig(node: Effects): Promise<AdminKubeconfig> {
  const raw = await node.readFile(ADMIN_CONF);
  if (!raw) {
    throw new PreflightError(`${ADMIN_CONF}${where(node)} does not exist: this node has no control plane set up by kubeboot init`, [], {
      hint: "run 'kubeboot init' here first (or give --root DIR for a node kubeboot set up under DIR)",
    });
  }
  const text = raw.toString('utf8');
  const doc = parseKubeconfigDocument(text);
  const view = parseKubeconfig(text);
  const problem = typeof doc === 'string' ? doc : typeof view === 'string' ? view : undefined;
  if (problem !== undefined || typeof doc === 'string' || typeof view === 'string') {
    throw new OperationError(`${ADMIN_CONF}${where(node)} is not a usable kubeconfig: ${problem}`, {
      hint: "regenerate it with 'kubeboot init phase kubeconfig admin' after moving the broken file away",
    });
  }
  return { path: ADMIN_CONF, text, doc, view };
}

/** kubeboot-<the cluster name of admin.conf's current context> (`kubeboot-kubernetes` by default). */
export function defaultContextName(admin: AdminKubeconfig): string {
  return `${CONTEXT_PREFIX}${admin.view.clusterName}`;
}

/** A name for --context: not empty, no surrounding blanks, no control characters. Returns what is wrong. */
export function contextNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.trim() !== name) return 'it starts or ends with a blank';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it holds a control character';
  return undefined;
}

const FILE_REFERENCES = [
  ['cluster', 'certificate-authority', 'certificate-authority-data'],
  ['user', 'client-certificate', 'client-certificate-data'],
  ['user', 'client-key', 'client-key-data'],
] as const;

/**
 * admin.conf's cluster, user and context under `name`. Files admin.conf refers to (certificate-authority,
 * client-certificate, client-key: an external CA's admin.conf may use them) are embedded, so that the exported
 * kubeconfig works wherever it is copied.
 */
export async function exportedEntries(node: Effects, admin: AdminKubeconfig, name: string): Promise<KubeconfigEntries> {
  const e = currentContextEntries(admin.doc, name);
  if (typeof e === 'string') throw new OperationError(`${ADMIN_CONF}${where(node)} is not a usable kubeconfig: ${e}`);
  const bodies: Record<'cluster' | 'user', Record<string, unknown>> = { cluster: { ...e.cluster }, user: { ...e.user } };
  for (const [part, ref, data] of FILE_REFERENCES) {
    const body = bodies[part];
    const p = body[ref];
    if (typeof p !== 'string' || p === '' || typeof body[data] === 'string') continue;
    const path = posix.resolve(posix.dirname(ADMIN_CONF), p);
    const content = await node.readFile(path);
    if (!content) throw new OperationError(`${ADMIN_CONF}${where(node)}: ${ref} ${path} does not exist`);
    body[data] = content.toString('base64');
    delete body[ref];
  }
  return { ...e, cluster: bodies.cluster, user: bodies.user };
}

/** A kubeconfig of its own holding only the entries (what print and --file give with --context). */
export function renderEntries(e: KubeconfigEntries): string {
  return toYaml(mergeKubeconfig({}, e).doc);
}

/** What a file looks like before kubeboot writes it. */
async function existing(user: Effects, path: string, flag: string): Promise<{ mode: number; uid: number | undefined; content: Buffer } | undefined> {
  let info;
  let content;
  try {
    info = await user.stat(path);
    if (!info) return undefined;
    if (info.kind === 'dir') throw new ConfigError(`${flag}: "${path}" is a directory; give the path of a kubeconfig file`);
    if (info.kind !== 'file') throw new ConfigError(`${flag}: "${path}" is not a regular file`);
    content = await user.readFile(path);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${flag}: cannot read "${path}": ${(err as Error).message}`);
  }
  if (!content) return undefined;
  return { mode: info.mode, uid: info.uid, content };
}

async function makeParent(user: Effects, path: string, flag: string): Promise<void> {
  const dir = posix.dirname(path);
  try {
    if (!(await user.stat(dir))) await user.mkdir(dir, NEW_DIR_MODE);
  } catch (err) {
    throw new ConfigError(`${flag}: cannot create the directory "${dir}": ${(err as Error).message}`);
  }
}

export interface FileWrite {
  readonly path: string;
  readonly status: WriteStatus;
  readonly mode: number;
}

/**
 * --file PATH: writes `text` (0600, atomically). A file that is already there with the same bytes is left as it is
 * (its mode set to 0600); one with other contents is refused (exit 3): kubeboot never overwrites a user's file.
 */
export async function writeKubeconfigFile(user: Effects, path: string, text: string, flag = '--file'): Promise<FileWrite> {
  const cur = await existing(user, path, flag);
  if (cur && !cur.content.equals(Buffer.from(text))) {
    throw new ConfigError(`${flag}: "${path}" exists and holds something other than this kubeconfig; kubeboot does not overwrite it`, [], {
      hint: `merge into it instead with 'kubeboot kubeconfig --merge ${path}', or move it away first`,
    });
  }
  await makeParent(user, path, flag);
  const status = await user.writeFileAtomic(path, text, NEW_FILE_MODE);
  return { path, status, mode: NEW_FILE_MODE };
}

export interface MergeResult extends FileWrite {
  /** the file did not exist: kubeboot created it */
  readonly created: boolean;
  readonly name: string;
  readonly added: readonly string[];
  readonly replaced: readonly string[];
  /** current-context before ('' when none) */
  readonly previousContext: string;
  readonly warnings: readonly string[];
}

/**
 * --merge [PATH]: puts the entries into the kubeconfig at PATH and makes their context current. Entries of other
 * names and every other field stay as they are (the file is written back as kubectl writes kubeconfigs: keys in
 * go-yaml's order, comments dropped); entries of the same name are replaced, since that name is kubeboot's. The file
 * keeps its mode; a new file is 0600 in a directory made 0700 when absent. Atomic: a temp file in the same directory,
 * then a rename. A file that is not a kubeconfig is refused (exit 3), naming the file and what is wrong.
 */
export async function mergeKubeconfigFile(
  user: Effects,
  path: string,
  entries: KubeconfigEntries,
  opts: { readonly flag?: string; readonly uid?: number | undefined } = {},
): Promise<MergeResult> {
  const flag = opts.flag ?? '--merge';
  const cur = await existing(user, path, flag);
  const doc = cur ? parseKubeconfigDocument(cur.content.toString('utf8')) : {};
  if (typeof doc === 'string') {
    throw new ConfigError(`${flag}: cannot merge into "${path}": ${doc}`, [], {
      hint: `give the path of a kubeconfig file (or of one to create), or write a kubeconfig of its own with --file PATH`,
    });
  }
  const merged = mergeKubeconfig(doc, entries);
  let text: string;
  try {
    text = toYaml(merged.doc);
  } catch (err) {
    if (err instanceof SerializeError) throw new ConfigError(`${flag}: cannot merge into "${path}": it holds a value kubeboot cannot write back (${err.message})`);
    throw err;
  }
  const mode = cur ? cur.mode : NEW_FILE_MODE;
  const warnings: string[] = [];
  if (cur && (cur.mode & 0o077) !== 0) {
    warnings.push(`"${path}" is accessible to others (mode 0${cur.mode.toString(8)}) and now holds the cluster-admin credentials of context "${entries.name}"; kubeboot kept its mode: chmod 600 ${path}`);
  }
  if (cur && cur.uid !== undefined && opts.uid !== undefined && cur.uid !== opts.uid) {
    warnings.push(`"${path}" belonged to uid ${cur.uid}; written again by uid ${opts.uid}, it now belongs to uid ${opts.uid}: chown ${cur.uid} ${path}`);
  }
  if (!cur) await makeParent(user, path, flag);
  const status = await user.writeFileAtomic(path, text, mode);
  return {
    path,
    status,
    mode,
    created: !cur,
    name: entries.name,
    added: merged.added,
    replaced: merged.replaced,
    previousContext: merged.previousContext,
    warnings,
  };
}
