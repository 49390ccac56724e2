/**
 * The four static pods (reference §4 with the 1.33+ deltas), pure: spec + host facts + parsed templates →
 * Pod objects → bytes. Nothing here reads the disk, the environment or the clock.
 *
 * What differs per Kubernetes minor comes from `spec.version` (src/versions.ts): the etcd flag style, the
 * named `probe-port`, the KCM flex-volume directory, the extraArgs order and the scheduler's probe paths.
 */
import * as path from 'node:path';
import type { ClusterSpec, EnvVar, HostPathMount } from '../config/spec.js';
import type { HostFacts } from '../effects/host.js';
import { joinHostPort } from '../util/net.js';
import { etcdTagAtLeast } from '../versions.js';
import { buildCommand, lastArgValue, type Arg } from './args.js';
import { applyPatches, type PatchFile } from './patches.js';
import type { PodTemplate, StaticPodComponent, StaticPodTemplates } from './templates.js';
import { STATIC_POD_COMPONENTS } from './templates.js';
import { PORTS, manifestPath } from '../components.js';
import { parseYaml, toYaml } from './yaml.js';

export { STATIC_POD_COMPONENTS, type StaticPodComponent };

export { PORTS };

export const PROBE_PORT_NAME = 'probe-port';
export const MANIFEST_MODE = 0o600;
export const APISERVER_ENDPOINT_ANNOTATION = 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint';
export const ETCD_CLIENT_URLS_ANNOTATION = 'kubeadm.kubernetes.io/etcd.advertise-client-urls';
/**
 * Set by `kubeboot restart` (an RFC 3339 time): a change of the manifest's bytes, and so of the pod's config hash,
 * that makes the kubelet recreate the static pod without a configuration change. Rendering keeps the value found in
 * the manifest on disk (RenderOptions.restartedAt), so that init and regenerate do not undo a restart.
 */
export const RESTART_ANNOTATION = 'kubeboot.kubernetes.io/restartedAt';
export const FLEXVOLUME_DEFAULT_DIR = '/usr/libexec/kubernetes/kubelet-plugins/volume/exec';
export const CA_CERTS_DIR = '/etc/ssl/certs';
/** The conditional CA directories kubeadm mounts when they exist (host.existingCaDirs holds the ones that do). */
export const CA_CERTS_EXTRA_DIRS = [
  '/etc/pki/ca-trust',
  '/etc/pki/tls/certs',
  '/etc/ca-certificates',
  '/usr/share/ca-certificates',
  '/usr/local/share/ca-certificates',
] as const;

export interface RenderOptions {
  /** ca.crt present and ca.key absent: the KCM gets empty cluster-signing flags (kubeadm's external CA rule). */
  readonly externalCA?: boolean;
  /** patch files (already read and parsed), applied per target in the order given */
  readonly patches?: readonly PatchFile[];
  /** the RESTART_ANNOTATION value of the manifest on disk, kept as it is (undefined: no annotation) */
  readonly restartedAt?: string | undefined;
}

export interface RenderedManifest {
  readonly component: StaticPodComponent;
  readonly path: string;
  readonly mode: number;
  readonly content: string;
  /** kubeadm's warnings about this component's configuration (authorization-mode) */
  readonly warnings: readonly string[];
  /** patch files applied to it, in order */
  readonly patchesApplied: readonly { readonly file: string; readonly type: string }[];
}

type Obj = Record<string, unknown>;

interface Probe {
  host: string;
  port: number;
  scheme: 'HTTP' | 'HTTPS';
}

function isIPv6(addr: string): boolean {
  return addr.includes(':');
}

/** kubeadm's getProbeAddress: an unspecified bind address means "no host" (the kubelet uses the pod IP). */
function probeAddress(addr: string): string {
  return addr === '0.0.0.0' || addr === '::' ? '' : addr;
}

function pkiPath(spec: ClusterSpec, file: string): string {
  return path.posix.join(spec.paths.certificatesDir, file);
}

/** Image reference of a control-plane component: a '+' in the version becomes '_'. */
export function controlPlaneImage(spec: ClusterSpec, component: StaticPodComponent): string {
  return `${spec.imageRepository}/${component}:${spec.kubernetesVersion.replace(/\+/g, '_')}`;
}

export function etcdImage(spec: ClusterSpec): string {
  const local = spec.etcd.local;
  if (!local) throw new Error('internal: etcd image asked for with external etcd');
  return `${local.imageRepository}/etcd:${local.imageTag}`;
}

/** Whether the etcd 3.6 flag forms are used: the version row's rule, with 'by-tag' reading the resolved tag. */
export function etcdUsesNewFlags(spec: ClusterSpec): boolean {
  switch (spec.version.etcdFlags) {
    case 'new':
      return true;
    case 'experimental':
      return false;
    case 'by-tag':
      return etcdTagAtLeast(spec.etcd.local?.imageTag ?? '', '3.6.0') === true;
  }
}

function localEtcdHost(spec: ClusterSpec): string {
  return isIPv6(spec.advertiseAddress) ? '::1' : '127.0.0.1';
}

// ---------- commands ----------

export function etcdDefaultArgs(spec: ClusterSpec): Arg[] {
  const local = spec.etcd.local;
  if (!local) throw new Error('internal: etcd args asked for with external etcd');
  const a = spec.advertiseAddress;
  const clientURL = `https://${joinHostPort(a, PORTS.etcdClient)}`;
  const peerURL = `https://${joinHostPort(a, PORTS.etcdPeer)}`;
  const lh = localEtcdHost(spec);
  const newFlags = etcdUsesNewFlags(spec);
  return [
    { name: 'name', value: spec.nodeName },
    { name: 'listen-client-urls', value: `https://${joinHostPort(lh, PORTS.etcdClient)},${clientURL}` },
    { name: 'advertise-client-urls', value: clientURL },
    { name: 'listen-peer-urls', value: peerURL },
    { name: 'initial-advertise-peer-urls', value: peerURL },
    { name: 'data-dir', value: local.dataDir },
    { name: 'cert-file', value: pkiPath(spec, 'etcd/server.crt') },
    { name: 'key-file', value: pkiPath(spec, 'etcd/server.key') },
    { name: 'trusted-ca-file', value: pkiPath(spec, 'etcd/ca.crt') },
    { name: 'client-cert-auth', value: 'true' },
    { name: 'peer-cert-file', value: pkiPath(spec, 'etcd/peer.crt') },
    { name: 'peer-key-file', value: pkiPath(spec, 'etcd/peer.key') },
    { name: 'peer-trusted-ca-file', value: pkiPath(spec, 'etcd/ca.crt') },
    { name: 'peer-client-cert-auth', value: 'true' },
    { name: 'snapshot-count', value: '10000' },
    { name: 'listen-metrics-urls', value: `http://${joinHostPort(lh, PORTS.etcdMetrics)}` },
    ...(newFlags
      ? [
          { name: 'feature-gates', value: 'InitialCorruptCheck=true' },
          { name: 'watch-progress-notify-interval', value: '5s' },
        ]
      : [
          { name: 'experimental-initial-corrupt-check', value: 'true' },
          { name: 'experimental-watch-progress-notify-interval', value: '5s' },
        ]),
    { name: 'initial-cluster', value: `${spec.nodeName}=${peerURL}` },
  ];
}

const AUTHZ_MODES = ['Node', 'RBAC', 'Webhook', 'ABAC', 'AlwaysAllow', 'AlwaysDeny'];

/** kubeadm's getAuthzModes: the user's valid modes (warning when they differ from Node,RBAC), else Node,RBAC. */
export function authorizationModes(userValue: string | undefined, warnings: string[]): string {
  const def = 'Node,RBAC';
  if (!userValue) return def;
  const modes: string[] = [];
  for (const m of userValue.split(',')) {
    if (AUTHZ_MODES.includes(m)) modes.push(m);
    else warnings.push(`ignoring unknown kube-apiserver authorization-mode "${m}"`);
  }
  if (modes.length === 0) return def;
  const joined = modes.join(',');
  if (joined !== def) warnings.push(`the default kube-apiserver authorization-mode is "${def}"; using "${joined}"`);
  return joined;
}

export function apiServerDefaultArgs(spec: ClusterSpec, warnings: string[] = []): Arg[] {
  const args: Arg[] = [
    { name: 'advertise-address', value: spec.advertiseAddress },
    { name: 'enable-admission-plugins', value: 'NodeRestriction' },
    { name: 'service-cluster-ip-range', value: spec.networking.serviceSubnet },
    { name: 'service-account-key-file', value: pkiPath(spec, 'sa.pub') },
    { name: 'service-account-signing-key-file', value: pkiPath(spec, 'sa.key') },
    { name: 'service-account-issuer', value: `https://kubernetes.default.svc.${spec.networking.dnsDomain}` },
    { name: 'client-ca-file', value: pkiPath(spec, 'ca.crt') },
    { name: 'tls-cert-file', value: pkiPath(spec, 'apiserver.crt') },
    { name: 'tls-private-key-file', value: pkiPath(spec, 'apiserver.key') },
    { name: 'kubelet-client-certificate', value: pkiPath(spec, 'apiserver-kubelet-client.crt') },
    { name: 'kubelet-client-key', value: pkiPath(spec, 'apiserver-kubelet-client.key') },
    { name: 'enable-bootstrap-token-auth', value: 'true' },
    { name: 'secure-port', value: String(spec.bindPort) },
    { name: 'allow-privileged', value: 'true' },
    { name: 'kubelet-preferred-address-types', value: 'InternalIP,ExternalIP,Hostname' },
    { name: 'requestheader-username-headers', value: 'X-Remote-User' },
    { name: 'requestheader-group-headers', value: 'X-Remote-Group' },
    { name: 'requestheader-extra-headers-prefix', value: 'X-Remote-Extra-' },
    { name: 'requestheader-client-ca-file', value: pkiPath(spec, 'front-proxy-ca.crt') },
    { name: 'requestheader-allowed-names', value: 'front-proxy-client' },
    { name: 'proxy-client-cert-file', value: pkiPath(spec, 'front-proxy-client.crt') },
    { name: 'proxy-client-key-file', value: pkiPath(spec, 'front-proxy-client.key') },
  ];
  const ext = spec.etcd.external;
  if (ext) {
    args.push({ name: 'etcd-servers', value: ext.endpoints.join(',') });
    if (ext.caFile !== '') args.push({ name: 'etcd-cafile', value: ext.caFile });
    if (ext.certFile !== '' && ext.keyFile !== '') {
      args.push({ name: 'etcd-certfile', value: ext.certFile }, { name: 'etcd-keyfile', value: ext.keyFile });
    }
  } else {
    const userClientURLs = lastArgValue(spec.etcd.local?.extraArgs ?? [], 'advertise-client-urls');
    args.push(
      { name: 'etcd-servers', value: userClientURLs ?? `https://${joinHostPort(localEtcdHost(spec), PORTS.etcdClient)}` },
      { name: 'etcd-cafile', value: pkiPath(spec, 'etcd/ca.crt') },
      { name: 'etcd-certfile', value: pkiPath(spec, 'apiserver-etcd-client.crt') },
      { name: 'etcd-keyfile', value: pkiPath(spec, 'apiserver-etcd-client.key') },
    );
  }
  const extra = spec.apiServer.extraArgs;
  if (lastArgValue(extra, 'authorization-config') === undefined) {
    args.push({ name: 'authorization-mode', value: authorizationModes(lastArgValue(extra, 'authorization-mode'), warnings) });
  }
  return args;
}

function kubeconfigPath(spec: ClusterSpec, file: string): string {
  return path.posix.join(spec.paths.kubernetesDir, file);
}

export function controllerManagerDefaultArgs(spec: ClusterSpec, externalCA: boolean): Arg[] {
  const kc = kubeconfigPath(spec, 'controller-manager.conf');
  const ca = pkiPath(spec, 'ca.crt');
  const args: Arg[] = [
    { name: 'bind-address', value: '127.0.0.1' },
    { name: 'leader-elect', value: 'true' },
    { name: 'kubeconfig', value: kc },
    { name: 'authentication-kubeconfig', value: kc },
    { name: 'authorization-kubeconfig', value: kc },
    { name: 'client-ca-file', value: ca },
    { name: 'requestheader-client-ca-file', value: pkiPath(spec, 'front-proxy-ca.crt') },
    { name: 'root-ca-file', value: ca },
    { name: 'service-account-private-key-file', value: pkiPath(spec, 'sa.key') },
    { name: 'cluster-signing-cert-file', value: externalCA ? '' : ca },
    { name: 'cluster-signing-key-file', value: externalCA ? '' : pkiPath(spec, 'ca.key') },
    { name: 'use-service-account-credentials', value: 'true' },
    { name: 'controllers', value: '*,bootstrapsigner,tokencleaner' },
  ];
  if (spec.networking.podSubnet !== '') {
    args.push({ name: 'allocate-node-cidrs', value: 'true' }, { name: 'cluster-cidr', value: spec.networking.podSubnet });
    if (spec.networking.serviceSubnet !== '') args.push({ name: 'service-cluster-ip-range', value: spec.networking.serviceSubnet });
  }
  if (spec.clusterName !== '') args.push({ name: 'cluster-name', value: spec.clusterName });
  return args;
}

export function schedulerDefaultArgs(spec: ClusterSpec): Arg[] {
  const kc = kubeconfigPath(spec, 'scheduler.conf');
  return [
    { name: 'bind-address', value: '127.0.0.1' },
    { name: 'leader-elect', value: 'true' },
    { name: 'kubeconfig', value: kc },
    { name: 'authentication-kubeconfig', value: kc },
    { name: 'authorization-kubeconfig', value: kc },
  ];
}

/** The full container command of one component (binary first). */
export function componentCommand(
  spec: ClusterSpec,
  component: StaticPodComponent,
  opts: { externalCA?: boolean; warnings?: string[] } = {},
): string[] {
  const r = RENDERERS[component];
  return buildCommand(component, r.defaultArgs(spec, opts), r.section(spec).extraArgs);
}

// ---------- probes ----------

/** kubeadm's GetEtcdProbeEndpoint: the first URL of the last listen-metrics-urls extra arg, else localhost:2381/HTTP. */
export function etcdProbe(spec: ClusterSpec): Probe {
  const localhost = localEtcdHost(spec);
  const fallback: Probe = { host: localhost, port: PORTS.etcdMetrics, scheme: 'HTTP' };
  const value = lastArgValue(spec.etcd.local?.extraArgs ?? [], 'listen-metrics-urls');
  if (value === undefined) return fallback;
  const first = value.split(',')[0] ?? '';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d*))?(?:[/?#].*)?$/.exec(first);
  if (!m) return fallback;
  const scheme = (m[1] as string).toLowerCase() === 'https' ? 'HTTPS' : 'HTTP';
  const rawHost = (m[2] as string).replace(/^\[|\]$/g, '');
  const portText = m[3] ?? '';
  const portNum = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  const port = portNum >= 1 && portNum <= 65535 ? portNum : PORTS.etcdMetrics;
  return { host: rawHost === '' ? localhost : rawHost, port, scheme };
}

export function componentProbe(spec: ClusterSpec, component: StaticPodComponent): Probe {
  return RENDERERS[component].probe(spec);
}

/** The probe of a control-plane component that binds to --bind-address (127.0.0.1 by default) on a fixed port. */
function boundProbe(args: readonly Arg[], port: number): Probe {
  const bind = lastArgValue(args, 'bind-address');
  return { host: bind === undefined ? '127.0.0.1' : probeAddress(bind), port, scheme: 'HTTPS' };
}

/** kubeadm's StartupProbe: enough periods of 10 s to cover the control-plane health-check timeout. */
export function startupFailureThreshold(spec: ClusterSpec): number {
  return Math.ceil(spec.timeouts.controlPlaneComponentHealthCheckMs / 1000 / 10);
}

// ---------- env ----------

/** kubeadm's MergeKubeadmEnvVars: later lists win by name; sorted by name. Empty values are omitted (omitempty). */
export function mergeEnv(...lists: readonly (readonly EnvVar[])[]): Obj[] {
  const byName = new Map<string, EnvVar>();
  for (const list of lists) for (const e of list) byName.set(e.name, e);
  return [...byName.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => {
      const o: Obj = { name: e.name };
      if (e.value !== undefined && e.value !== '') o.value = e.value;
      if (e.valueFrom !== undefined) o.valueFrom = structuredClone(e.valueFrom);
      return o;
    });
}

// ---------- volumes ----------

interface HostPathVolume {
  name: string;
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
  type: string;
}

class VolumeSet {
  private readonly byName = new Map<string, HostPathVolume>();
  add(v: HostPathVolume): void {
    this.byName.set(v.name, v);
  }
  addExtra(list: readonly HostPathMount[]): void {
    for (const e of list) {
      this.add({ name: e.name, hostPath: e.hostPath, mountPath: e.mountPath, readOnly: e.readOnly === true, type: e.pathType ?? '' });
    }
  }
  sorted(): HostPathVolume[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

const dirOrCreate = (name: string, p: string, readOnly = true): HostPathVolume => ({
  name,
  hostPath: p,
  mountPath: p,
  readOnly,
  type: 'DirectoryOrCreate',
});

/** kubeadm's getEtcdCertVolumes: distinct cert directories outside the already-mounted ones, nested ones collapsed. */
export function externalEtcdCertDirs(spec: ClusterSpec): string[] {
  const ext = spec.etcd.external;
  if (!ext) return [];
  const dirs = new Set<string>();
  for (const file of [ext.caFile, ext.certFile, ext.keyFile]) {
    const dir = file === '' ? '.' : path.posix.dirname(file);
    if (
      dir === '.' ||
      CA_CERTS_EXTRA_DIRS.some((p) => dir.startsWith(p)) ||
      dir.startsWith(CA_CERTS_DIR) ||
      dir.startsWith(spec.paths.certificatesDir)
    ) {
      continue;
    }
    let covered = false;
    for (const existing of [...dirs].sort()) {
      if (existing.startsWith(dir)) dirs.delete(existing);
      else if (dir.startsWith(existing)) covered = true;
    }
    if (!covered) dirs.add(dir);
  }
  return [...dirs].sort();
}

function caExtraVolumes(host: HostFacts): HostPathVolume[] {
  return CA_CERTS_EXTRA_DIRS.filter((d) => host.existingCaDirs.includes(d)).map((d) => dirOrCreate(d.replace(/\//g, '-').slice(1), d));
}

export function componentVolumes(spec: ClusterSpec, host: HostFacts, component: StaticPodComponent): HostPathVolume[] {
  return RENDERERS[component].volumes(spec, host);
}

function etcdVolumes(spec: ClusterSpec): HostPathVolume[] {
  const local = spec.etcd.local;
  if (!local) throw new Error('internal: etcd volumes asked for with external etcd');
  const certs = spec.paths.certificatesDir;
  // mounts keep kubeadm's order (data, then certs) and are read-write; volumes are sorted in buildStaticPod
  return [
    { name: 'etcd-data', hostPath: local.dataDir, mountPath: local.dataDir, readOnly: false, type: 'DirectoryOrCreate' },
    { name: 'etcd-certs', hostPath: `${certs}/etcd`, mountPath: `${certs}/etcd`, readOnly: false, type: 'DirectoryOrCreate' },
  ];
}

function apiServerVolumes(spec: ClusterSpec, host: HostFacts): HostPathVolume[] {
  const set = new VolumeSet();
  set.add(dirOrCreate('k8s-certs', spec.paths.certificatesDir));
  set.add(dirOrCreate('ca-certs', CA_CERTS_DIR));
  externalEtcdCertDirs(spec).forEach((d, i) => set.add(dirOrCreate(`etcd-certs-${i}`, d)));
  caExtraVolumes(host).forEach((v) => set.add(v));
  set.addExtra(spec.apiServer.extraVolumes);
  return set.sorted();
}

function controllerManagerVolumes(spec: ClusterSpec, host: HostFacts): HostPathVolume[] {
  const set = new VolumeSet();
  set.add(dirOrCreate('k8s-certs', spec.paths.certificatesDir));
  set.add(dirOrCreate('ca-certs', CA_CERTS_DIR));
  const kc = kubeconfigPath(spec, 'controller-manager.conf');
  set.add({ name: 'kubeconfig', hostPath: kc, mountPath: kc, readOnly: true, type: 'FileOrCreate' });
  if (spec.version.flexVolume) {
    const flex = lastArgValue(spec.controllerManager.extraArgs, 'flex-volume-plugin-dir') ?? FLEXVOLUME_DEFAULT_DIR;
    set.add(dirOrCreate('flexvolume-dir', flex, false));
  }
  caExtraVolumes(host).forEach((v) => set.add(v));
  set.addExtra(spec.controllerManager.extraVolumes);
  return set.sorted();
}

function schedulerVolumes(spec: ClusterSpec): HostPathVolume[] {
  const set = new VolumeSet();
  const kc = kubeconfigPath(spec, 'scheduler.conf');
  set.add({ name: 'kubeconfig', hostPath: kc, mountPath: kc, readOnly: true, type: 'FileOrCreate' });
  set.addExtra(spec.scheduler.extraVolumes);
  return set.sorted();
}

// ---------- pods ----------

function setProbe(container: Obj, key: string, probe: Probe, named: boolean): void {
  const p = container[key] as Obj | undefined;
  if (!p) return;
  const httpGet = p.httpGet as Obj;
  if (probe.host !== '') httpGet.host = probe.host;
  else delete httpGet.host;
  httpGet.port = named ? PROBE_PORT_NAME : probe.port;
  httpGet.scheme = probe.scheme;
}

function componentEnv(spec: ClusterSpec, host: HostFacts, component: StaticPodComponent): Obj[] {
  // etcd gets no proxy variables (it talks to its peers only); the others get the host's proxy environment
  const extra = RENDERERS[component].section(spec).extraEnvs;
  return component === 'etcd' ? mergeEnv(extra) : mergeEnv(host.proxyEnv, extra);
}

// ---------- the per-component renderers ----------

/** What one component's section of the spec holds for its pod. */
interface ComponentSection {
  readonly extraArgs: readonly Arg[];
  readonly extraEnvs: readonly EnvVar[];
}

/** How each component's Pod differs: one row per component (the component table's names). */
interface ComponentRenderer {
  /** its extraArgs and extraEnvs in the spec */
  section(spec: ClusterSpec): ComponentSection;
  defaultArgs(spec: ClusterSpec, opts: { externalCA?: boolean; warnings?: string[] }): Arg[];
  probe(spec: ClusterSpec): Probe;
  volumes(spec: ClusterSpec, host: HostFacts): HostPathVolume[];
  image(spec: ClusterSpec): string;
  annotations?(spec: ClusterSpec): Record<string, string>;
}

const RENDERERS: Readonly<Record<StaticPodComponent, ComponentRenderer>> = {
  etcd: {
    section: (spec) => ({ extraArgs: spec.etcd.local?.extraArgs ?? [], extraEnvs: spec.etcd.local?.extraEnvs ?? [] }),
    defaultArgs: (spec) => etcdDefaultArgs(spec),
    probe: (spec) => etcdProbe(spec),
    volumes: (spec) => etcdVolumes(spec),
    image: (spec) => etcdImage(spec),
    annotations: (spec) => ({ [ETCD_CLIENT_URLS_ANNOTATION]: `https://${joinHostPort(spec.advertiseAddress, PORTS.etcdClient)}` }),
  },
  'kube-apiserver': {
    section: (spec) => spec.apiServer,
    defaultArgs: (spec, opts) => apiServerDefaultArgs(spec, opts.warnings),
    probe: (spec) => ({ host: spec.advertiseAddress === '' ? '127.0.0.1' : probeAddress(spec.advertiseAddress), port: spec.bindPort, scheme: 'HTTPS' }),
    volumes: apiServerVolumes,
    image: (spec) => controlPlaneImage(spec, 'kube-apiserver'),
    annotations: (spec) => ({ [APISERVER_ENDPOINT_ANNOTATION]: joinHostPort(spec.advertiseAddress, spec.bindPort) }),
  },
  'kube-controller-manager': {
    section: (spec) => spec.controllerManager,
    defaultArgs: (spec, opts) => controllerManagerDefaultArgs(spec, opts.externalCA === true),
    probe: (spec) => boundProbe(spec.controllerManager.extraArgs, PORTS.kubeControllerManager),
    volumes: controllerManagerVolumes,
    image: (spec) => controlPlaneImage(spec, 'kube-controller-manager'),
  },
  'kube-scheduler': {
    section: (spec) => spec.scheduler,
    defaultArgs: (spec) => schedulerDefaultArgs(spec),
    probe: (spec) => boundProbe(spec.scheduler.extraArgs, PORTS.kubeScheduler),
    volumes: (spec) => schedulerVolumes(spec),
    image: (spec) => controlPlaneImage(spec, 'kube-scheduler'),
  },
};

/** One component's Pod as a plain object (before patches). */
export function buildStaticPod(
  spec: ClusterSpec,
  host: HostFacts,
  template: PodTemplate,
  component: StaticPodComponent,
  opts: { externalCA?: boolean; warnings?: string[] } = {},
): Obj {
  if (component === 'etcd' && !spec.etcd.local) throw new Error('internal: no etcd manifest with external etcd');
  const pod = structuredClone(template) as Obj;
  const meta = pod.metadata as Obj;
  const podSpec = pod.spec as Obj;
  const container = (podSpec.containers as Obj[])[0] as Obj;

  const annotations = RENDERERS[component].annotations?.(spec);
  if (annotations) meta.annotations = { ...((meta.annotations as Obj | undefined) ?? {}), ...annotations };

  container.command = componentCommand(spec, component, opts);
  container.image = RENDERERS[component].image(spec);
  const env = componentEnv(spec, host, component);
  if (env.length > 0) container.env = env;

  if (component === 'kube-scheduler' && !spec.version.schedulerLivez) {
    // before 1.32 the scheduler used /healthz for liveness and startup and had no readiness probe
    ((container.livenessProbe as Obj).httpGet as Obj).path = '/healthz';
    ((container.startupProbe as Obj).httpGet as Obj).path = '/healthz';
    delete container.readinessProbe;
  }
  const probe = componentProbe(spec, component);
  const named = spec.version.namedProbePort;
  for (const key of ['livenessProbe', 'readinessProbe', 'startupProbe']) setProbe(container, key, probe, named);
  (container.startupProbe as Obj).failureThreshold = startupFailureThreshold(spec);
  if (named) container.ports = [{ containerPort: probe.port, name: PROBE_PORT_NAME, protocol: 'TCP' }];

  const vols = componentVolumes(spec, host, component);
  container.volumeMounts = vols.map((v) => (v.readOnly ? { mountPath: v.mountPath, name: v.name, readOnly: true } : { mountPath: v.mountPath, name: v.name }));
  const volumes = component === 'etcd' ? [...vols].sort((a, b) => (a.name < b.name ? -1 : 1)) : vols;
  podSpec.volumes = volumes.map((v) => ({ hostPath: { path: v.hostPath, type: v.type }, name: v.name }));
  return pod;
}

/** The components this spec gets manifests for (no etcd with external etcd), in kubeadm's order. */
export function staticPodComponents(spec: ClusterSpec): StaticPodComponent[] {
  return STATIC_POD_COMPONENTS.filter((c) => c !== 'etcd' || spec.etcd.local !== undefined);
}

export { manifestPath };

/** Minimal sanity of a (patched) manifest: what the kubelet and kubeboot's later phases rely on. */
export function checkPodShape(obj: unknown, component: string): void {
  const bad = (why: string): never => {
    throw new Error(`the patched static Pod manifest for "${component}" is not a valid Pod: ${why}`);
  };
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) bad('it is not a mapping');
  const pod = obj as Obj;
  if (pod.apiVersion !== 'v1' || pod.kind !== 'Pod') bad('apiVersion must be v1 and kind Pod');
  const meta = pod.metadata as Obj | undefined;
  if (!meta || typeof meta !== 'object' || typeof meta.name !== 'string' || meta.name === '') bad('metadata.name is missing');
  const spec = pod.spec as Obj | undefined;
  const containers = spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) bad('spec.containers must be a non-empty list');
  for (const c of containers as unknown[]) {
    if (c === null || typeof c !== 'object' || typeof (c as Obj).name !== 'string') bad('every container needs a name');
  }
}

/**
 * Renders the requested components (default: every static pod this spec has) to bytes. Patches for a
 * component's target are applied to the Pod object before serialization, in the order given.
 */
export function renderStaticPods(
  spec: ClusterSpec,
  host: HostFacts,
  templates: StaticPodTemplates,
  opts: RenderOptions & { components?: readonly StaticPodComponent[] } = {},
): RenderedManifest[] {
  const wanted = opts.components ?? staticPodComponents(spec);
  return wanted.map((component) => renderStaticPod(spec, host, templates, component, opts));
}

/** One component (what `kubeboot regenerate <component>` needs). */
export function renderStaticPod(
  spec: ClusterSpec,
  host: HostFacts,
  templates: StaticPodTemplates,
  component: StaticPodComponent,
  opts: RenderOptions = {},
): RenderedManifest {
  const warnings: string[] = [];
  const built = buildStaticPod(spec, host, templates[component], component, { externalCA: opts.externalCA, warnings });
  if (opts.restartedAt !== undefined) setRestartAnnotation(built, opts.restartedAt);
  let pod: unknown = built;
  let applied: { file: string; type: string }[] = [];
  if (opts.patches && opts.patches.length > 0) {
    const r = applyPatches(component, pod, opts.patches);
    pod = r.object;
    applied = r.applied;
    if (applied.length > 0) checkPodShape(pod, component);
  }
  return {
    component,
    path: manifestPath(spec, component),
    mode: MANIFEST_MODE,
    content: toYaml(pod),
    warnings,
    patchesApplied: applied,
  };
}

// ---------- the restart annotation ----------

function setRestartAnnotation(pod: Obj, value: string): void {
  const meta = (pod.metadata ?? (pod.metadata = {})) as Obj;
  meta.annotations = { ...((meta.annotations as Obj | undefined) ?? {}), [RESTART_ANNOTATION]: value };
}

/** The RESTART_ANNOTATION value of a manifest (YAML text), or undefined (none, or not a readable Pod). */
export function restartAnnotationOf(text: string | undefined): string | undefined {
  // most manifests have none: skip the YAML parse
  if (text === undefined || !text.includes(RESTART_ANNOTATION)) return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return undefined;
  }
  const ann = ((doc as Obj | null)?.metadata as Obj | undefined)?.annotations as Obj | undefined;
  const v = ann?.[RESTART_ANNOTATION];
  return typeof v === 'string' ? v : undefined;
}

/**
 * The manifest (YAML text) with RESTART_ANNOTATION set to `value` and nothing else changed, serialized by the one
 * serializer (a manifest kubeboot rendered keeps its bytes apart from that annotation). Throws when it is not a Pod.
 */
export function withRestartAnnotation(text: string, value: string, component: string): string {
  const doc = parseYaml(text);
  checkPodShape(doc, component);
  setRestartAnnotation(doc as Obj, value);
  return toYaml(doc);
}
