/**
 * A real test node: containerd + runc + the real kubelet in namespaces the test creates (test/real/node/node-init.sh
 * is its PID 1), with a `systemctl` shim standing in for systemd, so that the built kubeboot runs `init` with no
 * --root against real components. Nothing of the host's /etc/kubernetes, /var/lib/{kubelet,etcd,containerd} is
 * touched: the node has its own /etc, /var, /opt and /root layers, its own /run, and its own network namespace
 * (documentation-range addresses, no route out). stop() ends every process of the node, removes the cgroups the
 * kubelet made under the node's cgroupRoot, and deletes the node directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { CLI, REPO_ROOT } from '../helpers/paths.js';
import { CNI_BIN_DIR, RUNC, imageFor, type Components } from './components.js';

const NODE_SCRIPTS = path.join(REPO_ROOT, 'test', 'real', 'node');
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CGROUP_FS = '/sys/fs/cgroup';
/** every node's cgroupRoot starts with this, so that a later start can sweep what a crashed run left */
const CGROUP_PREFIX = 'kubeboot-real-';
/** where a node's own directory goes (never under the host paths it stands in for) */
const NODE_DIR_PREFIX = '/tmp/kubeboot-real-';

/** the directories the node gets dedicated on-disk copies of (bind mounts inside its mount namespace) */
export const NODE_BINDS = [
  '/etc/kubernetes',
  '/etc/cni/net.d',
  '/var/lib/kubelet',
  '/var/lib/etcd',
  '/var/lib/containerd',
  '/var/lib/cni',
  '/var/log/pods',
  '/var/log/containers',
] as const;

/** the kubelet's global kernel knobs (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables), at its values */
const KUBELET_SYSCTLS = {
  'vm.overcommit_memory': 1,
  'vm.panic_on_oom': 0,
  'kernel.panic': 10,
  'kernel.panic_on_oops': 1,
  'kernel.keys.root_maxkeys': 1000000,
  'kernel.keys.root_maxbytes': 25000000,
};

export const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';

export interface NodeOptions {
  /** node name and hostname (default kb-real) */
  readonly name?: string;
  /** the node address, from 192.0.2.0/24 (default 192.0.2.10) */
  readonly ip?: string;
  /** image references to import (default: kubeadm's etcd, kube-apiserver, kube-controller-manager, kube-scheduler, pause) */
  readonly images?: readonly string[];
  /** progress lines (default: stderr with a [real-node] prefix) */
  readonly log?: (line: string) => void;
}

export interface ExecOptions {
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
  readonly input?: string;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

function q(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** Runs a host command to completion (no shell). */
function run(cmd: string, args: readonly string[], opts: ExecOptions & { detachedGroup?: boolean } = {}): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? { PATH: HOST_PATH }, stdio: ['pipe', 'pipe', 'pipe'], detached: opts.detachedGroup ?? false });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      try {
        if (opts.detachedGroup && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // gone
      }
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started });
    });
    if (opts.input !== undefined) child.stdin.write(opts.input);
    child.stdin.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, lines: number): string {
  try {
    const all = readFileSync(file, 'utf8').split('\n');
    return all.slice(-lines - 1).join('\n');
  } catch {
    return '(none)';
  }
}

/** cgroup hierarchies mounted under /sys/fs/cgroup (v1 controllers, name=systemd, the unified one) */
function cgroupHierarchies(): string[] {
  try {
    return readdirSync(CGROUP_FS)
      .map((n) => path.join(CGROUP_FS, n))
      .filter((p) => existsSync(path.join(p, 'cgroup.procs')));
  } catch {
    return [];
  }
}

/** Removes a cgroup directory and every cgroup below it (rmdir, deepest first). Returns what could not go. */
function removeCgroupTree(dir: string): string[] {
  let left: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  for (const n of entries) {
    const p = path.join(dir, n);
    try {
      if (statSync(p).isDirectory()) left = left.concat(removeCgroupTree(p));
    } catch {
      // raced away
    }
  }
  try {
    rmdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') left.push(`${dir}: ${(e as Error).message}`);
  }
  return left;
}

/** Whether the node whose directory is `dir` still runs (its unshare process is alive). */
export function nodeAlive(dir: string): boolean {
  try {
    const pid = Number(readFileSync(path.join(dir, 'unshare.pid'), 'utf8').trim());
    return pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('unshare');
  } catch {
    return false;
  }
}

/**
 * Removes what test nodes whose run died before stop() left. A test calls it before taking the host snapshot it
 * compares with at the end, so that a killed earlier run's leftovers (removed by the next start) do not count.
 */
export function sweepStaleNodes(): void {
  sweepStale((l) => process.stderr.write(`[real-node] ${l}\n`));
}

/** What a run that died before stop() left: the cgroups under its cgroupRoot and its node directory. */
function sweepStale(log: (l: string) => void): void {
  const suffixes = new Set<string>();
  for (const h of cgroupHierarchies()) {
    try {
      for (const n of readdirSync(h)) if (n.startsWith(CGROUP_PREFIX)) suffixes.add(n.slice(CGROUP_PREFIX.length));
    } catch {
      // not readable
    }
  }
  const tmp = path.dirname(NODE_DIR_PREFIX);
  for (const n of readdirSync(tmp)) if (n.startsWith(path.basename(NODE_DIR_PREFIX))) suffixes.add(n.slice(path.basename(NODE_DIR_PREFIX).length));
  for (const s of suffixes) {
    const dir = `${NODE_DIR_PREFIX}${s}`;
    if (nodeAlive(dir)) continue;
    // a node being set up by another test process has no unshare.pid yet
    if (!existsSync(path.join(dir, 'unshare.pid')) && existsSync(dir) && Date.now() - statSync(dir).mtimeMs < 120_000) continue;
    const left = cgroupHierarchies().flatMap((h) => removeCgroupTree(path.join(h, `${CGROUP_PREFIX}${s}`)));
    if (left.length) log(`could not remove a stale node's cgroups: ${left.join('; ')}`);
    if (existsSync(dir)) {
      rmSync(dir, { recursive: true, force: true });
      log(`removed the stale node directory ${dir}`);
    }
  }
}

/**
 * The kubeadm configuration the real-tier tests and benchmarks init a node with: the node's name and address (not
 * loopback), the CRI socket, documentation-range subnets, and what a test adds to each document.
 */
export function nodeConfig(o: {
  readonly name: string;
  readonly ip: string;
  readonly version: string;
  /** more lines of the InitConfiguration's nodeRegistration */
  readonly nodeRegistration?: string;
  /** more top-level lines of the ClusterConfiguration */
  readonly cluster?: string;
  /** the pod subnet ('' for none) */
  readonly podSubnet?: string;
  /** more documents, appended after a --- line each */
  readonly documents?: readonly string[];
}): string {
  const podSubnet = o.podSubnet ?? '203.0.113.0/24';
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: ${o.ip}
  bindPort: 6443
nodeRegistration:
  name: ${o.name}
  criSocket: ${CRI_SOCKET}
${o.nodeRegistration ?? ''}---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${o.version}
${o.cluster ?? ''}networking:
  serviceSubnet: 198.51.100.0/24
${podSubnet ? `  podSubnet: ${podSubnet}\n` : ''}  dnsDomain: cluster.local
${(o.documents ?? []).map((d) => `---\n${d}`).join('')}`;
}

/**
 * The probe workload of the real tier: a Deployment `default/probe` of the probe image (never pulled: the node has
 * it), optionally Ready only once it serves (a readiness probe on its port 8080), and a Service `probe` (port 80)
 * in front of it.
 */
export function probeWorkload(image: string, o: { readonly readiness?: boolean; readonly service?: boolean } = {}): string {
  const readiness = o.readiness
    ? `        ports:
        - containerPort: 8080
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
`
    : '';
  const service = o.service
    ? `---
apiVersion: v1
kind: Service
metadata:
  name: probe
  namespace: default
spec:
  selector: {app: probe}
  ports:
  - port: 80
    targetPort: 8080
`
    : '';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: probe
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: probe}
  template:
    metadata:
      labels: {app: probe}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: probe
        image: ${image}
        imagePullPolicy: Never
${readiness}${service}`;
}

export class RealNode {
  readonly timings: Record<string, number> = {};
  private stopped = false;

  private constructor(
    readonly name: string,
    readonly ip: string,
    /** the node's directory on the host (config files the test writes here are visible inside the node) */
    readonly dir: string,
    readonly components: Components,
    readonly cgroupRoot: string,
    private readonly proc: ChildProcess,
    /** host PID of the node's PID 1 */
    readonly pid: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts a node: namespaces, mounts, network, containerd, images. */
  static async start(components: Components, opts: NodeOptions = {}): Promise<RealNode> {
    const log = opts.log ?? ((l: string) => process.stderr.write(`[real-node] ${l}\n`));
    const name = opts.name ?? 'kb-real';
    const ip = opts.ip ?? '192.0.2.10';
    if (!/^192\.0\.2\.\d{1,3}$/.test(ip)) throw new Error(`a test node's address must be in 192.0.2.0/24, not ${ip}`);
    const t0 = Date.now();
    sweepStale(log);
    const dir = mkdtempSync(NODE_DIR_PREFIX);
    for (const d of ['bin', 'logs', 'run', 'home', 'kubelet.conf.d', 'fs']) mkdirSync(path.join(dir, d), { recursive: true });
    const { bin } = components;
    for (const s of ['systemctl', 'kubelet-service']) symlinkSync(path.join(NODE_SCRIPTS, s), path.join(dir, 'bin', s));
    for (const b of ['kubelet', 'crictl', 'ctr', 'containerd']) symlinkSync(path.join(bin, b), path.join(dir, 'bin', b));
    writeFileSync(path.join(dir, 'containerd.toml'), containerdConfig(components));

    const images = opts.images ?? ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'pause'].map((c) => imageFor(components, c));
    const tars = images.map((ref) => {
      const f = components.images.get(ref);
      if (!f) throw new Error(`no image tar for ${ref} in ${components.imagesDir} (run bash test/real/build.sh)`);
      return f;
    });

    const suffix = path.basename(dir).slice(path.basename(NODE_DIR_PREFIX).length);
    const cgroupRoot = `/${CGROUP_PREFIX}${suffix}`;
    writeFileSync(
      path.join(dir, 'node.env'),
      Object.entries({
        NODE_NAME: name,
        NODE_IP: ip,
        NODE_PREFIX: '24',
        NODE_GATEWAY: '192.0.2.1',
        NODE_BIN: bin,
        NODE_BINDS: NODE_BINDS.join(' '),
        NODE_CGROUP_ROOT: cgroupRoot,
        NODE_FAKE_SYSCTLS: Object.entries(KUBELET_SYSCTLS).map(([k, v]) => `${k}=${v}`).join(' '),
        NODE_MACHINE_ID: randomBytes(16).toString('hex'),
        NODE_KUBELET_RESTART_SEC: '10',
      })
        .map(([k, v]) => `${k}=${q(v)}\n`)
        .join(''),
    );
    writeFileSync(path.join(dir, 'kubelet.conf.d', '50-test-node.conf'), kubeletDropIn(cgroupRoot));

    const initOut = path.join(dir, 'logs', 'node-init.log');
    const outFd = openSync(initOut, 'a');
    // stdin stays a pipe from this process: when it closes (stop(), or this process dying) the node ends
    const child = spawn('unshare', ['--mount', '--uts', '--ipc', '--net', '--pid', '--fork', '--mount-proc', '--propagation', 'private', 'bash', path.join(NODE_SCRIPTS, 'node-init.sh'), dir], {
      stdio: ['pipe', outFd, outFd],
      env: { PATH: HOST_PATH },
    });
    closeSync(outFd);
    writeFileSync(path.join(dir, 'unshare.pid'), `${child.pid}\n`);
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('exit', (code, signal) => (exited = { code, signal }));
    child.stdin?.on('error', () => undefined);

    // find PID 1 of the node: unshare's only child
    let pid = 0;
    for (let i = 0; i < 200 && !pid; i++) {
      try {
        pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0] ?? 0);
      } catch {
        pid = 0;
      }
      if (!pid) await sleep(10);
    }
    const node = new RealNode(name, ip, dir, components, cgroupRoot, child, pid, log);
    try {
      if (!pid) throw new Error('unshare started no child');
      for (let i = 0; ; i++) {
        if (existsSync(path.join(dir, 'ready'))) break;
        const failed = existsSync(path.join(dir, 'failed')) ? readFileSync(path.join(dir, 'failed'), 'utf8').trim() : undefined;
        if (failed || exited) throw new Error(`the node did not start: ${failed ?? `unshare exited ${JSON.stringify(exited)}`}\n${tail(initOut, 30)}`);
        if (i > 600) throw new Error(`the node did not start in 60 s\n${tail(initOut, 30)}`);
        await sleep(100);
      }
      node.timings.startMs = Date.now() - t0;
      log(`node ${name} (${ip}) up in ${node.timings.startMs} ms: ${dir}, PID 1 = host PID ${pid}`);
      const t1 = Date.now();
      await Promise.all(
        tars.map(async (tar) => {
          const r = await node.exec('ctr', ['--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', 'images', 'import', '--local', tar], { timeoutMs: 300_000 });
          if (r.code !== 0) throw new Error(`ctr images import ${tar} failed (${r.code}): ${r.stderr}${r.stdout}`);
        }),
      );
      node.timings.importMs = Date.now() - t1;
      const listed = await node.crictl(['images', '-o', 'json']);
      const have = new Set<string>((JSON.parse(listed.stdout).images as { repoTags?: string[] }[]).flatMap((i) => i.repoTags ?? []));
      const missing = images.filter((r) => !have.has(r));
      if (missing.length) throw new Error(`the CRI does not list ${missing.join(', ')} after the import; it lists ${[...have].join(', ')}`);
      log(`imported ${images.length} images in ${node.timings.importMs} ms`);
      return node;
    } catch (e) {
      const why = node.diagnostics();
      await node.stop().catch(() => undefined);
      throw new Error(`${(e as Error).message}\n${why}`);
    }
  }

  /** The environment of a command run in the node: the shims first on PATH, the node's own HOME. */
  private nodeEnv(extra: Record<string, string> = {}): string[] {
    const env = { PATH: `${this.dir}/bin:${HOST_PATH}`, HOME: path.join(this.dir, 'home'), LANG: 'C.UTF-8', ...extra };
    return Object.entries(env).map(([k, v]) => `${k}=${v}`);
  }

  /** Runs a command inside the node (all its namespaces), with the node's environment. */
  exec(cmd: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.stopped) throw new Error('the node is stopped');
    return run('nsenter', ['-t', String(this.pid), '-m', '-u', '-i', '-n', '-p', '--', 'env', '-i', ...this.nodeEnv(opts.env), cmd, ...args], {
      ...opts,
      env: { PATH: HOST_PATH },
      detachedGroup: true,
    });
  }

  /** The built kubeboot CLI (dist/src/cli/main.js), run inside the node with no --root. */
  kubeboot(args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(process.execPath, [CLI, ...args], { timeoutMs: 600_000, ...opts });
  }

  /** kubectl with the node's /etc/kubernetes/admin.conf */
  kubectl(args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec('kubectl', ['--kubeconfig', '/etc/kubernetes/admin.conf', '--cache-dir', path.join(this.dir, 'home', '.kube', 'cache'), '--request-timeout=10s', ...args], opts);
  }

  async kubectlJson<T = unknown>(args: readonly string[]): Promise<T> {
    const r = await this.kubectl([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  crictl(args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec('crictl', ['--runtime-endpoint', CRI_SOCKET, '--timeout', '10s', ...args], opts);
  }

  /** Polls fn until it returns a value (not undefined); else fails naming what, the last reason and the node's logs. */
  async until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const v = await fn();
        if (v !== undefined) return v;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last: ${last})` : ''}\n${this.diagnostics(25)}`);
      await sleep(500);
    }
  }

  /** the last lines of the node's logs (node-init, containerd, kubelet, systemctl calls) for a failure message */
  diagnostics(lines = 40): string {
    const f = (n: string) => `--- ${n} (last ${lines} lines) ---\n${tail(path.join(this.dir, 'logs', n), lines)}`;
    return ['node-init.log', 'systemctl.log', 'kubelet.log', 'containerd.log'].map(f).join('\n');
  }

  /**
   * Where a node path lives on the host, for the node's dedicated directories (NODE_BINDS): the test reads what
   * kubeboot wrote there without entering the node.
   */
  hostPath(p: string): string {
    for (const b of NODE_BINDS) {
      if (p === b || p.startsWith(`${b}/`)) return path.join(this.dir, 'fs', 'data', b.replace(/\//g, '_'), p.slice(b.length));
    }
    throw new Error(`${p} is not in one of the node's own directories (${NODE_BINDS.join(', ')})`);
  }

  logFile(name: 'kubelet.log' | 'containerd.log' | 'systemctl.log' | 'node-init.log'): string {
    try {
      return readFileSync(path.join(this.dir, 'logs', name), 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Ends every process of the node (PID 1 exits when its stdin closes; the kernel kills the rest of the PID
   * namespace), removes the node's cgroups and its directory. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const t0 = Date.now();
    const exited = new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) resolve();
      else this.proc.once('exit', () => resolve());
    });
    this.proc.stdin?.end();
    const killTimer = setTimeout(() => {
      try {
        if (this.pid) process.kill(this.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 5000);
    await exited;
    clearTimeout(killTimer);
    // the cgroups empty once the kernel has reaped the killed processes
    let left: string[] = [];
    for (let i = 0; i < 100; i++) {
      left = [];
      for (const h of cgroupHierarchies()) left = left.concat(removeCgroupTree(path.join(h, this.cgroupRoot)));
      if (left.length === 0) break;
      await sleep(100);
    }
    if (left.length) this.log(`could not remove cgroups: ${left.join('; ')}`);
    if (!process.env.KUBEBOOT_REAL_KEEP) rmSync(this.dir, { recursive: true, force: true });
    else this.log(`kept ${this.dir} (KUBEBOOT_REAL_KEEP)`);
    this.log(`node ${this.name} stopped in ${Date.now() - t0} ms`);
  }
}

/**
 * containerd 2.x, config version 3: runc from Debian via cgroupfs, overlayfs, kubeadm's pause as the sandbox image, and
 * the one setting this VM needs (restrict_oom_score_adj).
 */
function containerdConfig(c: Components): string {
  const pause = imageFor(c, 'pause');
  return `# written by test/real/node.ts for one test node
version = 3
root = "/var/lib/containerd"
state = "/run/containerd"

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${pause}"

[plugins.'io.containerd.cri.v1.runtime']
  enable_selinux = false
  # this VM gives root no CAP_SYS_RESOURCE, so no process may lower its oom_score_adj below 0; without this, runc
  # fails every sandbox (-998) and critical pod (-997) with "failed to update /proc/self/oom_score_adj: Permission
  # denied"; with it, containerd raises such values to its own (0)
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "${RUNC}"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["${CNI_BIN_DIR}"]
    conf_dir = "/etc/cni/net.d"

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
`;
}

/**
 * The settings this VM needs, in the kubelet's drop-in dir (--config-dir), never in kubeboot's config.yaml:
 * cgroup v1 (failCgroupV1: false), one cgroupRoot per node (cgroup v1 hierarchies are shared with the host), and
 * kind's no-eviction/no-image-GC settings (the kubelet sees the host's disk). kubeboot's `cgroupDriver: systemd`
 * needs no override: the kubelet takes containerd's answer (cgroupfs: SystemdCgroup = false).
 */
function kubeletDropIn(cgroupRoot: string): string {
  return `# written by test/real/node.ts: what this VM needs, not what kubeboot writes
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupRoot: ${cgroupRoot}
imageGCHighThresholdPercent: 100
evictionHard:
  imagefs.available: "0%"
  nodefs.available: "0%"
  nodefs.inodesFree: "0%"
`;
}
