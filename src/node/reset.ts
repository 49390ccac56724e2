/**
 * Reset's steps (the node layer's; the phases in phases/reset/ call them in kubeadm's order): undo what kubeboot did
 * on this node, from its ledger (/etc/kubernetes/kubeboot/files.json), and never remove a file it did not create.
 *
 *  preflight: read the ledger; without one, refuse when files are at the paths init writes (another tool's node),
 *    else there is nothing to do;
 *  cleanup-node, in order:
 *   1. the static Pod manifests kubeboot wrote — kube-controller-manager and kube-scheduler first, then kube-apiserver
 *      and etcd (the component table's reset stages) — and, when a kubelet runs them (its healthz answers and the API
 *      server lists the mirror pods with admin.conf), a wait until those pods are gone: the first two until their
 *      mirror pods leave the API, the last two until the ports they served are free;
 *   2. `systemctl stop kubelet` (src/node/kubelet.ts: host only, a warning when it cannot);
 *   3. the pods' containers, through the container runtime: every pod sandbox `crictl pods` lists is stopped and
 *      removed (`crictl stopp`, `crictl rmp`, five attempts each, as kubeadm's RemoveContainers). They are the
 *      cluster's: the CRI shows only Kubernetes' pods (containerd's k8s.io namespace), and this node's kubelet made
 *      them. Host only; without crictl on PATH, a warning with the command to run;
 *   4. every mount under the kubelet's directory (symlinks resolved, its own mount point excepted), deepest first,
 *      with `umount` (./mounts.ts); a failure is a warning naming the mount point. Host only;
 *   5. the contents of the etcd data directory, when kubeboot's etcd.yaml ran etcd; then the kubelet's client
 *      certificates that kubeboot's CA issued (kubelet-client-*.pem in its certificate directory), read against the CA
 *      before the PKI goes;
 *   6. every other file in the ledger (PKI, kubeconfigs, kubelet files, kubeboot's CNI configuration); then the files
 *      init replaced although kubeboot had not written them are put back from the copies it kept (./replaced.ts);
 *      Then what its pod network left on the host (the bridge kubeboot0, host-local's reservations), host only;
 *   7. kubeboot's backup and temporary directories (/etc/kubernetes/tmp/kubeboot-*) and stale temp files;
 *   8. the state directory (/etc/kubernetes/kubeboot) last.
 * Files found in those directories (and beside the ledger's other files) that the ledger does not list are reported
 * as left, and left; so are pod sandboxes and mounts that could not be removed, each with the reason. The ledger
 * records files, not directories: a directory stays even when reset empties it.
 *
 * Every change goes through the effects: under --dry-run the twin records the removals and the commands and answers
 * later reads as if they had happened, and a wait for the node to act is not made; no step asks whether it is a dry
 * run. Output.action() words each action for the run ("Removing …" or "Would remove …").
 */
import { COMPONENT_TABLE, commandFlags, componentRow, isComponent, manifestPath, type StaticPodComponent } from '../components.js';
import type { ClusterSpec } from '../config/spec.js';
import type { Effects } from '../effects/types.js';
import { PreflightError, errorMessage } from '../errors.js';
import { crictlArgs, listPodSandboxes, removeAllPodsCommand, removePodSandbox, sandboxLabel } from '../kube/crictl.js';
import { poll } from '../kube/wait.js';
import { CERT_TABLE, KUBECONFIG_TABLE, SA_KEY } from '../pki/table.js';
import { parseYaml } from '../render/yaml.js';
import { formatDuration } from '../util/duration.js';
import { slot } from '../workflow/slots.js';
import type { ResetContext } from './context.js';
import { kubeletService } from './kubelet.js';
import { kubeletCertDir, kubeletConfigPath } from './names.js';
import { mountsUnder, readMounts, unmount, type MountEntry } from './mounts.js';
import { keptCopies } from './replaced.js';
import { KUBEBOOT_TEMP_FILE, LEDGER, STATE_DIR, readLedger } from './state.js';

export const CLOSING_TEXT = [
  'The reset process does not perform cleanup of CNI plugin configuration, network filtering rules and kubeconfig files.',
  'For information on how to perform this cleanup manually, please see: https://k8s.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/',
];

/** Where CNI plugins read their network configuration (the CNI specification's default). */
const CNI_CONF_DIR = '/etc/cni/net.d';

/** What reset never touches and the user may want to clean up by hand. */
export const MANUAL_CLEANUP = [
  `CNI configuration in ${CNI_CONF_DIR}`,
  'iptables / nftables / IPVS rules (iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X; ipvsadm --clear)',
  '$HOME/.kube/config',
];

/** MANUAL_CLEANUP for this run: when reset removed kubeboot's own CNI configuration, the rest of it is the user's. */
function manualCleanup(removed: readonly string[]): string[] {
  const cni = removed.filter((f) => f.startsWith(`${CNI_CONF_DIR}/`));
  if (cni.length === 0) return [...MANUAL_CLEANUP];
  return MANUAL_CLEANUP.map((m, i) => (i === 0 ? `other CNI configuration in ${CNI_CONF_DIR} (kubeboot's own, ${cni.join(', ')}, is removed)` : m));
}


const TAG = 'reset';
const POLL_MS = 100;
const PROBE_TIMEOUT_MS = 2000;
const STAGE_ONE = COMPONENT_TABLE.filter((r) => r.resetStage === 1).map((r) => r.name);
const STAGE_TWO = COMPONENT_TABLE.filter((r) => r.resetStage === 2).map((r) => r.name).reverse();

export interface ResetResult {
  readonly dryRun: boolean;
  /** host paths removed (or that would be, under --dry-run) */
  readonly removed: readonly string[];
  /** files kubeboot init had replaced although it had not written them, put back from the copies it kept */
  readonly restored: readonly string[];
  /** host paths found in kubeboot's directories that it did not create, left in place */
  readonly left: readonly string[];
  readonly manualCleanup: readonly string[];
  readonly etcdDataDir: string | null;
  readonly waitedForPods: boolean;
  readonly kubeletStopped: boolean;
  /** the pods' containers, through the container runtime */
  readonly podSandboxes: PodSandboxReport;
  /** the mounts under the kubelet's directory */
  readonly mounts: MountReport;
  readonly nothingToDo: boolean;
}

export interface PodSandboxReport {
  /** stopped and removed (or that would be): `<namespace>/<name> (<id>)` */
  readonly removed: string[];
  /** could not be removed, with why */
  readonly failed: { readonly sandbox: string; readonly error: string }[];
  /** why the runtime was not asked at all (--root, no crictl, the runtime did not answer); null when it was */
  notDone: string | null;
}

export interface MountReport {
  /** the kubelet's directory as the mount table names it (symlinks resolved) */
  dir: string | null;
  readonly unmounted: string[];
  /** still mounted, with why */
  readonly failed: { readonly mountPoint: string; readonly error: string }[];
  /** why nothing was unmounted (--root, umount or /proc/mounts missing); null when it was looked at */
  notDone: string | null;
}

/** What reset found and did, across its phases. */
export interface ResetState {
  /** no ledger and none of init's files: nothing to reset */
  nothingToDo: boolean;
  /** the ledger's paths, sorted */
  listed: string[];
  /** those that existed when reset started */
  present: Set<string>;
  removed: string[];
  restored: string[];
  /** kubeboot-replaced-* directories whose copies stay (something else is at the path now) */
  keepDirs: Set<string>;
  etcdDataDir: string | null;
  /** the etcd-data volume of kubeboot's etcd.yaml, read before the manifest goes */
  etcdManifestDataDir: string | undefined;
  waitedForPods: boolean;
  kubeletStopped: boolean;
  podSandboxes: PodSandboxReport;
  mounts: MountReport;
  left: string[];
}

function emptyPodSandboxReport(): PodSandboxReport {
  return { removed: [], failed: [], notDone: null };
}

function emptyMountReport(): MountReport {
  return { dir: null, unmounted: [], failed: [], notDone: null };
}

export const RESET_STATE = slot<ResetState>('reset-state');

/** What reset found and did so far; a phase run on its own (`reset phase cleanup-node`) reads the ledger first. */
export async function resetState(ctx: ResetContext): Promise<ResetState> {
  if (!ctx.slots.get(RESET_STATE)) await resetPreflight(ctx);
  return ctx.slots.require(RESET_STATE);
}

/** The result reset reports (JSON `result` event). */
export function resetResult(ctx: ResetContext): ResetResult {
  const st = ctx.slots.get(RESET_STATE);
  return {
    dryRun: ctx.options.dryRun,
    removed: st?.removed ?? [],
    restored: st?.restored ?? [],
    left: st?.left ?? [],
    manualCleanup: manualCleanup(st?.removed ?? []),
    etcdDataDir: st?.etcdDataDir ?? null,
    waitedForPods: st?.waitedForPods ?? false,
    kubeletStopped: st?.kubeletStopped ?? false,
    podSandboxes: st?.podSandboxes ?? emptyPodSandboxReport(),
    mounts: st?.mounts ?? emptyMountReport(),
    nothingToDo: st?.nothingToDo ?? true,
  };
}

interface ManifestInfo {
  readonly component: string;
  readonly path: string;
  readonly command: string[];
  readonly volumes: Record<string, string>;
}

type Obj = Record<string, unknown>;

function readManifest(component: string, path: string, text: string): ManifestInfo {
  let doc: Obj = {};
  try {
    doc = (parseYaml(text) as Obj) ?? {};
  } catch {
    // unreadable: no ports, no volumes
  }
  const spec = (doc.spec ?? {}) as Obj;
  const c0 = (Array.isArray(spec.containers) ? (spec.containers[0] as Obj) : undefined) ?? {};
  const command = Array.isArray(c0.command) ? c0.command.map(String) : [];
  const volumes: Record<string, string> = {};
  for (const v of Array.isArray(spec.volumes) ? (spec.volumes as Obj[]) : []) {
    const hp = (v.hostPath ?? {}) as Obj;
    if (typeof v.name === 'string' && typeof hp.path === 'string') volumes[v.name] = hp.path;
  }
  return { component, path, command, volumes };
}

/** The TCP ports a component's static pod serves, from its manifest's command (the component table's rule). */
export function componentPorts(m: ManifestInfo): number[] {
  return isComponent(m.component) ? componentRow(m.component).servedPorts(commandFlags(m.command)) : [];
}

/** Files (recursively for `deep`) under a directory, as host paths; [] when it does not exist. */
async function filesUnder(fx: Effects, dir: string, deep: boolean): Promise<string[]> {
  let names: string[] | undefined;
  try {
    names = await fx.listDir(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names ?? []) {
    const p = `${dir}/${n}`;
    const st = await fx.stat(p).catch(() => undefined);
    if (st?.kind === 'dir') {
      if (deep) out.push(...(await filesUnder(fx, p, true)));
      else out.push(`${p}/`);
    } else if (st) out.push(p);
  }
  return out;
}

/** Where the kubelet's healthz answers, from the KubeletConfiguration kubeboot wrote (kubelet defaults otherwise). */
async function kubeletHealthz(fx: Effects, spec: ClusterSpec): Promise<string | undefined> {
  const raw = await fx.readFile(kubeletConfigPath(spec));
  let cfg: Obj = {};
  try {
    cfg = raw ? ((parseYaml(raw.toString('utf8')) as Obj) ?? {}) : {};
  } catch {
    cfg = {};
  }
  const port = typeof cfg.healthzPort === 'number' ? cfg.healthzPort : 10248;
  if (port === 0) return undefined;
  const host = typeof cfg.healthzBindAddress === 'string' && cfg.healthzBindAddress !== '' ? cfg.healthzBindAddress : '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;
}

interface PodReader {
  /** names of the mirror pods in kube-system */
  list(): Promise<string[]>;
}

/**
 * A reader of the control-plane mirror pods, when a kubelet runs them: its healthz answers and the API server lists
 * kube-system's pods with admin.conf. Otherwise the reason there is none.
 */
async function podReader(fx: Effects, spec: ClusterSpec): Promise<PodReader | string> {
  const url = await kubeletHealthz(fx, spec);
  if (!url) return 'the kubelet has no healthz endpoint (healthzPort 0)';
  try {
    const r = await fx.http({ url, timeoutMs: PROBE_TIMEOUT_MS });
    if (r.status !== 200) return `the kubelet is not healthy (${url}: HTTP ${r.status})`;
  } catch (err) {
    return `no kubelet answers at ${url} (${errorMessage(err)})`;
  }
  const { openApi } = await import('./api.js');
  let api;
  try {
    api = await openApi(fx, spec);
  } catch (err) {
    return errorMessage(err);
  }
  if (!api) return `${spec.paths.kubernetesDir}/admin.conf does not exist`;
  const client = api.client;
  const list = async (): Promise<string[]> => {
    const r = await client.request<{ items?: Obj[] }>('GET', '/api/v1/namespaces/kube-system/pods', undefined, PROBE_TIMEOUT_MS);
    if (r.status !== 200) throw new Error(`listing kube-system pods: HTTP ${r.status}`);
    return (r.body?.items ?? [])
      .map((p) => (p.metadata ?? {}) as Obj)
      .filter((m) => typeof ((m.annotations ?? {}) as Obj)['kubernetes.io/config.mirror'] === 'string')
      .map((m) => String(m.name));
  };
  try {
    await list();
  } catch (err) {
    return `the API server does not list the pods with admin.conf (${errorMessage(err)})`;
  }
  return { list };
}

/** Every path `kubeboot init` writes for this configuration (what a node set up by kubeadm has too). */
export function initPaths(spec: ClusterSpec): string[] {
  const p = spec.paths;
  return [
    ...COMPONENT_TABLE.map((r) => manifestPath(spec, r.name)),
    ...KUBECONFIG_TABLE.map((r) => `${p.kubernetesDir}/${r.file}`),
    ...CERT_TABLE.flatMap((r) => [`${p.certificatesDir}/${r.baseName}.crt`, `${p.certificatesDir}/${r.baseName}.key`]),
    `${p.certificatesDir}/${SA_KEY.privateFile}`,
    `${p.certificatesDir}/${SA_KEY.publicFile}`,
    `${p.kubeletDir}/config.yaml`,
    `${p.kubeletDir}/kubeadm-flags.env`,
    `${p.kubeletDir}/instance-config.yaml`,
  ];
}


/**
 * The files in kubeboot's directories that the ledger does not list (what reset leaves), as host paths: the
 * directories init writes to, and the directory of any other file the ledger lists (kubeboot's CNI configuration's).
 */
async function unknownFiles(fx: Effects, spec: ClusterSpec, listed: readonly string[] = []): Promise<string[]> {
  const p = spec.paths;
  const deep = [p.manifestsDir, p.certificatesDir];
  const flat = [p.kubernetesDir, p.kubeletDir, p.tmpDir];
  const covered = (f: string) => deep.some((d) => f.startsWith(`${d}/`)) || flat.some((d) => f.slice(0, f.lastIndexOf('/')) === d) || f.startsWith(`${STATE_DIR}/`);
  const others = [...new Set(listed.filter((f) => !covered(f)).map((f) => f.slice(0, f.lastIndexOf('/'))).filter((d) => d !== ''))];
  const lists = await Promise.all([
    ...deep.map((d) => filesUnder(fx, d, true)),
    ...[...flat, ...others].map((d) => filesUnder(fx, d, false)),
  ]);
  const skipDirs = new Set([`${p.manifestsDir}/`, `${p.certificatesDir}/`, `${p.tmpDir}/`, `${STATE_DIR}/`]);
  return [...new Set(lists.flat())].filter((f) => !skipDirs.has(f) && !f.startsWith(`${STATE_DIR}/`)).sort();
}

/** Removes one path kubeboot created (absent: nothing to do) and records it. */
async function removeOwned(ctx: ResetContext, st: ResetState, path: string, what = ''): Promise<void> {
  const info = await ctx.fx.stat(path);
  if (!info) return;
  ctx.out.action(TAG, { would: `Would remove ${what}"${path}"` });
  await ctx.fx.remove(path);
  ctx.out.file(path, info.mode, 'removed');
  st.removed.push(path);
}

/**
 * Before reset asks anything: refuses (exit 2) on a node another tool set up — no ledger, but files at the paths init
 * writes — and says whether there is anything to reset at all.
 */
export async function checkResettable(fx: Effects, spec: ClusterSpec): Promise<'ledger' | 'nothing'> {
  if ((await fx.stat(LEDGER)) !== undefined) return 'ledger';
  const found: string[] = [];
  for (const f of initPaths(spec)) if (await fx.stat(f)) found.push(f);
  if (found.length > 0) {
    throw new PreflightError(
      `this node was not set up by kubeboot: there is no ledger ${LEDGER}${fx.describe === 'host' ? '' : ` (under ${fx.realPath('/')})`}, and kubeboot reset removes only files kubeboot wrote`,
      found.slice(0, 20).map((f) => `found: ${f}`).concat(found.length > 20 ? [`… and ${found.length - 20} more`] : []),
      { hint: 'these files were made by something else (kubeadm, a previous tool, by hand): remove them with the tool that made them, e.g. kubeadm reset' },
    );
  }
  return 'nothing';
}

/** preflight: the ledger (the files kubeboot wrote and which of them exist), or "nothing to reset". */
export async function resetPreflight(ctx: ResetContext): Promise<void> {
  const { fx, spec } = ctx;
  const st: ResetState = {
    nothingToDo: false,
    listed: [],
    present: new Set(),
    removed: [],
    restored: [],
    keepDirs: new Set(),
    etcdDataDir: null,
    etcdManifestDataDir: undefined,
    waitedForPods: false,
    kubeletStopped: false,
    podSandboxes: emptyPodSandboxReport(),
    mounts: emptyMountReport(),
    left: [],
  };
  ctx.slots.set(RESET_STATE, st);
  if ((await checkResettable(fx, spec)) === 'nothing') {
    st.nothingToDo = true;
    st.left = await unknownFiles(fx, spec);
    ctx.out.log(TAG, `Nothing to reset: there is no ledger ${LEDGER} and none of the files kubeboot init writes exist`);
    if (st.left.length > 0) ctx.out.log(TAG, `Left ${st.left.length} file(s) kubeboot did not create:\n${st.left.map((f) => `\t${f}`).join('\n')}`);
    return;
  }
  const ledger = await readLedger(fx);
  st.listed = Object.keys(ledger.files).sort();
  ctx.out.log(TAG, `Reading the ledger of the files kubeboot wrote: ${LEDGER} (${st.listed.length} file(s))`);
  for (const f of st.listed) if (await fx.stat(f)) st.present.add(f);
  const etcdPath = manifestPath(spec, 'etcd');
  if (st.present.has(etcdPath)) {
    st.etcdManifestDataDir = readManifest('etcd', etcdPath, ((await fx.readFile(etcdPath)) ?? Buffer.from('')).toString('utf8')).volumes['etcd-data'];
  }
}

/** cleanup-node 1: the static Pod manifests kubeboot wrote, and a wait for the kubelet to stop their pods. */
export async function removeStaticPods(ctx: ResetContext): Promise<void> {
  const { fx, spec } = ctx;
  const st = await resetState(ctx);
  const manifests: ManifestInfo[] = [];
  for (const c of [...STAGE_ONE, ...STAGE_TWO]) {
    const path = manifestPath(spec, c);
    if (!st.present.has(path)) continue;
    manifests.push(readManifest(c, path, ((await fx.readFile(path)) ?? Buffer.from('')).toString('utf8')));
  }
  const otherManifests = st.listed.filter((f) => f.startsWith(`${spec.paths.manifestsDir}/`) && st.present.has(f) && !manifests.some((m) => m.path === f));
  if (manifests.length === 0 && otherManifests.length === 0) return;
  // whether a kubelet runs the pods is read before anything is removed (afterwards the pods are going)
  const reader = await podReader(fx, spec);
  const timeoutMs = ctx.options.waitTimeoutMs ?? spec.timeouts.controlPlaneComponentHealthCheckMs;
  const stage = async (components: readonly StaticPodComponent[], extra: readonly string[], how: 'mirror-pods' | 'ports') => {
    const ms = manifests.filter((m) => (components as readonly string[]).includes(m.component));
    if (ms.length === 0 && extra.length === 0) return;
    const names = ms.map((m) => m.component);
    if (names.length > 0) ctx.out.action(TAG, { doing: `Removing the static Pod manifests of ${names.join(', ')}` });
    for (const m of ms) await removeOwned(ctx, st, m.path, 'the static Pod manifest ');
    for (const f of extra) await removeOwned(ctx, st, f, 'the file ');
    if (typeof reader === 'string' || names.length === 0) return;
    const ports = ms.flatMap(componentPorts);
    const what = `the kubelet to stop the pods of ${names.join(', ')}`;
    const res = await fx.waitForNode(`${what} (up to ${formatDuration(timeoutMs)})`, async () => {
      ctx.out.log(TAG, `Waiting for ${what} (up to ${formatDuration(timeoutMs)})`);
      return poll(
        fx,
        {
          name: names.join(','),
          timeoutMs,
          intervalMs: POLL_MS,
          probe: async () => {
            if (how === 'mirror-pods') {
              let pods: string[] | undefined;
              try {
                pods = await reader.list();
              } catch {
                pods = undefined; // the API went away: fall back to the ports
              }
              if (pods) {
                const left = pods.filter((n) => names.some((c) => n.startsWith(`${c}-`)));
                return left.length === 0 ? { ok: true } : { ok: false, error: `mirror pods still present: ${left.join(', ')}` };
              }
            }
            const busy: number[] = [];
            for (const port of ports) if (!(await fx.portFree(port))) busy.push(port);
            return busy.length === 0 ? { ok: true } : { ok: false, error: `port(s) still served: ${busy.join(', ')}` };
          },
        },
        ctx.options.signal,
      );
    });
    if (!res) return;
    st.waitedForPods = true;
    if (res.ok) ctx.out.log(TAG, `The pods of ${names.join(', ')} are gone after ${formatDuration(res.elapsedMs)}`);
    else ctx.out.warn(`[reset] the pods of ${names.join(', ')} did not stop within ${formatDuration(timeoutMs)} (${res.lastError ?? 'no answer'}); going on with the removal`);
  };
  if (typeof reader === 'string') ctx.out.action(TAG, { doing: `Not waiting for the control-plane pods to stop: ${reader}` });
  await stage(STAGE_ONE, otherManifests, 'mirror-pods');
  await stage(STAGE_TWO, [], 'ports');
}

/** cleanup-node 2: the kubelet service. */
export async function stopKubelet(ctx: ResetContext): Promise<void> {
  (await resetState(ctx)).kubeletStopped = await kubeletService(ctx, 'stop', TAG);
}

/** How many times a pod sandbox is stopped and removed before reset gives up on it (kubeadm's RemoveContainerRetry). */
export const REMOVE_POD_TRIES = 5;

/**
 * cleanup-node 3: the pods' containers, through the container runtime (CRI) with crictl: every pod sandbox it lists is
 * stopped and removed, which removes its containers. kubeadm talks to the CRI socket itself; kubeboot asks crictl,
 * and without it says what to run (a warning, not a failure). Under --root nothing is asked: the runtime on this
 * host does not run that root's pods.
 */
export async function removePodSandboxes(ctx: ResetContext): Promise<void> {
  const { fx, spec } = ctx;
  const st = await resetState(ctx);
  const report = st.podSandboxes;
  if (ctx.options.root !== '') {
    report.notDone = `the files are under --root "${ctx.options.root}", not this host's container runtime`;
    ctx.out.log(TAG, `Not removing the pods' containers: ${report.notDone}`);
    return;
  }
  const socket = spec.criSocket;
  const manual = removeAllPodsCommand(socket);
  if (!(await fx.which('crictl'))) {
    report.notDone = `crictl is not on PATH (install cri-tools, then run: ${manual})`;
    ctx.out.warn(
      `[${TAG}] crictl was not found on PATH, so kubeboot cannot remove the pods' containers through the container runtime (${socket}); install crictl (cri-tools) and run: ${manual}`,
    );
    return;
  }
  ctx.out.action(TAG, {
    doing: `Removing Kubernetes-managed containers (the pod sandboxes of ${socket}, with crictl)`,
    would: `Would remove Kubernetes-managed containers (the pod sandboxes of ${socket}, with crictl)`,
  });
  let pods;
  try {
    pods = await listPodSandboxes(fx, socket);
  } catch (err) {
    report.notDone = `the container runtime did not list its pod sandboxes: ${errorMessage(err)}`;
    ctx.out.warn(`[${TAG}] could not list the pod sandboxes of ${socket}: ${errorMessage(err)}; their containers were not removed (once the runtime answers, run: ${manual})`);
    return;
  }
  if (pods.length === 0) {
    ctx.out.log(TAG, `The container runtime (${socket}) has no pod sandboxes`);
    return;
  }
  for (const pod of pods) {
    const label = sandboxLabel(pod);
    const r = await removePodSandbox(fx, socket, pod.id, { tries: REMOVE_POD_TRIES });
    if (r.ok) {
      ctx.out.action(TAG, { doing: `Stopped and removed pod sandbox ${label}`, would: `Would stop and remove pod sandbox ${label}` });
      report.removed.push(label);
    } else {
      const error = r.error ?? 'unknown error';
      report.failed.push({ sandbox: label, error });
      ctx.out.warn(`[${TAG}] could not remove pod sandbox ${label} after ${r.attempts} attempt(s): ${error}; remove it yourself: crictl ${crictlArgs(socket, 'rmp', '--force', pod.id).join(' ')}`);
    }
  }
}

/**
 * cleanup-node 4: every mount under the kubelet's directory (its volumes, subPaths, CSI mounts), deepest first, each
 * reported; a mount that stays is a warning naming it. The directory's own mount (when it is a mount point) and
 * anything outside it are never touched. Under --root nothing is unmounted: the mount table is this host's.
 */
export async function unmountKubeletDir(ctx: ResetContext): Promise<void> {
  const { fx, spec } = ctx;
  const st = await resetState(ctx);
  const report = st.mounts;
  const dir = spec.paths.kubeletDir;
  if (ctx.options.root !== '') {
    report.notDone = `the files are under --root "${ctx.options.root}", not this host's mounts`;
    ctx.out.log(TAG, `Not unmounting anything under "${dir}": ${report.notDone}`);
    return;
  }
  const resolved = await fx.resolvePath(dir);
  if (!resolved) {
    ctx.out.log(TAG, `Nothing to unmount: "${dir}" does not exist`);
    return;
  }
  report.dir = resolved;
  const where = resolved === dir ? `"${dir}"` : `"${dir}" (a link to "${resolved}")`;
  let table: MountEntry[];
  try {
    table = await readMounts(fx);
  } catch (err) {
    report.notDone = `the mount table could not be read: ${errorMessage(err)}`;
    ctx.out.warn(`[${TAG}] could not read the mount table, so nothing under ${where} was unmounted: ${errorMessage(err)}`);
    return;
  }
  const targets = mountsUnder(table, resolved);
  if (targets.length === 0) {
    ctx.out.log(TAG, `Nothing is mounted under ${where}`);
    return;
  }
  if (!(await fx.which('umount'))) {
    report.notDone = 'umount is not on PATH';
    for (const m of targets) report.failed.push({ mountPoint: m.mountPoint, error: 'umount is not on PATH' });
    ctx.out.warn(`[${TAG}] umount was not found on PATH: ${targets.length} mount(s) under ${where} stay mounted: ${targets.map((m) => `"${m.mountPoint}"`).join(', ')}`);
    return;
  }
  ctx.out.action(TAG, { doing: `Unmounting mounted directories in ${where}`, would: `Would unmount ${targets.length} mount(s) in ${where}` });
  for (const m of targets) {
    if (report.failed.some((f) => f.mountPoint === m.mountPoint)) continue; // the same path mounted twice: said once
    const failed = await unmount(fx, m.mountPoint);
    if (failed === undefined) {
      ctx.out.action(TAG, { doing: `Unmounted "${m.mountPoint}" (${m.fsType})`, would: `Would unmount "${m.mountPoint}" (${m.fsType})` });
      report.unmounted.push(m.mountPoint);
      continue;
    }
    // a mount that went with an earlier one (a shared peer; kubeadm ignores EINVAL for the same reason) is not a failure
    const now = await readMounts(fx).catch(() => undefined);
    if (now && !now.some((e) => e.mountPoint === m.mountPoint)) {
      ctx.out.log(TAG, `"${m.mountPoint}" is no longer mounted (it went with an earlier unmount)`);
      report.unmounted.push(m.mountPoint);
      continue;
    }
    report.failed.push({ mountPoint: m.mountPoint, error: failed });
    ctx.out.warn(`[${TAG}] could not unmount "${m.mountPoint}": ${failed}; it stays mounted (unmount it yourself: umount "${m.mountPoint}")`);
  }
}

/** cleanup-node 5: the contents of the etcd data directory, when kubeboot's etcd.yaml ran etcd. */
export async function removeEtcdData(ctx: ResetContext): Promise<void> {
  const { fx, spec } = ctx;
  const st = await resetState(ctx);
  const etcdPath = manifestPath(spec, 'etcd');
  if (st.listed.includes(etcdPath)) {
    // the directory from the configuration, else the etcd-data volume of kubeboot's etcd.yaml (preflight read it)
    st.etcdDataDir = spec.etcd.local?.dataDir ?? st.etcdManifestDataDir ?? null;
    const dir = st.etcdDataDir;
    const names = dir ? await fx.listDir(dir).catch(() => undefined) : undefined;
    if (dir && names) {
      for (const n of names) await removeOwned(ctx, st, `${dir}/${n}`, 'etcd data ');
      ctx.out.action(TAG, { doing: `Deleted contents of the etcd data directory: ${dir}`, would: `Would delete contents of the etcd data directory: ${dir}` });
    }
  } else if (spec.etcd.external) {
    ctx.out.log(TAG, 'No etcd config found. Assuming external etcd');
    ctx.out.log(TAG, 'Please, manually reset etcd to prevent further issues');
  }
}

/** the kubelet's client certificate files: kubelet-client-current.pem (a link) and kubelet-client-<date>.pem */
const KUBELET_CLIENT_PEM = /^kubelet-client-(current|\d{4}(-\d{2}){5})\.pem$/;

/**
 * cleanup-node 5b: the kubelet's client certificates of this cluster, in its certificate directory (pki/): those
 * issued by the CA kubeboot wrote (the ledger's ca.crt), which the kubelet keeps from kubeboot's kubelet.conf and its
 * rotations, and which kubelet-finalize pointed kubelet.conf at. They are credentials of the cluster being reset, and
 * a kubelet started by the next init would take kubelet-client-current.pem over the new kubelet.conf's certificate:
 * Unauthorized, and the node never registers. kubeadm deletes the whole of /var/lib/kubelet; kubeboot only these. A
 * certificate of another CA, the kubelet's serving certificate and everything else there stay (and are listed). Runs
 * before the ledger's files go, since it reads the CA. The link kubelet-client-current.pem goes before the file it names.
 */
export async function removeKubeletClientCerts(ctx: ResetContext): Promise<void> {
  const { fx, spec } = ctx;
  const st = await resetState(ctx);
  const caPath = `${spec.paths.certificatesDir}/ca.crt`;
  if (!st.listed.includes(caPath)) return;
  const caPem = await fx.readFile(caPath);
  if (!caPem) return;
  const { readCertificate, signedBy } = await import('../pki/inspect.js');
  const ca = await readCertificate(caPem).catch(() => undefined);
  if (!ca) return;
  const dir = kubeletCertDir(spec);
  const names = ((await fx.listDir(dir).catch(() => undefined)) ?? []).filter((n) => KUBELET_CLIENT_PEM.test(n));
  // the link first (its name sorts after the dated files'), so that it still resolves when it is looked at
  names.sort((x, y) => Number(y === 'kubelet-client-current.pem') - Number(x === 'kubelet-client-current.pem') || x.localeCompare(y));
  const ours: string[] = [];
  for (const n of names) {
    const pem = await fx.readFile(`${dir}/${n}`).catch(() => undefined);
    const cert = pem ? await readCertificate(pem).catch(() => undefined) : undefined;
    if (cert && signedBy(cert, ca)) ours.push(`${dir}/${n}`);
  }
  if (ours.length === 0) return;
  ctx.out.action(TAG, { doing: `Deleting the kubelet's client certificates of this cluster (issued by ${caPath}): [${ours.join(' ')}]` });
  for (const f of ours) await removeOwned(ctx, st, f, "the kubelet's client certificate ");
}

/** cleanup-node 6: every other file in the ledger, then the files init replaced go back. */
export async function removeLedgerFiles(ctx: ResetContext): Promise<void> {
  const { fx, spec } = ctx;
  const st = await resetState(ctx);
  const p = spec.paths;
  const rest = st.listed.filter((f) => st.present.has(f) && !f.startsWith(`${p.manifestsDir}/`) && !f.startsWith(`${STATE_DIR}/`) && !f.startsWith(`${p.tmpDir}/kubeboot-`));
  if (rest.length > 0) ctx.out.action(TAG, { doing: `Deleting files: [${rest.join(' ')}]` });
  for (const f of rest) await removeOwned(ctx, st, f);

  for (const k of await keptCopies(fx, p.tmpDir)) {
    const dir = k.copy.slice(0, k.copy.length - k.path.length);
    if ((await fx.stat(k.path)) !== undefined || st.restored.includes(k.path)) {
      // something else is there now (or an older copy went back already): the copy stays for the user
      st.keepDirs.add(dir);
      continue;
    }
    const content = await fx.readFile(k.copy);
    if (!content) continue;
    ctx.out.action(TAG, {
      doing: `Put back "${k.path}" as it was before kubeboot init replaced it`,
      would: `Would put back "${k.path}" as it was before kubeboot init replaced it (from "${k.copy}")`,
    });
    await fx.writeFileAtomic(k.path, content, k.mode);
    ctx.out.file(k.path, k.mode, 'written');
    st.restored.push(k.path);
  }
}

/**
 * cleanup-node 6b: what kubeboot's one-node pod network left on the host, when the ledger shows kubeboot wrote its
 * CNI configuration: the Linux bridge the bridge plugin made (`ip link delete kubeboot0`) and host-local's address
 * reservations for the network (/var/lib/cni/networks/kubeboot), so that a second init starts from a clean network.
 * The configuration file itself went with the ledger's files. Host only: under --root neither is the root's.
 */
export async function removePodNetwork(ctx: ResetContext): Promise<void> {
  const { fx } = ctx;
  const st = await resetState(ctx);
  const { CNI_BRIDGE, CNI_CONF_FILE, CNI_NETWORK_NAME } = await import('../render/cni.js');
  if (!st.listed.some((f) => f.endsWith(`/${CNI_CONF_FILE}`))) return;
  if (ctx.options.root !== '') {
    ctx.out.log(TAG, `Not removing the bridge "${CNI_BRIDGE}" and the pod network's address reservations: the files are under --root "${ctx.options.root}", not this host's network`);
    return;
  }
  if ((await fx.stat(`/sys/class/net/${CNI_BRIDGE}`)) !== undefined) {
    if (!(await fx.which('ip'))) {
      ctx.out.warn(`[${TAG}] the bridge "${CNI_BRIDGE}" of kubeboot's pod network is still there and "ip" (iproute2) is not on PATH; remove it with: ip link delete ${CNI_BRIDGE}`);
    } else {
      ctx.out.action(TAG, { doing: `Deleting the bridge "${CNI_BRIDGE}" of kubeboot's pod network`, would: `Would run: ip link delete ${CNI_BRIDGE}` });
      const r = await fx.exec('ip', ['link', 'delete', CNI_BRIDGE], { timeoutMs: 10_000 }).catch((err: unknown) => ({ exitCode: -1, stdout: '', stderr: errorMessage(err) }));
      if (r.exitCode !== 0) ctx.out.warn(`[${TAG}] could not delete the bridge "${CNI_BRIDGE}" (${r.stderr.trim() || `exit ${r.exitCode}`}); remove it with: ip link delete ${CNI_BRIDGE}`);
      else st.removed.push(`bridge ${CNI_BRIDGE}`);
    }
  }
  const ipam = `/var/lib/cni/networks/${CNI_NETWORK_NAME}`;
  if ((await fx.stat(ipam)) !== undefined) await removeOwned(ctx, st, ipam, "the pod network's address reservations ");
}

/** cleanup-node 7: kubeboot's backups, temp dirs and stale temp files. */
export async function removeTemporaryFiles(ctx: ResetContext): Promise<void> {
  const { fx, spec } = ctx;
  const st = await resetState(ctx);
  const p = spec.paths;
  const tmpNames = ((await fx.listDir(p.tmpDir).catch(() => undefined)) ?? []).filter((n) => n.startsWith('kubeboot-') && !st.keepDirs.has(`${p.tmpDir}/${n}`));
  for (const n of tmpNames) await removeOwned(ctx, st, `${p.tmpDir}/${n}`, "kubeboot's backup/temporary directory ");
  for (const d of [p.kubernetesDir, p.manifestsDir, p.certificatesDir, `${p.certificatesDir}/etcd`, p.kubeletDir]) {
    for (const n of (await fx.listDir(d).catch(() => undefined)) ?? []) if (KUBEBOOT_TEMP_FILE.test(n)) await removeOwned(ctx, st, `${d}/${n}`, 'the stale temporary file ');
  }
}

/** cleanup-node 8: what is left is listed, with why; the state directory goes last. */
export async function removeState(ctx: ResetContext): Promise<void> {
  const { fx, spec } = ctx;
  const st = await resetState(ctx);
  st.left = (await unknownFiles(fx, spec, st.listed)).filter((f) => !st.restored.includes(f));
  ctx.out.action(TAG, {
    doing: `Removed kubeboot's state directory "${STATE_DIR}" (the recorded configuration and the ledger)`,
    would: `Would remove kubeboot's state directory "${STATE_DIR}" (the recorded configuration and the ledger)`,
  });
  await fx.remove(STATE_DIR);
  st.removed.push(`${STATE_DIR}/`);
  ctx.out.action(TAG, { doing: `Removed ${st.removed.length} item(s) kubeboot created`, would: `Would remove ${st.removed.length} item(s) kubeboot created` });
  reportLeft(ctx, st);
}

/**
 * What reset leaves, and why: files kubeboot did not create; pod sandboxes and mounts of this node's kubelet it
 * could not remove (not under --root, where they are not looked at: reset says so when it skips them).
 */
function reportLeft(ctx: ResetContext, st: ResetState): void {
  const tab = (lines: readonly string[]) => lines.map((l) => `\t${l}`).join('\n');
  if (st.left.length > 0) ctx.out.log(TAG, `Left ${st.left.length} file(s) kubeboot did not create:\n${tab(st.left)}`);
  if (ctx.options.root !== '') return;
  const pods = st.podSandboxes;
  if (pods.notDone !== null) ctx.out.log(TAG, `Left the pods' containers in the container runtime (${ctx.spec.criSocket}): ${pods.notDone}`);
  if (pods.failed.length > 0) {
    ctx.out.log(TAG, `Left ${pods.failed.length} pod sandbox(es) the container runtime did not remove:\n${tab(pods.failed.map((f) => `${f.sandbox}: ${f.error}`))}`);
  }
  const mounts = st.mounts;
  if (mounts.failed.length > 0) {
    ctx.out.log(TAG, `Left ${mounts.failed.length} mount(s) under "${ctx.spec.paths.kubeletDir}" mounted:\n${tab(mounts.failed.map((f) => `${f.mountPoint}: ${f.error}`))}`);
  } else if (mounts.notDone !== null) {
    ctx.out.log(TAG, `Left the mounts under "${ctx.spec.paths.kubeletDir}" as they are: ${mounts.notDone}`);
  }
}

/** kubeadm's closing text, after everything. */
export function closingText(ctx: ResetContext): void {
  ctx.out.log('', '');
  for (const line of CLOSING_TEXT) ctx.out.log('', line);
  ctx.out.log('', `Left for you to clean up: ${manualCleanup(ctx.slots.get(RESET_STATE)?.removed ?? []).join('; ')}.`);
}
