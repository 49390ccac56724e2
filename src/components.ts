/**
 * The component table: one row per static-pod component kubeboot writes, and everything about it that is not
 * rendering — its manifest and mirror pod names, the init phase that writes it, kubeadm's flag for its extra
 * arguments, the ports its pod serves and the health endpoint it answers on (both read from the pod's command, so
 * extraArgs and patches count), which certificates it reads, and when reset stops it. Render, preflight, the
 * control-plane wait, regenerate/restart, certificate renewal and reset all read this table; the renderers of each
 * component's Pod are render/manifests.ts's table. Pure data: no I/O, light at import time.
 */
import { joinHostPort } from './util/net.js';

/** kubeadm's order: etcd, kube-apiserver, kube-controller-manager, kube-scheduler (also its upgrade/restart order). */
export const STATIC_POD_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type StaticPodComponent = (typeof STATIC_POD_COMPONENTS)[number];

/** The three control-plane components (no etcd), in kubeadm's order. */
export const CONTROL_PLANE_COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const satisfies readonly StaticPodComponent[];

/** kubeadm's well-known ports. */
export const PORTS = {
  apiServer: 6443,
  etcdClient: 2379,
  etcdPeer: 2380,
  etcdMetrics: 2381,
  kubeControllerManager: 10257,
  kubeScheduler: 10259,
} as const;

/** `--name=value` flags of a container command; the last one of a name wins, a bare `--name` is "true". */
export type CommandFlags = ReadonlyMap<string, string>;

export function commandFlags(command: readonly unknown[]): CommandFlags {
  const out = new Map<string, string>();
  for (const c of command) {
    if (typeof c !== 'string' || !c.startsWith('--')) continue;
    const eq = c.indexOf('=');
    if (eq < 0) out.set(c.slice(2), 'true');
    else out.set(c.slice(2, eq), c.slice(eq + 1));
  }
  return out;
}

/** Ports of a comma-separated URL list (etcd's listen-*-urls); the fallback for an entry without one. */
export function urlPorts(urls: string | undefined, fallback: number): number[] {
  if (urls === undefined) return [fallback];
  const ports = new Set<number>();
  for (const u of urls.split(',')) {
    try {
      const url = new URL(u.trim());
      ports.add(url.port === '' ? fallback : Number(url.port));
    } catch {
      ports.add(fallback);
    }
  }
  return [...ports];
}

function loopbackFor(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

function portFlag(flags: CommandFlags, name: string, fallback: number): number {
  const v = Number(flags.get(name));
  return Number.isInteger(v) && v > 0 && v < 65536 ? v : fallback;
}

export interface HealthEndpoint {
  readonly url: string;
  /** HTTPS without certificate verification (kubeadm's component checks do the same) */
  readonly insecure: boolean;
}

export interface ComponentRow {
  readonly name: StaticPodComponent;
  /** the init phase that writes the manifest, as `kubeboot init phase <parent> <sub>` takes it */
  readonly initPhase: readonly [parent: string, sub: string];
  /** kubeadm's flag for this component's extra arguments (etcd has none) */
  readonly extraArgsFlag: string | undefined;
  /** TCP ports the pod serves, from its command */
  servedPorts(flags: CommandFlags): number[];
  /** where kubeadm (1.33+) checks the component's health, from its command */
  health(flags: CommandFlags, fallbackAdvertise: string): HealthEndpoint;
  /** the renewable certificates and kubeconfigs (kubeboot certs renew names) whose files it reads: it restarts after their renewal */
  readonly readsCertificates: readonly string[];
  /** reset removes stage 1 (waiting for the mirror pods to go), then stage 2 (waiting for the ports to be free) */
  readonly resetStage: 1 | 2;
}

export const COMPONENT_TABLE: readonly ComponentRow[] = [
  {
    name: 'etcd',
    initPhase: ['etcd', 'local'],
    extraArgsFlag: undefined,
    servedPorts: (f) => [...new Set([...urlPorts(f.get('listen-client-urls'), PORTS.etcdClient), ...urlPorts(f.get('listen-peer-urls'), PORTS.etcdPeer)])],
    health: (f) => {
      // etcd 3.4 has no /livez; /health answers on every supported etcd
      const first = (f.get('listen-metrics-urls') ?? `http://127.0.0.1:${PORTS.etcdMetrics}`).split(',')[0] as string;
      const u = new URL(first);
      const host = loopbackFor(u.hostname.replace(/^\[|\]$/g, ''));
      return { url: `${u.protocol}//${joinHostPort(host, u.port || String(PORTS.etcdMetrics))}/health`, insecure: true };
    },
    readsCertificates: ['etcd-server', 'etcd-peer', 'etcd-healthcheck-client'],
    resetStage: 2,
  },
  {
    name: 'kube-apiserver',
    initPhase: ['control-plane', 'apiserver'],
    extraArgsFlag: 'apiserver-extra-args',
    servedPorts: (f) => [portFlag(f, 'secure-port', PORTS.apiServer)],
    health: (f, fallbackAdvertise) => ({
      url: `https://${joinHostPort(loopbackFor(f.get('advertise-address') ?? fallbackAdvertise), portFlag(f, 'secure-port', PORTS.apiServer))}/livez`,
      insecure: true,
    }),
    readsCertificates: ['apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'front-proxy-client'],
    resetStage: 2,
  },
  {
    name: 'kube-controller-manager',
    initPhase: ['control-plane', 'controller-manager'],
    extraArgsFlag: 'controller-manager-extra-args',
    servedPorts: (f) => [portFlag(f, 'secure-port', PORTS.kubeControllerManager)],
    health: (f) => ({
      url: `https://${joinHostPort(loopbackFor(f.get('bind-address') ?? '127.0.0.1'), portFlag(f, 'secure-port', PORTS.kubeControllerManager))}/healthz`,
      insecure: true,
    }),
    readsCertificates: ['controller-manager.conf'],
    resetStage: 1,
  },
  {
    name: 'kube-scheduler',
    initPhase: ['control-plane', 'scheduler'],
    extraArgsFlag: 'scheduler-extra-args',
    servedPorts: (f) => [portFlag(f, 'secure-port', PORTS.kubeScheduler)],
    health: (f) => ({
      url: `https://${joinHostPort(loopbackFor(f.get('bind-address') ?? '127.0.0.1'), portFlag(f, 'secure-port', PORTS.kubeScheduler))}/livez`,
      insecure: true,
    }),
    readsCertificates: ['scheduler.conf'],
    resetStage: 1,
  },
];

export function isComponent(name: string): name is StaticPodComponent {
  return (STATIC_POD_COMPONENTS as readonly string[]).includes(name);
}

export function componentRow(name: StaticPodComponent): ComponentRow {
  const row = COMPONENT_TABLE.find((r) => r.name === name);
  if (!row) throw new Error(`internal: no component ${name}`);
  return row;
}

/** The manifest's file name in the static pod path. */
export function manifestFile(component: StaticPodComponent): string {
  return `${component}.yaml`;
}

/** Where a component's manifest lives: the static pod path + its file name. */
export function manifestPath(spec: { readonly paths: { readonly manifestsDir: string } }, component: StaticPodComponent): string {
  return `${spec.paths.manifestsDir}/${manifestFile(component)}`;
}

/** The mirror pod the kubelet makes for a static pod: `<pod name>-<node name>` (the node name lowercased). */
export function mirrorPodName(component: string, nodeName: string): string {
  return `${component}-${nodeName.toLowerCase()}`;
}

/** The init phase command that writes a component's manifest. */
export function initPhaseCommand(component: StaticPodComponent): string {
  const [parent, sub] = componentRow(component).initPhase;
  return `kubeboot init phase ${parent} ${sub}`;
}

/** The components whose extra-args flag is `flag` (kubeadm's --apiserver-extra-args, …). */
export function componentOfExtraArgsFlag(flag: string): StaticPodComponent | undefined {
  return COMPONENT_TABLE.find((r) => r.extraArgsFlag === flag)?.name;
}
