/** kubeadm's defaults (reference §9.1/§9.2), applied to v1beta4 documents. Host facts fill the runtime ones. */
import type { HostFacts } from '../effects/host.js';
import { KNOWN_CRI_SOCKETS } from '../effects/host.js';
import type { ClusterV1beta4, InitV1beta4 } from './schema.js';

export const DEFAULTS = {
  bindPort: 6443,
  serviceSubnet: '10.96.0.0/12',
  dnsDomain: 'cluster.local',
  certificatesDir: '/etc/kubernetes/pki',
  imageRepository: 'registry.k8s.io',
  clusterName: 'kubernetes',
  encryptionAlgorithm: 'RSA-2048',
  certificateValidityPeriod: '8760h0m0s',
  caCertificateValidityPeriod: '87600h0m0s',
  etcdDataDir: '/var/lib/etcd',
  imagePullPolicy: 'IfNotPresent',
  timeouts: {
    controlPlaneComponentHealthCheck: '4m0s',
    kubeletHealthCheck: '4m0s',
    kubernetesAPICall: '1m0s',
    etcdAPICall: '2m0s',
    tlsBootstrap: '5m0s',
    discovery: '5m0s',
    upgradeManifests: '5m0s',
  },
  bootstrapToken: {
    ttl: '24h0m0s',
    usages: ['signing', 'authentication'],
    groups: ['system:bootstrappers:kubeadm:default-node-token'],
  },
} as const;

export interface DefaultingResult {
  init: InitV1beta4;
  cluster: ClusterV1beta4;
  warnings: string[];
}

/** Returns new, fully defaulted documents; the inputs are not changed. */
export function applyDefaults(
  initIn: InitV1beta4,
  clusterIn: ClusterV1beta4,
  host: HostFacts,
  defaultKubernetesVersion: string,
): DefaultingResult {
  const warnings: string[] = [];
  const init: InitV1beta4 = structuredClone(initIn);
  const cluster: ClusterV1beta4 = structuredClone(clusterIn);

  const nr = (init.nodeRegistration ??= {});
  // kubeadm's GetHostname: the given name (or the OS hostname), trimmed and lowercased, before validation
  if (nr.name === undefined || nr.name.trim() === '') nr.name = host.hostname;
  else nr.name = nr.name.trim().toLowerCase();
  if (nr.criSocket !== undefined && nr.criSocket !== '' && nr.criSocket.startsWith('/')) {
    // kubeadm still accepts a bare socket path: it prepends the scheme and warns that this is deprecated
    warnings.push(
      `nodeRegistration.criSocket (--cri-socket) "${nr.criSocket}" has no URL scheme: using "unix://${nr.criSocket}". A bare path is deprecated (kubeadm warns too); write the unix:// URL`,
    );
    nr.criSocket = `unix://${nr.criSocket}`;
  }
  // a probe that could not look (a non-root user and containerd's 0700 /run/containerd) is taken as absent: say so
  const unprobed = host.unprobed ?? [];
  const socketPath = (s: string) => s.slice('unix://'.length);
  const unchecked = KNOWN_CRI_SOCKETS.filter((s) => unprobed.some((u) => u.path === socketPath(s)));
  if (nr.criSocket === undefined || nr.criSocket === '') {
    if (host.criSockets.length === 1) nr.criSocket = host.criSockets[0];
    else if (host.criSockets.length === 0 && unchecked.length > 0) {
      // kubeadm's DetectCRISocket takes a socket it cannot stat as absent; one that may be there is the better guess
      nr.criSocket = unchecked[0];
      const why = unchecked.map((s) => `${socketPath(s)} (${unprobed.find((u) => u.path === socketPath(s))?.reason})`).join(', ');
      warnings.push(
        `could not check for a CRI socket at ${why}; using ${nr.criSocket} (run as root, or set nodeRegistration.criSocket or --cri-socket to choose)`,
      );
    } else {
      nr.criSocket = KNOWN_CRI_SOCKETS[0];
      warnings.push(
        host.criSockets.length === 0
          ? `no CRI socket found at ${KNOWN_CRI_SOCKETS.map(socketPath).join(', ')}; using ${nr.criSocket} (set nodeRegistration.criSocket or --cri-socket to choose)`
          : `found multiple CRI endpoints (${host.criSockets.join(', ')}); using ${nr.criSocket} (set nodeRegistration.criSocket or --cri-socket to choose)`,
      );
    }
  }
  for (const u of unprobed) {
    if (KNOWN_CRI_SOCKETS.some((s) => socketPath(s) === u.path)) continue;
    warnings.push(`could not look at ${u.path} (${u.reason}); taken as absent (run as root to see the host as it is)`);
  }
  nr.imagePullPolicy ??= DEFAULTS.imagePullPolicy;
  nr.imagePullSerial ??= true;

  const ep = (init.localAPIEndpoint ??= {});
  if (ep.advertiseAddress === undefined || ep.advertiseAddress === '') {
    if (host.defaultAddress) ep.advertiseAddress = host.defaultAddress;
  }
  if (ep.bindPort === undefined || ep.bindPort === 0) ep.bindPort = DEFAULTS.bindPort;

  init.bootstrapTokens ??= [{ token: '' }];
  init.bootstrapTokens = init.bootstrapTokens.map((t) => ({
    ...t,
    ...(t.ttl === undefined && t.expires === undefined ? { ttl: DEFAULTS.bootstrapToken.ttl } : {}),
    usages: t.usages ?? [...DEFAULTS.bootstrapToken.usages],
    groups: t.groups ?? [...DEFAULTS.bootstrapToken.groups],
  }));
  init.timeouts = { ...DEFAULTS.timeouts, ...init.timeouts };

  const netw = (cluster.networking ??= {});
  if (!netw.serviceSubnet) netw.serviceSubnet = DEFAULTS.serviceSubnet;
  if (!netw.dnsDomain) netw.dnsDomain = DEFAULTS.dnsDomain;
  netw.podSubnet ??= '';
  if (!cluster.kubernetesVersion) cluster.kubernetesVersion = defaultKubernetesVersion;
  cluster.controlPlaneEndpoint ??= '';
  if (!cluster.certificatesDir) cluster.certificatesDir = DEFAULTS.certificatesDir;
  if (!cluster.imageRepository) cluster.imageRepository = DEFAULTS.imageRepository;
  if (!cluster.clusterName) cluster.clusterName = DEFAULTS.clusterName;
  if (!cluster.encryptionAlgorithm) cluster.encryptionAlgorithm = DEFAULTS.encryptionAlgorithm;
  if (!cluster.certificateValidityPeriod) cluster.certificateValidityPeriod = DEFAULTS.certificateValidityPeriod;
  if (!cluster.caCertificateValidityPeriod) cluster.caCertificateValidityPeriod = DEFAULTS.caCertificateValidityPeriod;
  const etcd = (cluster.etcd ??= {});
  if (!etcd.local && !etcd.external) etcd.local = {};
  if (etcd.local && !etcd.local.dataDir) etcd.local.dataDir = DEFAULTS.etcdDataDir;
  cluster.apiServer ??= {};
  cluster.controllerManager ??= {};
  cluster.scheduler ??= {};
  cluster.dns ??= {};
  cluster.proxy ??= {};
  return { init, cluster, warnings };
}
