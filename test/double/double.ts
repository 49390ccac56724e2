/**
 * The kubelet + API server test double (TEST code; product code never imports it). It follows the real contract:
 *
 *  - the "kubelet" starts once <root>/var/lib/kubelet/config.yaml exists (as a kubelet restarted by systemd would),
 *    serves /healthz on its healthzBindAddress:healthzPort, takes its node name from --hostname-override in
 *    kubeadm-flags.env (else the OS hostname), and watches staticPodPath (mapped under the root): every non-dot file
 *    is a pod; a file that appears, changes or disappears starts, restarts or stops that pod;
 *  - etcd runs FOR REAL (Debian's etcd, the manifest's command line with host paths mapped under the root; the etcd
 *    3.6 flag forms are translated to the 3.4 ones Debian ships); kube-apiserver, kube-controller-manager and
 *    kube-scheduler are pretended: their health endpoints are served on the addresses and ports of their manifests,
 *    and the "kube-apiserver" IS the API server below;
 *  - the API server speaks real TLS with kubeboot's certificates (the manifest's --tls-cert-file/--tls-private-key-file,
 *    clients checked against --client-ca-file) and authorizes by the client certificate's O: system:masters may do
 *    everything, kubeadm:cluster-admins only once the ClusterRoleBinding kubeadm:cluster-admins exists, others get 403;
 *  - mirror pods `<pod>-<node>` in kube-system carry kubernetes.io/config.{mirror,hash,source,seen}, container
 *    statuses (containerID, started, ready, startedAt, restartCount, lastState.terminated) and a Ready condition;
 *  - faults: crash-loop a component (exit code and log lines), start it slowly, never make it ready, keep the kubelet down,
 *    keep a pod's config hash across a manifest change; a fault may apply only to a manifest holding a given text.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import * as yaml from 'js-yaml';

const execFileP = promisify(execFile);

export interface CrashLoopFault {
  /** exit code of each run (default 1) */
  readonly exitCode?: number;
  /** what the container prints before it exits (default: one line naming the fault) */
  readonly logLines?: readonly string[];
  /** how long each run lasts before it exits (default 150 ms) */
  readonly runMs?: number;
  /** the back-off before the next run (default 200 ms) */
  readonly backoffMs?: number;
}

export interface ComponentFault {
  readonly crashLoop?: CrashLoopFault;
  /** the container starts only after this long (image pull, slow start) */
  readonly slowStartMs?: number;
  /** the container runs (live) but never becomes ready */
  readonly neverReady?: boolean;
  /**
   * When the manifest changes, the new pod keeps the config hash of the pod it replaces (its container is still new):
   * a change the kubelet's hash does not see. Applies whatever onlyWhenManifestIncludes says.
   */
  readonly keepHash?: boolean;
  /**
   * The other faults apply only to a manifest whose text holds this string (a bad flag makes the component crash; the
   * manifest without it runs fine).
   */
  readonly onlyWhenManifestIncludes?: string;
}

export interface DoubleOptions {
  /** the --root kubeboot writes under */
  readonly root: string;
  /** overrides the node name the kubelet would take from kubeadm-flags.env / the OS hostname */
  readonly nodeName?: string;
  /** per static pod name (etcd, kube-apiserver, …) */
  readonly faults?: Readonly<Record<string, ComponentFault>>;
  /** the kubelet never comes up (no healthz, no pods) */
  readonly kubeletDown?: boolean;
  /** how often the static pod path is rescanned (ms, default 20) */
  readonly syncMs?: number;
  /** time from "running" to "ready" for the pretended components (ms, default 30) */
  readonly readyDelayMs?: number;
  /** the etcd binary (default: etcd on PATH) */
  readonly etcdBinary?: string;
  /** translate etcd 3.6 flags to the 3.4 forms of Debian's etcd (default true) */
  readonly etcdFlagCompat?: boolean;
  /** diagnostic lines (default: none) */
  readonly log?: (line: string) => void;
  /**
   * When set, the double keeps a CRI view of its pods and containers (sandboxes; container ids, states, attempts, logs)
   * in this JSON file, which test/double/crictl-shim.ts serves as `crictl pods`, `crictl ps -a -o json` and `crictl logs`.
   */
  readonly criStateFile?: string;
  /** the CRI socket the shim expects in --runtime-endpoint (default: any) */
  readonly criSocket?: string;
}

export interface CriContainer {
  readonly id: string;
  readonly podName: string;
  readonly name: string;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED';
  readonly attempt: number;
  /** nanoseconds since the epoch, as crictl prints it */
  readonly createdAt: string;
  exitCode: number | undefined;
  readonly logs: string[];
}

/** A pod sandbox in the CRI view (one per pod). */
export interface CriSandbox {
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  /** nanoseconds since the epoch */
  readonly createdAt: string;
}

export interface TimelineEntry {
  /** ms since the epoch, sub-ms precision (performance.timeOrigin + performance.now()) */
  readonly at: number;
  readonly pod: string;
  readonly event: string;
}

/** The version the double's API server (/version) and kubelet (the Node's status.nodeInfo) report. */
export const DOUBLE_VERSION = 'v1.36.5-kubeboot-double';

export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

type Obj = Record<string, unknown>;

interface Termination {
  exitCode: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

interface ContainerStatus {
  name: string;
  image: string;
  containerID: string;
  state: 'waiting' | 'running' | 'terminated';
  reason: string;
  startedAt: string;
  started: boolean;
  ready: boolean;
  restartCount: number;
  lastTerminated: Termination | undefined;
}

interface RunningPod {
  readonly file: string;
  readonly manifest: Obj;
  readonly name: string;
  readonly mirrorName: string;
  readonly uid: string;
  /** the config hash the mirror pod reports */
  readonly hash: string;
  /** the hash of the file's bytes (what the sync compares) */
  readonly contentHash: string;
  readonly seen: string;
  readonly created: string;
  readonly command: string[];
  readonly container: ContainerStatus;
  readonly logs: string[];
  readonly attempts: CriContainer[];
  readonly timers: Set<NodeJS.Timeout>;
  servers: (http.Server | https.Server)[];
  proc: ChildProcess | undefined;
  stopping: boolean;
  readyCondTime: string;
}

const PATH_FLAGS = [
  'cert-file',
  'key-file',
  'trusted-ca-file',
  'peer-cert-file',
  'peer-key-file',
  'peer-trusted-ca-file',
  'data-dir',
  'tls-cert-file',
  'tls-private-key-file',
  'client-ca-file',
];

function flagsOf(command: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of command) {
    if (!c.startsWith('--')) continue;
    const eq = c.indexOf('=');
    if (eq < 0) m.set(c.slice(2), 'true');
    else m.set(c.slice(2, eq), c.slice(eq + 1));
  }
  return m;
}

function iso(t = Date.now()): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function unbracket(h: string): string {
  return h.replace(/^\[|\]$/g, '');
}

function listen(server: http.Server | https.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (e: Error) => reject(e);
    server.once('error', onErr);
    server.listen({ host: unbracket(host), port, exclusive: true }, () => {
      server.off('error', onErr);
      resolve();
    });
  });
}

function closeServer(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * A plain object store behind the API paths of the namespaced and cluster-scoped kinds init's later phases write:
 * create, read, list (with an equality label selector), replace and delete; no defaulting, no validation.
 */
class DoubleObjects {
  private readonly byPath = new Map<string, Obj>();
  private static readonly CORE = new Set(['configmaps', 'secrets', 'serviceaccounts', 'services', 'endpoints']);
  private static readonly GROUPS: Readonly<Record<string, { namespaced: readonly string[]; cluster: readonly string[] }>> = {
    'apps/v1': { namespaced: ['deployments', 'daemonsets'], cluster: [] },
    'rbac.authorization.k8s.io/v1': { namespaced: ['roles', 'rolebindings'], cluster: ['clusterroles'] },
  };

  /** The resource a path names (a collection, or one object when name is set); undefined for other paths. */
  static route(path: string): { resource: string; group: string; namespace?: string; name?: string } | undefined {
    const core = /^\/api\/v1\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/]+))?$/.exec(path);
    if (core && DoubleObjects.CORE.has(core[2] as string)) {
      return { resource: core[2] as string, group: '', namespace: decodeURIComponent(core[1] as string), ...(core[3] ? { name: decodeURIComponent(core[3]) } : {}) };
    }
    const grouped = /^\/apis\/([^/]+\/[^/]+)\/(?:namespaces\/([^/]+)\/)?([a-z]+)(?:\/([^/]+))?$/.exec(path);
    if (!grouped) return undefined;
    const g = DoubleObjects.GROUPS[grouped[1] as string];
    const resource = grouped[3] as string;
    const ok = grouped[2] !== undefined ? g?.namespaced.includes(resource) : g?.cluster.includes(resource);
    if (!ok) return undefined;
    return {
      resource,
      group: (grouped[1] as string).split('/')[0] as string,
      ...(grouped[2] !== undefined ? { namespace: decodeURIComponent(grouped[2]) } : {}),
      ...(grouped[4] ? { name: decodeURIComponent(grouped[4]) } : {}),
    };
  }
  /** The store's key of a route: group, namespace, resource and (unescaped) name. */
  static key(r: { resource: string; group: string; namespace?: string; name?: string }): string {
    return [r.group, r.namespace ?? '', r.resource, ...(r.name !== undefined ? [r.name] : [])].join('|');
  }
  get(path: string): Obj | undefined {
    return this.byPath.get(path);
  }
  set(path: string, obj: Obj): void {
    this.byPath.set(path, obj);
  }
  delete(path: string): void {
    this.byPath.delete(path);
  }
  /** The objects of a collection (its key) whose labels match every key=value of the selector. */
  list(collection: string, selector: string): Obj[] {
    const want = selector.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]);
    return [...this.byPath.entries()]
      .filter(([p]) => p.startsWith(`${collection}|`) && !p.slice(collection.length + 1).includes('|'))
      .map(([, o]) => o)
      .filter((o) => want.every(([k, v]) => ((o.metadata as Obj).labels as Obj | undefined)?.[k] === v));
  }
}

/** RFC 7386 JSON merge patch: maps merge, null removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Obj = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Obj) } : {};
  for (const [k, v] of Object.entries(patch as Obj)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function send(res: http.ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export class ControlPlaneDouble {
  readonly timeline: TimelineEntry[] = [];
  readonly root: string;
  private readonly opts: DoubleOptions;
  private faults: Record<string, ComponentFault>;
  private kubeletDown: boolean;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing = false;
  private stopped = false;
  private kubeletServer: http.Server | undefined;
  private kubeletConfig: Obj | undefined;
  private staticPodDir = '';
  private node = '';
  private readonly pods = new Map<string, RunningPod>(); // by file
  private readonly badFiles = new Map<string, string>(); // file → content hash that failed to parse
  private readonly bindings = new Map<string, Obj>();
  /** the API objects init writes (ConfigMaps, RBAC, Deployments, …), by group, namespace, resource and name */
  private readonly objects = new DoubleObjects();
  /** any other object (the Node, …), by its decoded URL path */
  private readonly others = new Map<string, Obj>();
  private resourceVersion = 1000;
  private readonly watchers = new Set<(type: string, pod: Obj) => void>();
  private selfSigned: Promise<{ cert: string; key: string }> | undefined;
  private tmp: string | undefined;
  /** the API server's address, once it listens */
  apiEndpoint: string | undefined;

  constructor(opts: DoubleOptions) {
    this.opts = opts;
    this.root = opts.root;
    this.faults = { ...(opts.faults ?? {}) };
    this.kubeletDown = opts.kubeletDown ?? false;
  }

  // ------------------------------------------------------------------ control

  async start(): Promise<void> {
    this.stopped = false;
    await this.sync();
    this.syncTimer = setInterval(() => void this.sync(), this.opts.syncMs ?? 20);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    // let a sync in progress finish (bounded)
    for (let i = 0; i < 200 && this.syncing; i++) await new Promise((r) => setTimeout(r, 10));
    await Promise.all([...this.pods.values()].map((p) => this.stopPod(p)));
    this.pods.clear();
    if (this.kubeletServer) await closeServer(this.kubeletServer);
    this.kubeletServer = undefined;
    for (const w of this.watchers) w('CLOSE', {});
    this.watchers.clear();
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }

  setFault(pod: string, fault: ComponentFault | undefined): void {
    if (fault) this.faults[pod] = fault;
    else delete this.faults[pod];
  }

  setKubeletDown(down: boolean): void {
    this.kubeletDown = down;
  }

  get nodeName(): string {
    return this.node;
  }

  get kubeletUp(): boolean {
    return this.kubeletServer !== undefined || (this.kubeletConfig !== undefined && !this.kubeletDown);
  }

  /** the mirror pods as the API serves them */
  mirrorPods(): Obj[] {
    return [...this.pods.values()].map((p) => this.podObject(p)).sort((a, b) => String((a.metadata as Obj).name).localeCompare(String((b.metadata as Obj).name)));
  }

  /** the time the last currently-Ready pod became Ready, when all pods are Ready */
  allReadyAt(expected: number): number | undefined {
    const pods = [...this.pods.values()];
    if (pods.length < expected || pods.some((p) => !p.container.ready)) return undefined;
    const times = this.timeline.filter((e) => e.event === 'ready' && pods.some((p) => p.mirrorName === e.pod)).map((e) => e.at);
    return times.length ? Math.max(...times) : undefined;
  }

  /** polls a condition on the double (bounded) */
  async waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`double: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private say(line: string): void {
    this.opts.log?.(`[double] ${line}`);
  }

  private mark(pod: string, event: string): void {
    this.timeline.push({ at: preciseNow(), pod, event });
    this.say(`${pod}: ${event}`);
  }

  private under(hostPath: string): string {
    return path.join(this.root, hostPath);
  }

  private later(p: RunningPod, ms: number, fn: () => void | Promise<void>): void {
    const t = setTimeout(() => {
      p.timers.delete(t);
      if (!p.stopping && !this.stopped) void fn();
    }, ms);
    p.timers.add(t);
  }

  // ------------------------------------------------------------------ the kubelet

  private async sync(): Promise<void> {
    if (this.syncing || this.stopped) return;
    this.syncing = true;
    try {
      if (!this.kubeletConfig) await this.tryStartKubelet();
      if (this.kubeletConfig) await this.syncStaticPods();
    } catch (err) {
      this.say(`sync error: ${(err as Error).message}`);
    } finally {
      this.syncing = false;
    }
  }

  private async tryStartKubelet(): Promise<void> {
    if (this.kubeletDown) return;
    const text = await fs.readFile(this.under('/var/lib/kubelet/config.yaml'), 'utf8').catch(() => undefined);
    if (text === undefined) return;
    const cfg = yaml.load(text) as Obj;
    if (!cfg || typeof cfg !== 'object') return;
    const flags = await fs.readFile(this.under('/var/lib/kubelet/kubeadm-flags.env'), 'utf8').catch(() => '');
    const override = /--hostname-override=([^\s"]+)/.exec(flags)?.[1];
    this.node = (this.opts.nodeName ?? override ?? os.hostname()).toLowerCase();
    this.staticPodDir = this.under(typeof cfg.staticPodPath === 'string' && cfg.staticPodPath ? cfg.staticPodPath : '/etc/kubernetes/manifests');
    const port = typeof cfg.healthzPort === 'number' ? cfg.healthzPort : 10248;
    const host = typeof cfg.healthzBindAddress === 'string' && cfg.healthzBindAddress ? cfg.healthzBindAddress : '127.0.0.1';
    if (port !== 0) {
      const srv = http.createServer((req, res) => {
        if ((req.url ?? '').split('?')[0] === '/healthz') send(res, 200, 'ok', 'text/plain');
        else send(res, 404, 'not found', 'text/plain');
      });
      await listen(srv, host, port);
      this.kubeletServer = srv;
    }
    this.kubeletConfig = cfg;
    this.mark('kubelet', `up (node ${this.node}, healthz ${host}:${port}, static pods ${this.staticPodDir})`);
  }

  private async syncStaticPods(): Promise<void> {
    const names = (await fs.readdir(this.staticPodDir).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
    const present = new Set<string>();
    for (const n of names) {
      const file = path.join(this.staticPodDir, n);
      const st = await fs.stat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      const content = await fs.readFile(file).catch(() => undefined);
      if (content === undefined) continue;
      present.add(file);
      const hash = createHash('sha256').update(content).update(`\nhost:${this.node}\nfile:${file}`).digest('hex').slice(0, 32);
      const cur = this.pods.get(file);
      if (cur && cur.contentHash === hash) continue;
      if (this.badFiles.get(file) === hash) continue;
      let manifest: Obj;
      try {
        manifest = yaml.load(content.toString('utf8')) as Obj;
        if (!manifest || typeof manifest !== 'object' || !(manifest.metadata as Obj)?.name) throw new Error('no metadata.name');
      } catch (err) {
        this.badFiles.set(file, hash);
        this.say(`cannot read static pod ${file}: ${(err as Error).message}`);
        continue;
      }
      if (cur) {
        this.mark(cur.mirrorName, 'manifest changed: restarting the pod');
        await this.stopPod(cur);
        this.pods.delete(file);
        this.notify('DELETED', cur);
      }
      if (this.stopped) return;
      const keep = cur !== undefined && this.faults[cur.name]?.keepHash === true;
      if (keep) this.mark(cur.mirrorName, `keep-hash fault: the new pod keeps config hash ${cur.hash}`);
      const pod = this.createPod(file, manifest, keep ? cur.hash : hash, hash);
      this.pods.set(file, pod);
      this.notify('ADDED', pod);
      this.startContainer(pod);
    }
    for (const [file, pod] of [...this.pods]) {
      if (present.has(file)) continue;
      this.mark(pod.mirrorName, 'manifest removed: stopping the pod');
      this.pods.delete(file);
      await this.stopPod(pod);
      this.notify('DELETED', pod);
      this.writeCriState();
    }
  }

  private createPod(file: string, manifest: Obj, hash: string, contentHash: string): RunningPod {
    const name = String((manifest.metadata as Obj).name);
    const c0 = (((manifest.spec as Obj)?.containers as Obj[]) ?? [])[0] ?? {};
    const command = Array.isArray(c0.command) ? (c0.command as unknown[]).map(String) : [];
    const pod: RunningPod = {
      file,
      manifest,
      name,
      mirrorName: `${name}-${this.node}`,
      uid: randomUUID(),
      hash,
      contentHash,
      seen: new Date().toISOString().replace('Z', '000000Z'),
      created: iso(),
      command,
      container: {
        name: String(c0.name ?? name),
        image: String(c0.image ?? ''),
        containerID: '',
        state: 'waiting',
        reason: 'ContainerCreating',
        startedAt: '',
        started: false,
        ready: false,
        restartCount: 0,
        lastTerminated: undefined,
      },
      logs: [],
      attempts: [],
      timers: new Set(),
      servers: [],
      proc: undefined,
      stopping: false,
      readyCondTime: iso(),
    };
    this.mark(pod.mirrorName, `pod created (config hash ${hash})`);
    return pod;
  }

  private changed(p: RunningPod): void {
    this.notify('MODIFIED', p);
    this.writeCriState();
  }

  private criWrites = Promise.resolve();

  /** the CRI view for the crictl shim (written in order, atomically) */
  private writeCriState(): void {
    const file = this.opts.criStateFile;
    if (!file) return;
    const state = {
      runtimeEndpoint: this.opts.criSocket ?? null,
      containers: [...this.pods.values()].flatMap((p) => p.attempts),
      sandboxes: [...this.pods.values()].map((p): CriSandbox => ({
        id: createHash('sha256').update(p.uid).digest('hex'),
        name: p.mirrorName,
        namespace: 'kube-system',
        uid: p.uid,
        state: 'SANDBOX_READY',
        createdAt: String(BigInt(Date.parse(p.created)) * 1_000_000n),
      })),
    };
    const text = JSON.stringify(state);
    this.criWrites = this.criWrites.then(async () => {
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, text);
      await fs.rename(tmp, file);
    }).catch(() => undefined);
  }

  private notify(type: string, p: RunningPod): void {
    this.resourceVersion++;
    const obj = this.podObject(p);
    for (const w of this.watchers) w(type, obj);
  }

  private log(p: RunningPod, line: string): void {
    p.attempts[p.attempts.length - 1]?.logs.push(line);
    p.logs.push(line);
    if (p.logs.length > 500) p.logs.splice(0, p.logs.length - 500);
  }

  // ------------------------------------------------------------------ containers

  /** the fault in force for this pod (none when it applies only to manifests holding a text this one lacks) */
  private faultFor(p: RunningPod): ComponentFault {
    const f = this.faults[p.name];
    if (!f) return {};
    if (f.onlyWhenManifestIncludes !== undefined && !JSON.stringify(p.manifest).includes(f.onlyWhenManifestIncludes)) return {};
    return f;
  }

  private startContainer(p: RunningPod): void {
    const fault = this.faultFor(p);
    const delay = fault.slowStartMs ?? 0;
    p.container.state = 'waiting';
    p.container.reason = p.container.restartCount > 0 ? 'CrashLoopBackOff' : 'ContainerCreating';
    if (delay > 0 && p.container.restartCount === 0) {
      this.mark(p.mirrorName, `slow start: the container starts in ${delay} ms`);
      this.later(p, delay, () => this.runContainer(p));
    } else void this.runContainer(p);
  }

  private async runContainer(p: RunningPod): Promise<void> {
    if (p.stopping || this.stopped) return;
    const fault = this.faultFor(p);
    const c = p.container;
    c.containerID = `containerd://${randomBytes(32).toString('hex')}`;
    p.attempts.push({
      id: c.containerID.slice('containerd://'.length),
      podName: p.mirrorName,
      name: c.name,
      state: 'CONTAINER_RUNNING',
      attempt: c.restartCount,
      createdAt: String(BigInt(Date.now()) * 1_000_000n),
      exitCode: undefined,
      logs: [],
    });
    if (p.attempts.length > 5) p.attempts.splice(0, p.attempts.length - 5);
    c.state = 'running';
    c.reason = '';
    c.startedAt = iso();
    c.started = true;
    c.ready = false;
    this.mark(p.mirrorName, `container running (${c.containerID.slice(13, 26)}, restarts ${c.restartCount})`);
    this.changed(p);
    if (fault.crashLoop) {
      const cl = fault.crashLoop;
      const lines = cl.logLines ?? [`${p.name}: the test double made this container fail (exit code ${cl.exitCode ?? 1})`];
      // it fails before it serves anything (its health endpoints stay down)
      for (const l of lines) this.log(p, l);
      this.writeCriState();
      // the kubelet's back-off doubles after each crash (here capped at 4× the base, to keep tests short)
      const backoff = (cl.backoffMs ?? 200) * 2 ** Math.min(2, p.container.restartCount);
      this.later(p, cl.runMs ?? 150, () => this.containerExited(p, cl.exitCode ?? 1, backoff));
      return;
    }
    if (p.name === 'etcd') {
      this.runEtcd(p);
      return;
    }
    try {
      await this.startServers(p);
    } catch (err) {
      this.log(p, `E could not serve: ${(err as Error).message}`);
      this.mark(p.mirrorName, `cannot listen: ${(err as Error).message}`);
      this.containerExited(p, 1, 500);
      return;
    }
    if (!fault.neverReady) this.later(p, this.opts.readyDelayMs ?? 30, () => this.setReady(p, true));
  }

  private setReady(p: RunningPod, ready: boolean): void {
    if (p.container.ready === ready) return;
    p.container.ready = ready;
    p.readyCondTime = iso();
    this.mark(p.mirrorName, ready ? 'ready' : 'not ready');
    this.changed(p);
  }

  private containerExited(p: RunningPod, exitCode: number, backoffMs: number): void {
    const c = p.container;
    void this.stopServers(p);
    c.lastTerminated = {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: c.startedAt,
      finishedAt: iso(),
      containerID: c.containerID,
    };
    const cur = p.attempts[p.attempts.length - 1];
    if (cur) {
      cur.state = 'CONTAINER_EXITED';
      cur.exitCode = exitCode;
    }
    c.restartCount++;
    c.state = 'waiting';
    c.reason = 'CrashLoopBackOff';
    c.started = false;
    c.ready = false;
    this.mark(p.mirrorName, `container exited with code ${exitCode} (restart ${c.restartCount})`);
    this.changed(p);
    this.later(p, backoffMs, () => this.runContainer(p));
  }

  private runEtcd(p: RunningPod): void {
    const fault = this.faultFor(p);
    const compat = this.opts.etcdFlagCompat ?? true;
    const args: string[] = [];
    for (const item of p.command.slice(1)) {
      const eq = item.indexOf('=');
      const name = item.startsWith('--') && eq > 0 ? item.slice(2, eq) : '';
      let value = eq > 0 ? item.slice(eq + 1) : '';
      if (name && PATH_FLAGS.includes(name) && value.startsWith('/')) value = this.under(value);
      if (compat && name === 'feature-gates' && /InitialCorruptCheck=true/.test(value)) {
        args.push('--experimental-initial-corrupt-check=true');
        continue;
      }
      if (compat && name === 'watch-progress-notify-interval') {
        args.push(`--experimental-watch-progress-notify-interval=${value}`);
        continue;
      }
      args.push(name ? `--${name}=${value}` : item);
    }
    if (!args.some((a) => a.startsWith('--logger'))) args.push('--logger=zap');
    const proc = spawn(this.opts.etcdBinary ?? 'etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.proc = proc;
    const onData = (d: Buffer) => {
      for (const l of d.toString('utf8').split('\n')) if (l.trim()) this.log(p, l);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.on('error', (e) => this.log(p, `E cannot start etcd: ${e.message}`));
    proc.on('exit', (code, sig) => {
      if (p.proc === proc) p.proc = undefined;
      if (p.stopping || this.stopped) return;
      this.containerExited(p, code ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : 1), 300);
    });
    // the readiness probe: etcd's /health on the metrics URL
    const metrics = (flagsOf(p.command).get('listen-metrics-urls') ?? 'http://127.0.0.1:2381').split(',')[0] as string;
    const url = `${metrics.replace(/\/+$/, '')}/health`;
    const probe = () => {
      if (p.proc !== proc || p.stopping || this.stopped) return;
      const req = http.get(url, { timeout: 500 }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          if (res.statusCode === 200 && /"health":\s*"true"/.test(body) && !fault.neverReady) this.setReady(p, true);
          else this.later(p, 20, probe);
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => this.later(p, 20, probe));
    };
    this.later(p, 20, probe);
  }

  private async stopPod(p: RunningPod): Promise<void> {
    p.stopping = true;
    for (const t of p.timers) clearTimeout(t);
    p.timers.clear();
    await this.stopServers(p);
    const proc = p.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    p.proc = undefined;
  }

  private async stopServers(p: RunningPod): Promise<void> {
    const servers = p.servers;
    p.servers = [];
    if (p.name === 'kube-apiserver') this.apiEndpoint = undefined;
    await Promise.all(servers.map(closeServer));
  }

  // ------------------------------------------------------------------ pretended components

  /** one self-signed serving certificate for the pretended components (made once, shared) */
  private selfSignedCert(): Promise<{ cert: string; key: string }> {
    this.selfSigned ??= (async () => {
      this.tmp ??= mkdtempSync(path.join(os.tmpdir(), 'kubeboot-double-'));
      const key = path.join(this.tmp, 'serving.key');
      const crt = path.join(this.tmp, 'serving.crt');
      await execFileP('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=kubeboot-test-double', '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
        '-keyout', key, '-out', crt,
      ]);
      return { cert: await fs.readFile(crt, 'utf8'), key: await fs.readFile(key, 'utf8') };
    })();
    return this.selfSigned;
  }

  private async startServers(p: RunningPod): Promise<void> {
    const f = flagsOf(p.command);
    if (p.name === 'kube-apiserver') {
      const host = f.get('advertise-address') ?? '127.0.0.1';
      const port = Number(f.get('secure-port') ?? 6443);
      const read = (flag: string) => fs.readFile(this.under(f.get(flag) ?? ''), 'utf8');
      const [cert, key, ca] = await Promise.all([read('tls-cert-file'), read('tls-private-key-file'), read('client-ca-file')]);
      const srv = https.createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: false }, (req, res) => this.api(p, req, res));
      await listen(srv, host, port);
      p.servers.push(srv);
      this.apiEndpoint = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
      this.log(p, `I serving the API on ${this.apiEndpoint}`);
      return;
    }
    const defaults: Record<string, number> = { 'kube-controller-manager': 10257, 'kube-scheduler': 10259 };
    const defPort = defaults[p.name];
    if (defPort === undefined) return; // another static pod: nothing to serve
    const bind = f.get('bind-address') ?? '127.0.0.1';
    const host = bind === '0.0.0.0' || bind === '' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
    const port = Number(f.get('secure-port') ?? defPort);
    const tls = await this.selfSignedCert();
    const srv = https.createServer(tls, (req, res) => {
      const route = (req.url ?? '').split('?')[0];
      if (route === '/healthz' || route === '/livez') send(res, 200, 'ok', 'text/plain');
      else if (route === '/readyz') {
        if (p.container.ready) send(res, 200, 'ok', 'text/plain');
        else send(res, 500, '[-]test-double: not ready\nreadyz check failed', 'text/plain');
      } else send(res, 404, 'not found', 'text/plain');
    });
    await listen(srv, host, port);
    p.servers.push(srv);
    this.log(p, `I serving health endpoints on https://${host}:${port}`);
  }

  // ------------------------------------------------------------------ the API server

  private podObject(p: RunningPod): Obj {
    const m = p.manifest;
    const meta = (m.metadata ?? {}) as Obj;
    const c = p.container;
    const state: Obj =
      c.state === 'running'
        ? { running: { startedAt: c.startedAt } }
        : c.state === 'waiting'
          ? { waiting: { reason: c.reason, ...(c.reason === 'CrashLoopBackOff' ? { message: `back-off restarting failed container ${c.name} in pod ${p.mirrorName}_kube-system(${p.uid})` } : {}) } }
          : { terminated: {} };
    const lastState: Obj = c.lastTerminated ? { terminated: { ...c.lastTerminated } } : {};
    const ready = c.ready ? 'True' : 'False';
    const now = p.readyCondTime;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.mirrorName,
        namespace: (meta.namespace as string) || 'default',
        uid: p.uid,
        resourceVersion: String(this.resourceVersion),
        creationTimestamp: p.created,
        labels: meta.labels ?? {},
        annotations: {
          ...((meta.annotations as Obj) ?? {}),
          'kubernetes.io/config.hash': p.hash,
          'kubernetes.io/config.mirror': p.hash,
          'kubernetes.io/config.seen': p.seen,
          'kubernetes.io/config.source': 'file',
        },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.node, uid: createHash('md5').update(this.node).digest('hex'), controller: true }],
      },
      spec: {
        ...((m.spec as Obj) ?? {}),
        nodeName: this.node,
        tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
      },
      status: {
        phase: c.state === 'running' || c.restartCount > 0 ? 'Running' : 'Pending',
        conditions: [
          { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: p.created },
          { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: p.created },
          { type: 'Ready', status: ready, lastProbeTime: null, lastTransitionTime: now, ...(c.ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${c.name}]` }) },
          { type: 'ContainersReady', status: ready, lastProbeTime: null, lastTransitionTime: now },
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: p.created },
        ],
        hostIP: '127.0.0.1',
        podIP: '127.0.0.1',
        startTime: p.created,
        qosClass: 'Burstable',
        containerStatuses: [
          {
            name: c.name,
            image: c.image,
            imageID: '',
            containerID: c.containerID,
            started: c.started,
            ready: c.ready,
            restartCount: c.restartCount,
            state,
            lastState,
          },
        ],
      },
    };
  }

  private identity(req: http.IncomingMessage): { user: string; groups: string[] } | undefined {
    const sock = req.socket as TLSSocket;
    if (!sock.authorized) return undefined;
    const cert = sock.getPeerCertificate();
    if (!cert || !cert.subject) return undefined;
    const o = cert.subject.O as unknown;
    const groups = o === undefined ? [] : Array.isArray(o) ? o.map(String) : [String(o)];
    return { user: String(cert.subject.CN ?? ''), groups };
  }

  private allowed(id: { groups: string[] }): boolean {
    if (id.groups.includes('system:masters')) return true;
    for (const b of this.bindings.values()) {
      const ref = b.roleRef as Obj | undefined;
      const subjects = (b.subjects as Obj[] | undefined) ?? [];
      if (ref?.kind === 'ClusterRole' && ref.name === 'cluster-admin' && subjects.some((s) => s.kind === 'Group' && id.groups.includes(String(s.name)))) {
        return true;
      }
    }
    return false;
  }

  private api(p: RunningPod, req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://double');
    const route = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (route === '/livez' || route === '/healthz') return send(res, 200, 'ok', 'text/plain');
    if (route === '/readyz') return p.container.ready ? send(res, 200, 'ok', 'text/plain') : send(res, 500, '[-]test-double: not ready\nreadyz check failed', 'text/plain');
    if (route === '/version') return send(res, 200, { major: '1', minor: '36', gitVersion: DOUBLE_VERSION, platform: 'linux/amd64' });
    const id = this.identity(req);
    if (!id) return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const forbid = (verb: string, resource: string, group: string, ns?: string) =>
      send(
        res,
        403,
        status(
          403,
          'Forbidden',
          `${resource} is forbidden: User "${id.user}" cannot ${verb} resource "${resource}" in API group "${group}"${ns ? ` in the namespace "${ns}"` : ' at the cluster scope'}`,
          { kind: resource },
        ),
      );
    // discovery
    if (route === '/api') {
      return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: req.headers.host ?? '' }] });
    }
    if (route === '/apis') {
      const group = (name: string) => {
        const gv = { groupVersion: `${name}/v1`, version: 'v1' };
        return { name, versions: [gv], preferredVersion: gv };
      };
      return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [group('rbac.authorization.k8s.io'), group('apps')] });
    }
    const crud = ['create', 'delete', 'get', 'list', 'update'];
    const resource = (name: string, kind: string, namespaced: boolean, verbs = crud) => ({ name, singularName: kind.toLowerCase(), namespaced, kind, verbs });
    if (route === '/api/v1') {
      return send(res, 200, {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list', 'watch'], shortNames: ['po'], categories: ['all'] },
          resource('configmaps', 'ConfigMap', true),
          resource('secrets', 'Secret', true),
          resource('serviceaccounts', 'ServiceAccount', true),
          resource('services', 'Service', true),
        ],
      });
    }
    if (route === '/apis/rbac.authorization.k8s.io/v1') {
      return send(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'rbac.authorization.k8s.io/v1',
        resources: [
          resource('clusterrolebindings', 'ClusterRoleBinding', false, ['create', 'get', 'list', 'update']),
          resource('clusterroles', 'ClusterRole', false),
          resource('roles', 'Role', true),
          resource('rolebindings', 'RoleBinding', true),
        ],
      });
    }
    if (route === '/apis/apps/v1') {
      return send(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'apps/v1',
        resources: [resource('deployments', 'Deployment', true), resource('daemonsets', 'DaemonSet', true)],
      });
    }
    // pods
    const podsRe = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/pods(?:\/([^/]+))?$/.exec(route);
    if (podsRe) {
      const ns = podsRe[1];
      const name = podsRe[2] ? decodeURIComponent(podsRe[2]) : undefined;
      if (method !== 'GET') return send(res, 405, status(405, 'MethodNotAllowed', 'the test double serves pods read-only'));
      if (!this.allowed(id)) return forbid(name ? 'get' : 'list', 'pods', '', ns);
      const all = this.mirrorPods().filter((x) => ns === undefined || (x.metadata as Obj).namespace === ns);
      if (name !== undefined) {
        const hit = all.find((x) => (x.metadata as Obj).name === name);
        return hit ? send(res, 200, hit) : send(res, 404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
      }
      const watch = url.searchParams.get('watch');
      if (watch === '1' || watch === 'true') return this.watchPods(req, res, ns, Number(url.searchParams.get('timeoutSeconds') ?? 0));
      if (String(req.headers.accept ?? '').includes('as=Table')) return send(res, 200, this.podTable(all));
      return send(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.resourceVersion) }, items: all });
    }
    // clusterrolebindings
    const crbRe = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/clusterrolebindings(?:\/([^/]+))?$/.exec(route);
    if (crbRe) {
      const name = crbRe[1] ? decodeURIComponent(crbRe[1]) : undefined;
      if (method === 'GET') {
        if (!this.allowed(id)) return forbid(name ? 'get' : 'list', 'clusterrolebindings', 'rbac.authorization.k8s.io');
        if (name === undefined) return send(res, 200, { kind: 'ClusterRoleBindingList', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: {}, items: [...this.bindings.values()] });
        const b = this.bindings.get(name);
        return b ? send(res, 200, b) : send(res, 404, status(404, 'NotFound', `clusterrolebindings.rbac.authorization.k8s.io "${name}" not found`, { name, group: 'rbac.authorization.k8s.io', kind: 'clusterrolebindings' }));
      }
      if (method === 'POST' && name === undefined) {
        if (!this.allowed(id)) return forbid('create', 'clusterrolebindings', 'rbac.authorization.k8s.io');
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          let obj: Obj;
          try {
            obj = JSON.parse(body) as Obj;
          } catch {
            return send(res, 400, status(400, 'BadRequest', 'the body is not JSON'));
          }
          const n = String((obj.metadata as Obj | undefined)?.name ?? '');
          if (!n) return send(res, 422, status(422, 'Invalid', 'metadata.name: Required value'));
          if (this.bindings.has(n)) {
            return send(res, 409, status(409, 'AlreadyExists', `clusterrolebindings.rbac.authorization.k8s.io "${n}" already exists`, { name: n, group: 'rbac.authorization.k8s.io', kind: 'clusterrolebindings' }));
          }
          this.resourceVersion++;
          const stored = { ...obj, metadata: { ...(obj.metadata as Obj), uid: randomUUID(), resourceVersion: String(this.resourceVersion), creationTimestamp: iso() } };
          this.bindings.set(n, stored);
          this.mark('api', `ClusterRoleBinding ${n} created by ${id.user} (${id.groups.join(',')})`);
          send(res, 201, stored);
        });
        return;
      }
      if (method === 'PUT' && name !== undefined) {
        if (!this.allowed(id)) return forbid('update', 'clusterrolebindings', 'rbac.authorization.k8s.io');
        const cur = this.bindings.get(name);
        if (!cur) return send(res, 404, status(404, 'NotFound', `clusterrolebindings.rbac.authorization.k8s.io "${name}" not found`, { name, group: 'rbac.authorization.k8s.io', kind: 'clusterrolebindings' }));
        return this.readBody(req, res, (obj) => {
          const stored = this.replaced(cur, obj);
          if (!stored) return send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on clusterrolebindings.rbac.authorization.k8s.io "${name}": the object has been modified`));
          this.bindings.set(name, stored);
          this.mark('api', `ClusterRoleBinding ${name} updated by ${id.user}`);
          send(res, 200, stored);
        });
      }
      return send(res, 405, status(405, 'MethodNotAllowed', `${method} is not served by the test double`));
    }
    // one key per object however its name is escaped (kubeboot sends system%3Acoredns, kubectl system:coredns)
    // the status subresource (…/deployments/coredns/status): a merge patch of the object's status only, as a
    // controller would write it (the double runs no controllers; tests set the states they need this way)
    const statusRoute = route.endsWith('/status') ? DoubleObjects.route(route.slice(0, -'/status'.length)) : undefined;
    if (statusRoute?.name && method === 'PATCH') {
      if (!this.allowed(id)) return forbid('patch', `${statusRoute.resource}/status`, statusRoute.group, statusRoute.namespace);
      const key = DoubleObjects.key(statusRoute);
      const cur = this.objects.get(key);
      if (!cur) return send(res, 404, status(404, 'NotFound', `${statusRoute.resource} "${statusRoute.name}" not found`, { name: statusRoute.name, kind: statusRoute.resource }));
      return this.readBody(req, res, (patch) => {
        this.resourceVersion++;
        const stored: Obj = { ...cur, metadata: { ...(cur.metadata as Obj), resourceVersion: String(this.resourceVersion) }, status: mergePatch(cur.status ?? {}, patch.status ?? {}) as Obj };
        this.objects.set(key, stored);
        send(res, 200, stored);
      });
    }
    const objRoute = DoubleObjects.route(route);
    const objKey = objRoute ? DoubleObjects.key(objRoute) : '';
    if (objRoute) {
      const verb = method === 'GET' ? (objRoute.name ? 'get' : 'list') : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'DELETE' ? 'delete' : method.toLowerCase();
      if (!this.allowed(id)) return forbid(verb, objRoute.resource, objRoute.group, objRoute.namespace);
      if (method === 'GET') {
        if (objRoute.name) {
          const hit = this.objects.get(objKey);
          return hit ? send(res, 200, hit) : send(res, 404, status(404, 'NotFound', `${objRoute.resource} "${objRoute.name}" not found`, { name: objRoute.name, kind: objRoute.resource }));
        }
        return send(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.resourceVersion) }, items: this.objects.list(objKey, url.searchParams.get('labelSelector') ?? '') });
      }
      if (method === 'POST' && !objRoute.name) {
        return this.readBody(req, res, (obj) => {
          const n = String((obj.metadata as Obj | undefined)?.name ?? '');
          if (!n) return send(res, 422, status(422, 'Invalid', 'metadata.name: Required value'));
          const key = DoubleObjects.key({ ...objRoute, name: n });
          if (this.objects.get(key)) return send(res, 409, status(409, 'AlreadyExists', `${objRoute.resource} "${n}" already exists`, { name: n, kind: objRoute.resource }));
          this.resourceVersion++;
          const meta = { ...(obj.metadata as Obj), uid: randomUUID(), resourceVersion: String(this.resourceVersion), creationTimestamp: iso() };
          delete (meta as Obj).managedFields;
          const stored: Obj = { ...obj, metadata: meta };
          delete stored.status;
          this.objects.set(key, stored);
          this.mark('api', `${String(obj.kind)} ${objRoute.namespace ? `${objRoute.namespace}/` : ''}${n} created by ${id.user}`);
          send(res, 201, stored);
        });
      }
      if (method === 'PUT' && objRoute.name) {
        const cur = this.objects.get(objKey);
        if (!cur) return send(res, 404, status(404, 'NotFound', `${objRoute.resource} "${objRoute.name}" not found`, { name: objRoute.name, kind: objRoute.resource }));
        return this.readBody(req, res, (obj) => {
          const stored = this.replaced(cur, obj);
          if (!stored) return send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${objRoute.resource} "${objRoute.name}": the object has been modified; please apply your changes to the latest version and try again`));
          this.objects.set(objKey, stored);
          this.mark('api', `${String(obj.kind)} ${objRoute.namespace ? `${objRoute.namespace}/` : ''}${objRoute.name} updated by ${id.user}`);
          send(res, 200, stored);
        });
      }
      if (method === 'DELETE' && objRoute.name) {
        const cur = this.objects.get(objKey);
        if (!cur) return send(res, 404, status(404, 'NotFound', `${objRoute.resource} "${objRoute.name}" not found`, { name: objRoute.name, kind: objRoute.resource }));
        this.objects.delete(objKey);
        return send(res, 200, status(200, 'Success', `${objRoute.resource} "${objRoute.name}" deleted`));
      }
      return send(res, 405, status(405, 'MethodNotAllowed', `${method} is not served by the test double`));
    }
    // any other object: a plain store (get, create, replace with the resourceVersion checked, merge patch, delete)
    const objRe = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)(?:\/namespaces\/[^/]+)?\/[a-z]+(?:\/([^/]+))?$/.exec(route);
    if (objRe) return this.store(id, route, objRe[1] ? decodeURIComponent(objRe[1]) : undefined, method, req, res, forbid);
    return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
  }

  /** Reads a JSON body, answering 400 when it is not one. */
  private readBody(req: http.IncomingMessage, res: http.ServerResponse, then: (obj: Obj) => void): void {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      let obj: Obj;
      try {
        obj = JSON.parse(body) as Obj;
      } catch {
        return send(res, 400, status(400, 'BadRequest', 'the body is not JSON'));
      }
      then(obj);
    });
  }

  /** An update as the API server makes it: a stale resourceVersion conflicts (undefined); uid and creation time stay. */
  private replaced(cur: Obj, obj: Obj): Obj | undefined {
    const curMeta = cur.metadata as Obj;
    const rv = (obj.metadata as Obj | undefined)?.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== '0' && rv !== curMeta.resourceVersion) return undefined;
    this.resourceVersion++;
    const stored: Obj = { ...obj, metadata: { ...(obj.metadata as Obj), uid: curMeta.uid, creationTimestamp: curMeta.creationTimestamp, resourceVersion: String(this.resourceVersion) } };
    delete (stored.metadata as Obj).managedFields;
    if (cur.status !== undefined) stored.status = cur.status;
    else delete stored.status;
    return stored;
  }

  /** An object the API server double stores (its decoded path, e.g. /api/v1/namespaces/kube-system/configmaps/kubeadm-config). */
  object(objectPath: string): Obj | undefined {
    const crb = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/clusterrolebindings\/([^/]+)$/.exec(objectPath);
    if (crb) return this.bindings.get(crb[1] as string);
    const r = DoubleObjects.route(objectPath);
    return r ? this.objects.get(DoubleObjects.key(r)) : this.others.get(objectPath);
  }

  /**
   * The store of every other object. The kubelet double's own Node is there as soon as it runs (a real kubelet registers it), with
   * its hostname label; PATCH merges maps and replaces lists, which is what a strategic merge of labels and taints
   * does for the fields kubeboot patches.
   */
  private store(
    id: { user: string; groups: string[] },
    route: string,
    name: string | undefined,
    method: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    forbid: (verb: string, resource: string, group: string, ns?: string) => void,
  ): void {
    route = decodeURIComponent(route);
    const resource = route.split('/')[name === undefined ? route.split('/').length - 1 : route.split('/').length - 2] as string;
    if (!this.allowed(id)) return void forbid(method.toLowerCase(), resource, '');
    const key = (n: string) => (name === undefined ? `${route}/${n}` : route.replace(/\/[^/]+$/, `/${n}`));
    if (resource === 'nodes' && name === this.node && this.kubeletServer && !this.others.has(route)) {
      this.resourceVersion++;
      this.others.set(route, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, uid: randomUUID(), resourceVersion: String(this.resourceVersion), creationTimestamp: iso(), labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
        spec: {},
        status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: DOUBLE_VERSION, kubeProxyVersion: '', containerRuntimeVersion: 'containerd://1.6.20', operatingSystem: 'linux', architecture: 'amd64' } },
      });
    }
    const notFound = (n: string) => send(res, 404, status(404, 'NotFound', `${resource} "${n}" not found`, { name: n, kind: resource }));
    if (method === 'GET') {
      if (name === undefined) return send(res, 200, { kind: 'List', apiVersion: 'v1', metadata: {}, items: [...this.others.entries()].filter(([k]) => k.startsWith(`${route}/`)).map(([, v]) => v) });
      const o = this.others.get(route);
      return o ? send(res, 200, o) : notFound(name);
    }
    if (method === 'DELETE' && name !== undefined) {
      const o = this.others.get(route);
      if (!o) return notFound(name);
      this.others.delete(route);
      return send(res, 200, o);
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      let obj: Obj;
      try {
        obj = JSON.parse(body) as Obj;
      } catch {
        return send(res, 400, status(400, 'BadRequest', 'the body is not JSON'));
      }
      const meta = (obj.metadata as Obj | undefined) ?? {};
      this.resourceVersion++;
      const rv = String(this.resourceVersion);
      if (method === 'POST' && name === undefined) {
        const n = String(meta.name ?? '');
        if (!n) return send(res, 422, status(422, 'Invalid', 'metadata.name: Required value'));
        if (this.others.has(key(n))) return send(res, 409, status(409, 'AlreadyExists', `${resource} "${n}" already exists`, { name: n, kind: resource }));
        const stored = { ...obj, metadata: { ...meta, uid: randomUUID(), resourceVersion: rv, creationTimestamp: iso() } };
        this.others.set(key(n), stored);
        this.mark('api', `${String(obj.kind)} ${n} created by ${id.user}`);
        return send(res, 201, stored);
      }
      const cur = name === undefined ? undefined : this.others.get(route);
      if (!cur || name === undefined) return notFound(name ?? '');
      const curMeta = cur.metadata as Obj;
      if (method === 'PUT') {
        if (meta.resourceVersion !== undefined && meta.resourceVersion !== curMeta.resourceVersion) {
          return send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified`, { name, kind: resource }));
        }
        const stored = { ...obj, metadata: { ...meta, uid: curMeta.uid, creationTimestamp: curMeta.creationTimestamp, resourceVersion: rv } };
        this.others.set(route, stored);
        return send(res, 200, stored);
      }
      if (method === 'PATCH') {
        const merge = (a: unknown, b: unknown): unknown => {
          if (b === null || typeof b !== 'object' || Array.isArray(b) || a === null || typeof a !== 'object' || Array.isArray(a)) return b;
          const out: Obj = { ...(a as Obj) };
          for (const [k, v] of Object.entries(b as Obj)) {
            if (v === null) delete out[k];
            else out[k] = merge(out[k], v);
          }
          return out;
        };
        const stored = merge(cur, obj) as Obj;
        (stored.metadata as Obj).resourceVersion = rv;
        this.others.set(route, stored);
        return send(res, 200, stored);
      }
      return send(res, 405, status(405, 'MethodNotAllowed', `${method} is not served by the test double`));
    });
  }

  private podTable(pods: Obj[]): Obj {
    const age = (t: string) => {
      const s = Math.max(0, Math.round((Date.now() - Date.parse(t)) / 1000));
      return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
    };
    return {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: String(this.resourceVersion) },
      columnDefinitions: [
        { name: 'Name', type: 'string', format: 'name', description: 'Name', priority: 0 },
        { name: 'Ready', type: 'string', format: '', description: 'ready containers', priority: 0 },
        { name: 'Status', type: 'string', format: '', description: 'pod status', priority: 0 },
        { name: 'Restarts', type: 'string', format: '', description: 'restarts', priority: 0 },
        { name: 'Age', type: 'string', format: '', description: 'age', priority: 0 },
      ],
      rows: pods.map((pod) => {
        const meta = pod.metadata as Obj;
        const cs = ((pod.status as Obj).containerStatuses as Obj[])[0] as Obj;
        const st = cs.state as Obj;
        const statusText = st.running ? 'Running' : String((st.waiting as Obj | undefined)?.reason ?? 'Unknown');
        return {
          cells: [meta.name, `${cs.ready ? 1 : 0}/1`, statusText, String(cs.restartCount), age(String(meta.creationTimestamp))],
          object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta },
        };
      }),
    };
  }

  private watchPods(req: http.IncomingMessage, res: http.ServerResponse, ns: string | undefined, timeoutSeconds: number): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const write = (type: string, obj: Obj) => {
      if ((obj.metadata as Obj | undefined)?.namespace !== ns && ns !== undefined) return;
      res.write(`${JSON.stringify({ type, object: obj })}\n`);
    };
    for (const pod of this.mirrorPods()) write('ADDED', pod);
    const w = (type: string, obj: Obj) => {
      if (type === 'CLOSE') return finish();
      write(type, obj);
    };
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      this.watchers.delete(w);
      if (timer) clearTimeout(timer);
      res.end();
    };
    this.watchers.add(w);
    timer = setTimeout(finish, (timeoutSeconds > 0 ? timeoutSeconds : 300) * 1000);
    req.on('close', finish);
  }
}
