/**
 * (Lives in effects/: it reads the real host.) Host facts that rendering needs, gathered once (by preflight's fact gatherer, at context creation) so
 * that render code stays pure: it never reads the environment, the hostname or the disk itself.
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import type { Effects, FileInfo } from './types.js';

export interface HostFacts {
  /** OS hostname, lowercased (kubeadm's default node name) */
  readonly hostname: string;
  /** address of the default-route interface (kubeadm's default advertise address) */
  readonly defaultAddress: string | undefined;
  /** CRI sockets found at the well-known paths */
  readonly criSockets: readonly string[];
  /** which optional CA certificate directories exist (checked under --root when given) */
  readonly existingCaDirs: readonly string[];
  /** non-empty *_proxy variables, sorted by name */
  readonly proxyEnv: readonly { readonly name: string; readonly value: string }[];
  readonly uid: number;
  readonly swapOn: boolean;
  readonly cpus: number;
  readonly memoryMB: number;
  /** first byte of /proc/sys/net/ipv4/ip_forward and ipv6 default forwarding ('' when unreadable) */
  readonly ipv4Forward: string;
  readonly ipv6Forward: string;
  /**
   * systemd-resolved runs: its upstream resolv.conf exists (checked under --root when given). kubeadm asks systemd
   * whether the service is active; the file it writes while running answers the same without starting a process.
   */
  readonly systemdResolved: boolean;
  /**
   * Paths that could not be looked at (a non-root user and containerd's 0700 /run/containerd, say), with why. Each is
   * taken as absent; config defaulting warns about them. A probe never fails the command.
   */
  readonly unprobed?: readonly HostProbeFailure[];
}

export interface HostProbeFailure {
  /** the host path probed */
  readonly path: string;
  /** why it could not be looked at: "permission denied", or the error's message */
  readonly reason: string;
}

/** What systemd-resolved writes while it runs: the upstream servers (the kubelet's resolvConf under kubeadm). */
export const SYSTEMD_RESOLVED_UPSTREAM = '/run/systemd/resolve/resolv.conf';

/** The optional CA directories kubeadm mounts into the control plane when they exist. */
export const OPTIONAL_CA_DIRS = [
  '/etc/ca-certificates',
  '/etc/pki/ca-trust',
  '/etc/pki/tls/certs',
  '/usr/local/share/ca-certificates',
  '/usr/share/ca-certificates',
] as const;

export const KNOWN_CRI_SOCKETS = [
  'unix:///var/run/containerd/containerd.sock',
  'unix:///var/run/crio/crio.sock',
  'unix:///var/run/cri-dockerd.sock',
] as const;

function hexToIPv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

/** Why a probe could not look at a path, in a few words. */
export function probeFailureReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied';
  return e instanceof Error ? e.message : String(err);
}

/**
 * Looks at a path through the effects and never throws: a path kubeboot may not read (EACCES) is recorded in
 * `failures` and taken as absent. Every disk probe of host-fact gathering goes through here.
 */
export async function probePath(fx: Effects, hostPath: string, failures: HostProbeFailure[]): Promise<FileInfo | undefined> {
  try {
    return await fx.stat(hostPath);
  } catch (err) {
    failures.push({ path: hostPath, reason: probeFailureReason(err) });
    return undefined;
  }
}

/** A fact from the OS that may throw in a sandbox (uv_interface_addresses, say): the fallback instead. */
function osFact<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function readProc(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** Reads /proc/net/route (the real host's, never under --root) for the default route's interface. */
function defaultRouteInterface(): string | undefined {
  const text = readProc('/proc/net/route');
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 2 && cols[1] === '00000000' && hexToIPv4(cols[2] ?? '0') !== '') return cols[0];
  }
  return undefined;
}

export function pickAddress(iface: string | undefined): string | undefined {
  const all = osFact(() => os.networkInterfaces(), {});
  const candidates = iface ? [all[iface] ?? []] : Object.values(all).map((x) => x ?? []);
  for (const family of ['IPv4', 'IPv6'] as const) {
    for (const list of candidates) {
      for (const a of list) {
        if (a.internal || a.family !== family) continue;
        if (family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
        return a.address;
      }
    }
  }
  return undefined;
}

export function proxyEnvFrom(env: NodeJS.ProcessEnv): { name: string; value: string }[] {
  return Object.entries(env)
    .filter(([k, v]) => k.toLowerCase().endsWith('_proxy') && typeof v === 'string' && v !== '')
    .map(([name, value]) => ({ name, value: value as string }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function gatherHostFacts(fx: Effects, env: NodeJS.ProcessEnv = process.env): Promise<HostFacts> {
  const iface = defaultRouteInterface();
  const unprobed: HostProbeFailure[] = [];
  const [criSockets, existingCaDirs, resolved] = await Promise.all([
    Promise.all(KNOWN_CRI_SOCKETS.map(async (s) => ((await probePath(fx, s.slice('unix://'.length), unprobed)) ? s : undefined))).then(
      (xs) => xs.filter((x): x is (typeof KNOWN_CRI_SOCKETS)[number] => x !== undefined),
    ),
    Promise.all(OPTIONAL_CA_DIRS.map(async (d) => ((await probePath(fx, d, unprobed))?.kind === 'dir' ? d : undefined))).then((xs) =>
      xs.filter((x): x is (typeof OPTIONAL_CA_DIRS)[number] => x !== undefined),
    ),
    probePath(fx, SYSTEMD_RESOLVED_UPSTREAM, unprobed),
  ]);
  const swapLines = readProc('/proc/swaps').trim().split('\n').slice(1).filter((l) => l.trim());
  return {
    hostname: osFact(() => os.hostname(), 'localhost').toLowerCase(),
    defaultAddress: pickAddress(iface),
    criSockets,
    existingCaDirs,
    proxyEnv: proxyEnvFrom(env),
    uid: typeof process.getuid === 'function' ? process.getuid() : 0,
    swapOn: swapLines.length > 0,
    cpus: osFact(() => os.cpus().length, 1),
    memoryMB: osFact(() => Math.floor(os.totalmem() / 1024 / 1024), 0),
    ipv4Forward: readProc('/proc/sys/net/ipv4/ip_forward').slice(0, 1),
    ipv6Forward: readProc('/proc/sys/net/ipv6/conf/default/forwarding').slice(0, 1),
    systemdResolved: resolved?.kind === 'file',
    unprobed: unprobed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  };
}
