/**
 * The API objects of init's phases after the wait (upload-config, upload-certs, mark-control-plane, bootstrap-token),
 * PURE: spec (+ the data a phase read, + the time) → objects as data, field for field what kubeadm v1.36 sends
 * (checked against `kubeadm init phase … --dry-run`, which prints every object it would create, and against the real
 * API server by the real-node tests). The addons' objects are render/addons.ts's.
 */
import { createHash } from 'node:crypto';
import type { BootstrapTokenSpec, ClusterSpec } from '../config/spec.js';
import { toYaml } from './yaml.js';

type Obj = Record<string, unknown>;

export const KUBE_SYSTEM = 'kube-system';
export const KUBE_PUBLIC = 'kube-public';
const RBAC = 'rbac.authorization.k8s.io';

/** kubeadm's well-known names (cmd/kubeadm/app/constants). */
export const NAMES = {
  kubeadmConfig: 'kubeadm-config',
  clusterConfigurationKey: 'ClusterConfiguration',
  nodesKubeadmConfigRole: 'kubeadm:nodes-kubeadm-config',
  kubeletConfig: 'kubelet-config',
  kubeletConfigKey: 'kubelet',
  kubeletConfigRole: 'kubeadm:kubelet-config',
  componentConfigHash: 'kubeadm.kubernetes.io/component-config.hash',
  nodesGroup: 'system:nodes',
  bootstrapTokenGroup: 'system:bootstrappers:kubeadm:default-node-token',
  getNodes: 'kubeadm:get-nodes',
  kubeletBootstrap: 'kubeadm:kubelet-bootstrap',
  nodeBootstrapper: 'system:node-bootstrapper',
  autoApproveBootstrap: 'kubeadm:node-autoapprove-bootstrap',
  csrNodeClient: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
  autoApproveRotation: 'kubeadm:node-autoapprove-certificate-rotation',
  csrSelfNodeClient: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
  apiserverKubeletClient: 'kubeadm:apiserver-kubelet-client',
  kubeletApiAdmin: 'system:kubelet-api-admin',
  apiserverKubeletClientUser: 'kube-apiserver-kubelet-client',
  clusterInfo: 'cluster-info',
  clusterInfoRole: 'kubeadm:bootstrap-signer-clusterinfo',
  anonymous: 'system:anonymous',
  kubeadmCerts: 'kubeadm-certs',
  kubeadmCertsRole: 'kubeadm:kubeadm-certs',
  labelControlPlane: 'node-role.kubernetes.io/control-plane',
  labelExcludeFromLB: 'node.kubernetes.io/exclude-from-external-load-balancers',
  labelHostname: 'kubernetes.io/hostname',
} as const;

function configMap(namespace: string, name: string, data: Record<string, string>, annotations?: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, data };
}

/** A Role that may `get` one named object of one resource. */
export function getOneRole(namespace: string, name: string, resource: string, resourceName: string): Obj {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'Role',
    metadata: { name, namespace },
    rules: [{ apiGroups: [''], resourceNames: [resourceName], resources: [resource], verbs: ['get'] }],
  };
}

type Subject = { kind: 'Group' | 'User'; name: string };

function subjects(list: readonly Subject[]): Obj[] {
  // kubeadm sets no apiGroup on the subjects it writes; the API server leaves it so for Group and User
  return list.map((s) => ({ kind: s.kind, name: s.name }));
}

export function roleBinding(namespace: string, name: string, role: string, subj: readonly Subject[]): Obj {
  return { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: RBAC, kind: 'Role', name: role }, subjects: subjects(subj) };
}

export function clusterRoleBinding(name: string, clusterRole: string, subj: readonly Subject[]): Obj {
  return { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: clusterRole }, subjects: subjects(subj) };
}

// ---------- upload-config

/**
 * The ClusterConfiguration as kubeadm uploads it: the defaulted v1beta4 document, marshalled with Go's omitempty (empty
 * strings and empty lists left out, `featureGates` too when empty), sorted keys.
 */
export function uploadedClusterConfiguration(spec: ClusterSpec): string {
  const strip = (v: unknown, top: boolean): unknown => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const out: Obj = {};
    for (const [k, x] of Object.entries(v as Obj)) {
      if (x === undefined || x === '' || (Array.isArray(x) && x.length === 0)) continue;
      if (top && k === 'featureGates' && x !== null && typeof x === 'object' && Object.keys(x).length === 0) continue;
      out[k] = strip(x, false);
    }
    return out;
  };
  return toYaml(strip(spec.documents.cluster, true));
}

export function kubeadmConfigObjects(spec: ClusterSpec): Obj[] {
  return [
    configMap(KUBE_SYSTEM, NAMES.kubeadmConfig, { [NAMES.clusterConfigurationKey]: uploadedClusterConfiguration(spec) }),
    getOneRole(KUBE_SYSTEM, NAMES.nodesKubeadmConfigRole, 'configmaps', NAMES.kubeadmConfig),
    roleBinding(KUBE_SYSTEM, NAMES.nodesKubeadmConfigRole, NAMES.nodesKubeadmConfigRole, [
      { kind: 'Group', name: NAMES.bootstrapTokenGroup },
      { kind: 'Group', name: NAMES.nodesGroup },
    ]),
  ];
}

/** kubeadm's ChecksumForConfigMap: sha256 over the data values in key order. */
export function configMapChecksum(data: Record<string, string>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(data).sort()) h.update(data[k] as string);
  return `sha256:${h.digest('hex')}`;
}

/**
 * The cluster-wide KubeletConfiguration (what every kubelet of the cluster reads; the node's own config.yaml adds its
 * patches and instance config). Signed with kubeadm's hash annotation unless the configuration file supplied it.
 */
export function kubeletConfigObjects(kubeletYaml: string, userSupplied: boolean): Obj[] {
  const data = { [NAMES.kubeletConfigKey]: kubeletYaml };
  return [
    configMap(KUBE_SYSTEM, NAMES.kubeletConfig, data, userSupplied ? undefined : { [NAMES.componentConfigHash]: configMapChecksum(data) }),
    getOneRole(KUBE_SYSTEM, NAMES.kubeletConfigRole, 'configmaps', NAMES.kubeletConfig),
    roleBinding(KUBE_SYSTEM, NAMES.kubeletConfigRole, NAMES.kubeletConfigRole, [
      { kind: 'Group', name: NAMES.nodesGroup },
      { kind: 'Group', name: NAMES.bootstrapTokenGroup },
    ]),
  ];
}

// ---------- bootstrap-token

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Go's time.RFC3339 in UTC, whole seconds. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The Secret of a bootstrap token (kubeadm's BootstrapTokenToSecret); `now` fixes the expiration of a TTL. */
export function bootstrapTokenSecret(token: BootstrapTokenSpec & { token: string }, now: Date): Obj {
  const [id, secret] = token.token.split('.') as [string, string];
  const data: Record<string, string> = { 'token-id': b64(id), 'token-secret': b64(secret) };
  if (token.description !== '') data.description = b64(token.description);
  if (token.expires) data.expiration = b64(rfc3339(new Date(token.expires)));
  else if (token.ttlMs !== undefined && token.ttlMs > 0) data.expiration = b64(rfc3339(new Date(now.getTime() + token.ttlMs)));
  for (const u of token.usages) data[`usage-bootstrap-${u}`] = b64('true');
  if (token.groups.length > 0) data['auth-extra-groups'] = b64(token.groups.join(','));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${id}`, namespace: KUBE_SYSTEM },
    type: 'bootstrap.kubernetes.io/token',
    data,
  };
}

/** The RBAC rules of the bootstrap-token phase, in kubeadm's order. */
export function bootstrapRbacObjects(): Obj[] {
  const tokens: Subject[] = [{ kind: 'Group', name: NAMES.bootstrapTokenGroup }];
  return [
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRole',
      metadata: { name: NAMES.getNodes },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }],
    },
    clusterRoleBinding(NAMES.getNodes, NAMES.getNodes, tokens),
    clusterRoleBinding(NAMES.kubeletBootstrap, NAMES.nodeBootstrapper, tokens),
    clusterRoleBinding(NAMES.autoApproveBootstrap, NAMES.csrNodeClient, tokens),
    clusterRoleBinding(NAMES.autoApproveRotation, NAMES.csrSelfNodeClient, [{ kind: 'Group', name: NAMES.nodesGroup }]),
    clusterRoleBinding(NAMES.apiserverKubeletClient, NAMES.kubeletApiAdmin, [{ kind: 'User', name: NAMES.apiserverKubeletClientUser }]),
  ];
}

/**
 * The cluster-info kubeconfig (kube-public): admin.conf's cluster, with its CA, under the empty name, and nothing
 * else — written as client-go's clientcmd.Write writes it (contexts and users null, current-context "").
 */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  return toYaml({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(caPem), server }, name: '' }],
    contexts: null,
    'current-context': '',
    kind: 'Config',
    users: null,
  });
}

export function clusterInfoObjects(server: string, caPem: string): Obj[] {
  return [
    configMap(KUBE_PUBLIC, NAMES.clusterInfo, { kubeconfig: clusterInfoKubeconfig(server, caPem) }),
    getOneRole(KUBE_PUBLIC, NAMES.clusterInfoRole, 'configmaps', NAMES.clusterInfo),
    roleBinding(KUBE_PUBLIC, NAMES.clusterInfoRole, NAMES.clusterInfoRole, [{ kind: 'User', name: NAMES.anonymous }]),
  ];
}

// ---------- upload-certs

/** The files upload-certs carries, by Secret key (kubeadm's certsToTransfer; "/" becomes "-"). */
export function certsToTransfer(spec: ClusterSpec): Record<string, string> {
  const d = spec.paths.certificatesDir;
  const out: Record<string, string> = {
    'ca.crt': `${d}/ca.crt`,
    'ca.key': `${d}/ca.key`,
    'front-proxy-ca.crt': `${d}/front-proxy-ca.crt`,
    'front-proxy-ca.key': `${d}/front-proxy-ca.key`,
    'sa.pub': `${d}/sa.pub`,
    'sa.key': `${d}/sa.key`,
  };
  const ext = spec.etcd.external;
  if (!ext) {
    out['etcd-ca.crt'] = `${d}/etcd/ca.crt`;
    out['etcd-ca.key'] = `${d}/etcd/ca.key`;
  } else {
    out['external-etcd-ca.crt'] = ext.caFile;
    out['external-etcd.crt'] = ext.certFile;
    out['external-etcd.key'] = ext.keyFile;
  }
  return out;
}

/** The kubeadm-certs Secret (data: base64 of the encrypted files), owned by the short-lived token's Secret. */
export function kubeadmCertsObjects(data: Record<string, string>, owner: { name: string; uid: string }): Obj[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: NAMES.kubeadmCerts,
        namespace: KUBE_SYSTEM,
        ownerReferences: [{ apiVersion: 'v1', blockOwnerDeletion: true, controller: true, kind: 'Secret', name: owner.name, uid: owner.uid }],
      },
      data,
    },
    getOneRole(KUBE_SYSTEM, NAMES.kubeadmCertsRole, 'secrets', NAMES.kubeadmCerts),
    roleBinding(KUBE_SYSTEM, NAMES.kubeadmCertsRole, NAMES.kubeadmCertsRole, [{ kind: 'Group', name: NAMES.bootstrapTokenGroup }]),
  ];
}

// ---------- mark-control-plane

/**
 * The node's labels and taints after marking (kubeadm's markControlPlaneNode): the two labels, the configured taints
 * first, then the node's other taints. undefined when the node already has them (nothing to patch).
 */
export function markedNode(node: { labels: Record<string, string>; taints: readonly Obj[] }, taints: readonly Obj[]): { labels: Record<string, string>; taints: Obj[] } | undefined {
  const labels = { ...node.labels, [NAMES.labelControlPlane]: '', [NAMES.labelExcludeFromLB]: '' };
  const same = (a: Obj, b: Obj) => a.key === b.key && (a.value ?? '') === (b.value ?? '') && a.effect === b.effect;
  const next: Obj[] = [...taints];
  for (const t of node.taints) if (!next.some((x) => same(x, t))) next.push(t);
  const labelsSame = Object.keys(labels).length === Object.keys(node.labels).length && Object.entries(labels).every(([k, v]) => node.labels[k] === v);
  const taintsSame = next.length === node.taints.length && next.every((t, i) => same(t, node.taints[i] as Obj));
  return labelsSame && taintsSame ? undefined : { labels, taints: next };
}

/** kubeadm's taint text: key=value:Effect, or key:Effect. */
export function taintText(t: { key: string; value?: string; effect: string }): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}
