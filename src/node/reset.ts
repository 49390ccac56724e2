/**
 * `kubeboot reset`: undoes what kubeboot did on this node, from its ledger (/etc/kubernetes/kubeboot/files.json),
 * and never removes a file it did not create.
 *
 * Order:
 *  1. the static Pod manifests kubeboot wrote — kube-controller-manager and kube-scheduler first, then
 *     kube-apiserver and etcd — and, when a kubelet runs them (its healthz answers and the API server lists the
 *     mirror pods with admin.conf), a wait until those pods are gone: the first two until their mirror pods leave
 *     the API, the last two until the ports they served are free (the API server cannot report its own end);
 *  2. `systemctl stop kubelet` (host only; not under --root or --dry-run; a warning when it cannot);
 *  3. the contents of the etcd data directory, when kubeboot's etcd.yaml ran etcd (the directory from the
 *     configuration, else etcd.yaml's etcd-data volume; preflight required it empty before init, so what is in it
 *     is that etcd's data);
 *  4. every other file in the ledger (PKI, kubeconfigs, kubelet files); then the files init replaced although
 *     kubeboot had not written them (a kubelet config.yaml that was there) are put back from the copies it kept
 *     (src/lifecycle/replaced.ts);
 *  5. kubeboot's backup and temporary directories (/etc/kubernetes/tmp/kubeboot-*) and temp files an interrupted
 *     write left (`.<name>.<12 hex>.tmp`);
 *  6. the state directory (/etc/kubernetes/kubeboot) last.
 * Files found in those directories that the ledger does not list are reported as left, and left.
 */
import type { ClusterSpec } from '../config/spec.js';
import type { Effects } from '../effects/types.js';
import { PreflightError, errorMessage } from '../errors.js';
import { poll } from '../kube/wait.js';
import { CERT_TABLE, KUBECONFIG_TABLE, SA_KEY } from '../pki/table.js';
import { parseYaml } from '../render/yaml.js';
import { KUBEBOOT_TEMP_FILE, LEDGER, STATE_DIR, readLedger } from './state.js';
import { keptCopies } from './replaced.js';
import { formatDuration } from '../util/duration.js';
import type { Output } from '../workflow/events.js';

export const CLOSING_TEXT = [
  'The reset process does not perform cleanup of CNI plugin configuration, network filtering rules and kubeconfig files.',
  'For information on how to perform this cleanup manually, please see: https://k8s.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/',
];

/** What reset never touches and the user may want to clean up by hand. */
export const MANUAL_CLEANUP = [
  'CNI configuration in /etc/cni/net.d',
  'iptables / nftables / IPVS rules (iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X; ipvsadm --clear)',
  '$HOME/.kube/config',
];

const TAG = 'reset';
const STAGE_ONE = ['kube-controller-manager', 'kube-scheduler'];
const STAGE_TWO = ['kube-apiserver', 'etcd'];
const POLL_MS = 100;
const PROBE_TIMEOUT_MS = 2000;

export interface ResetOptions {
  readonly fx: Effects;
  readonly out: Output;
  readonly spec: ClusterSpec;
  readonly dryRun: boolean;
  /** --root DIR ('' for the host): systemctl runs only for the host */
  readonly root: string;
  /** how long to wait for the pods to go (default: timeouts.controlPlaneComponentHealthCheck) */
  readonly waitTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

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
  readonly nothingToDo: boolean;
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

function flag(command: readonly string[], name: string): string | undefined {
  const hits = command.filter((c) => c.startsWith(`--${name}=`));
  return hits.length > 0 ? hits[hits.length - 1]?.slice(name.length + 3) : undefined;
}

function urlPorts(urls: string | undefined): number[] {
  if (!urls) return [];
  const out: number[] = [];
  for (const u of urls.split(',')) {
    try {
      const p = Number(new URL(u.trim()).port);
      if (p > 0) out.push(p);
    } catch {
      // not a URL
    }
  }
  return out;
}

/** The TCP ports a component's static pod serves, from its manifest's command (kubeadm's defaults otherwise). */
export function componentPorts(m: ManifestInfo): number[] {
  switch (m.component) {
    case 'kube-apiserver':
      return [Number(flag(m.command, 'secure-port') ?? 6443)];
    case 'kube-controller-manager':
      return [Number(flag(m.command, 'secure-port') ?? 10257)];
    case 'kube-scheduler':
      return [Number(flag(m.command, 'secure-port') ?? 10259)];
    case 'etcd': {
      const ports = [...urlPorts(flag(m.command, 'listen-client-urls')), ...urlPorts(flag(m.command, 'listen-peer-urls'))];
      return [...new Set(ports.length > 0 ? ports : [2379, 2380])];
    }
    default:
      return [];
  }
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
  const raw = await fx.readFile(`${spec.paths.kubeletDir}/config.yaml`);
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
  const { openApi } = await import('./rollout.js');
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
    ...[...STAGE_ONE, ...STAGE_TWO].map((c) => `${p.manifestsDir}/${c}.yaml`),
    ...KUBECONFIG_TABLE.map((r) => `${p.kubernetesDir}/${r.file}`),
    ...CERT_TABLE.flatMap((r) => [`${p.certificatesDir}/${r.baseName}.crt`, `${p.certificatesDir}/${r.baseName}.key`]),
    `${p.certificatesDir}/${SA_KEY.privateFile}`,
    `${p.certificatesDir}/${SA_KEY.publicFile}`,
    `${p.kubeletDir}/config.yaml`,
    `${p.kubeletDir}/kubeadm-flags.env`,
    `${p.kubeletDir}/instance-config.yaml`,
  ];
}

export async function resetNode(o: ResetOptions): Promise<ResetResult> {
  const { fx, out, spec, dryRun } = o;
  const p = spec.paths;
  const removed: string[] = [];
  const scanDirs = async (): Promise<string[]> => {
    const lists = await Promise.all([
      filesUnder(fx, p.manifestsDir, true),
      filesUnder(fx, p.certificatesDir, true),
      filesUnder(fx, p.kubernetesDir, false),
      filesUnder(fx, p.kubeletDir, false),
      filesUnder(fx, p.tmpDir, false),
    ]);
    const skipDirs = new Set([`${p.manifestsDir}/`, `${p.certificatesDir}/`, `${p.tmpDir}/`, `${STATE_DIR}/`].map((d) => d));
    return [...new Set(lists.flat())].filter((f) => !skipDirs.has(f) && !f.startsWith(`${STATE_DIR}/`)).sort();
  };

  const ledgerExists = (await fx.stat(LEDGER)) !== undefined;
  if (!ledgerExists) {
    // No ledger: nothing is known to be kubeboot's. Files at the paths init writes mean another tool set this node up.
    const found: string[] = [];
    for (const f of initPaths(spec)) if (await fx.stat(f)) found.push(f);
    if (found.length > 0) {
      throw new PreflightError(
        `this node was not set up by kubeboot: there is no ledger ${LEDGER}${fx.describe === 'host' ? '' : ` (under ${fx.realPath('/')})`}, and kubeboot reset removes only files kubeboot wrote`,
        found.slice(0, 20).map((f) => `found: ${f}`).concat(found.length > 20 ? [`… and ${found.length - 20} more`] : []),
        { hint: 'these files were made by something else (kubeadm, a previous tool, by hand): remove them with the tool that made them, e.g. kubeadm reset' },
      );
    }
    const left = await scanDirs();
    out.log(TAG, `Nothing to reset: there is no ledger ${LEDGER} and none of the files kubeboot init writes exist`);
    if (left.length > 0) out.log(TAG, `Left ${left.length} file(s) kubeboot did not create:\n${left.map((f) => `\t${f}`).join('\n')}`);
    return { dryRun, removed, restored: [], left, manualCleanup: MANUAL_CLEANUP, etcdDataDir: null, waitedForPods: false, kubeletStopped: false, nothingToDo: true };
  }

  const ledger = await readLedger(fx);
  const listed = Object.keys(ledger.files).sort();
  out.log(TAG, `Reading the ledger of the files kubeboot wrote: ${LEDGER} (${listed.length} file(s))`);
  const exists = async (f: string) => (await fx.stat(f)) !== undefined;
  const present = new Set<string>();
  for (const f of listed) if (await exists(f)) present.add(f);

  const del = async (path: string, what?: string) => {
    const st = await fx.stat(path);
    if (!st) return;
    if (dryRun) out.log(TAG, `Would remove ${what ?? ''}"${path}"`);
    else {
      await fx.remove(path);
      out.file(path, st.mode, 'removed');
    }
    removed.push(path);
  };

  // ---- 1. manifests (and the pods they run)
  const manifestOf = (c: string) => `${p.manifestsDir}/${c}.yaml`;
  const manifests: ManifestInfo[] = [];
  for (const c of [...STAGE_ONE, ...STAGE_TWO]) {
    const path = manifestOf(c);
    if (!present.has(path)) continue;
    manifests.push(readManifest(c, path, ((await fx.readFile(path)) ?? Buffer.from('')).toString('utf8')));
  }
  const otherManifests = listed.filter((f) => f.startsWith(`${p.manifestsDir}/`) && present.has(f) && !manifests.some((m) => m.path === f));
  const etcdManifest = manifests.find((m) => m.component === 'etcd');
  const etcdOwned = listed.includes(manifestOf('etcd'));
  let waited = false;
  if (manifests.length > 0 || otherManifests.length > 0) {
    const reader = dryRun ? 'dry-run' : await podReader(fx, spec);
    if (typeof reader === 'string') {
      if (!dryRun) out.log(TAG, `Not waiting for the control-plane pods to stop: ${reader}`);
    }
    const timeoutMs = o.waitTimeoutMs ?? spec.timeouts.controlPlaneComponentHealthCheckMs;
    const stage = async (components: readonly string[], extra: readonly string[], how: 'mirror-pods' | 'ports') => {
      const ms = manifests.filter((m) => components.includes(m.component));
      if (ms.length === 0 && extra.length === 0) return;
      const names = ms.map((m) => m.component);
      if (names.length > 0) out.log(TAG, `${dryRun ? 'Would remove' : 'Removing'} the static Pod manifests of ${names.join(', ')}`);
      for (const m of ms) await del(m.path, 'the static Pod manifest ');
      for (const f of extra) await del(f, 'the file ');
      if (typeof reader === 'string' || names.length === 0) return;
      waited = true;
      const ports = ms.flatMap(componentPorts);
      out.log(TAG, `Waiting for the kubelet to stop the pods of ${names.join(', ')} (up to ${formatDuration(timeoutMs)})`);
      const res = await poll(
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
        o.signal,
      );
      if (res.ok) out.log(TAG, `The pods of ${names.join(', ')} are gone after ${formatDuration(res.elapsedMs)}`);
      else out.warn(`[reset] the pods of ${names.join(', ')} did not stop within ${formatDuration(timeoutMs)} (${res.lastError ?? 'no answer'}); going on with the removal`);
    };
    await stage(STAGE_ONE, otherManifests, 'mirror-pods');
    await stage(STAGE_TWO, [], 'ports');
  }

  // ---- 2. the kubelet
  let kubeletStopped = false;
  if (dryRun) out.log(TAG, 'Would stop the kubelet service (systemctl stop kubelet)');
  else if (o.root !== '') out.log(TAG, `Not stopping the kubelet: the files are under --root "${o.root}", not this host's kubelet`);
  else if (!(await fx.which('systemctl'))) out.warn('[reset] could not stop the kubelet: systemctl was not found on PATH; stop it yourself (systemctl stop kubelet)');
  else {
    out.log(TAG, 'Stopping the kubelet service');
    try {
      const r = await fx.exec('systemctl', ['stop', 'kubelet'], { timeoutMs: 30_000 });
      if (r.exitCode === 0) kubeletStopped = true;
      else out.warn(`[reset] could not stop the kubelet: 'systemctl stop kubelet' failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`);
    } catch (err) {
      out.warn(`[reset] could not stop the kubelet: ${errorMessage(err)}`);
    }
  }

  // ---- 3. etcd data
  let etcdDataDir: string | null = null;
  if (etcdOwned) {
    etcdDataDir = spec.etcd.local?.dataDir ?? etcdManifest?.volumes['etcd-data'] ?? null;
    const names = etcdDataDir ? await fx.listDir(etcdDataDir).catch(() => undefined) : undefined;
    if (etcdDataDir && names) {
      for (const n of names) await del(`${etcdDataDir}/${n}`, 'etcd data ');
      out.log(TAG, `${dryRun ? 'Would delete' : 'Deleted'} contents of the etcd data directory: ${etcdDataDir}`);
    }
  } else if (spec.etcd.external) {
    out.log(TAG, 'No etcd config found. Assuming external etcd');
    out.log(TAG, 'Please, manually reset etcd to prevent further issues');
  }

  // ---- 4. every other file in the ledger (kubeboot's directories under tmp go as a whole in 5)
  const rest = listed.filter((f) => present.has(f) && !f.startsWith(`${p.manifestsDir}/`) && !f.startsWith(`${STATE_DIR}/`) && !f.startsWith(`${p.tmpDir}/kubeboot-`));
  if (rest.length > 0 && !dryRun) out.log(TAG, `Deleting files: [${rest.join(' ')}]`);
  for (const f of rest) await del(f);

  // ---- 4b. the files init replaced although kubeboot had not written them (src/lifecycle/replaced.ts) go back
  const restored: string[] = [];
  const keepDirs = new Set<string>();
  for (const k of await keptCopies(fx, p.tmpDir)) {
    const dir = k.copy.slice(0, k.copy.length - k.path.length);
    const gone = dryRun ? removed.includes(k.path) || !(await exists(k.path)) : !(await exists(k.path));
    if (!gone || restored.includes(k.path)) {
      // something else is there now (or an older copy went back already): the copy stays for the user
      keepDirs.add(dir);
      continue;
    }
    if (dryRun) out.log(TAG, `Would put back "${k.path}" as it was before kubeboot init replaced it (from "${k.copy}")`);
    else {
      const content = await fx.readFile(k.copy);
      if (!content) continue;
      await fx.writeFileAtomic(k.path, content, k.mode);
      out.file(k.path, k.mode, 'written');
      out.log(TAG, `Put back "${k.path}" as it was before kubeboot init replaced it`);
    }
    restored.push(k.path);
  }

  // ---- 5. kubeboot's backups, temp dirs and stale temp files
  const tmpNames = ((await fx.listDir(p.tmpDir).catch(() => undefined)) ?? []).filter((n) => n.startsWith('kubeboot-') && !keepDirs.has(`${p.tmpDir}/${n}`));
  for (const n of tmpNames) await del(`${p.tmpDir}/${n}`, "kubeboot's backup/temporary directory ");
  const dirs = [p.kubernetesDir, p.manifestsDir, p.certificatesDir, `${p.certificatesDir}/etcd`, p.kubeletDir];
  for (const d of dirs) {
    for (const n of (await fx.listDir(d).catch(() => undefined)) ?? []) if (KUBEBOOT_TEMP_FILE.test(n)) await del(`${d}/${n}`, 'the stale temporary file ');
  }

  // ---- what is left
  const gone = new Set(removed);
  const left = (await scanDirs()).filter((f) => (dryRun ? !gone.has(f.replace(/\/$/, '')) && !(etcdDataDir && f.startsWith(`${etcdDataDir}/`)) : true) && !restored.includes(f));

  // ---- 6. the state directory, last
  if (dryRun) out.log(TAG, `Would remove kubeboot's state directory "${STATE_DIR}" (the recorded configuration and the ledger)`);
  else {
    await fx.remove(STATE_DIR);
    out.log(TAG, `Removed kubeboot's state directory "${STATE_DIR}" (the recorded configuration and the ledger)`);
  }
  removed.push(`${STATE_DIR}/`);

  out.log(TAG, `${dryRun ? 'Would remove' : 'Removed'} ${removed.length} item(s) kubeboot created`);
  if (left.length > 0) {
    out.log(TAG, `Left ${left.length} file(s) kubeboot did not create:\n${left.map((f) => `\t${f}`).join('\n')}`);
  }
  out.log('', '');
  for (const line of CLOSING_TEXT) out.log('', line);
  out.log('', `Left for you to clean up: ${MANUAL_CLEANUP.join('; ')}.`);
  return { dryRun, removed, restored, left, manualCleanup: MANUAL_CLEANUP, etcdDataDir, waitedForPods: waited, kubeletStopped, nothingToDo: false };
}
