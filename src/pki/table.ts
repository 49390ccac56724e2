/**
 * The certificate and kubeconfig tables (kubeadm-reference §2.1 and §3): data only. The certs and
 * kubeconfig phases, their sub-phases, `certs renew` and `certs check-expiration` all read these rows.
 * Light at import time: no crypto, no node-forge.
 */
import type { ClusterSpec } from '../config/spec.js';

export type ExtUsage = 'serverAuth' | 'clientAuth';
export type KeyUsageName = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign';
export type SanRule = 'none' | 'ca' | 'apiserver' | 'etcd-server' | 'etcd-peer';

export interface CertRow {
  /** sub-phase and `certs renew` name: "etcd-server" */
  readonly name: string;
  /** file base under certificatesDir: "etcd/server" → etcd/server.crt, etcd/server.key */
  readonly baseName: string;
  /** kubeadm's long name: "certificate for serving etcd" */
  readonly longName: string;
  /** the signing CA's row name, undefined for a (self-signed) CA */
  readonly ca: string | undefined;
  readonly isCA: boolean;
  /** fixed common name; `nodeName` means nodeRegistration.name */
  readonly commonName: string | { readonly from: 'nodeName' };
  readonly organization: readonly string[];
  readonly extKeyUsage: readonly ExtUsage[];
  readonly sans: SanRule;
  /** belongs to local etcd (skipped with external etcd) */
  readonly etcd: boolean;
}

/** In kubeadm's generation order: every CA comes before the leaves it signs. */
export const CERT_TABLE: readonly CertRow[] = [
  {
    name: 'ca',
    baseName: 'ca',
    longName: 'self-signed Kubernetes CA to provision identities for other Kubernetes components',
    ca: undefined,
    isCA: true,
    commonName: 'kubernetes',
    organization: [],
    extKeyUsage: [],
    sans: 'ca',
    etcd: false,
  },
  {
    name: 'apiserver',
    baseName: 'apiserver',
    longName: 'certificate for serving the Kubernetes API',
    ca: 'ca',
    isCA: false,
    commonName: 'kube-apiserver',
    organization: [],
    extKeyUsage: ['serverAuth'],
    sans: 'apiserver',
    etcd: false,
  },
  {
    name: 'apiserver-kubelet-client',
    baseName: 'apiserver-kubelet-client',
    longName: 'certificate for the API server to connect to kubelet',
    ca: 'ca',
    isCA: false,
    commonName: 'kube-apiserver-kubelet-client',
    organization: [],
    extKeyUsage: ['clientAuth'],
    sans: 'none',
    etcd: false,
  },
  {
    name: 'front-proxy-ca',
    baseName: 'front-proxy-ca',
    longName: 'self-signed CA to provision identities for front proxy',
    ca: undefined,
    isCA: true,
    commonName: 'front-proxy-ca',
    organization: [],
    extKeyUsage: [],
    sans: 'ca',
    etcd: false,
  },
  {
    name: 'front-proxy-client',
    baseName: 'front-proxy-client',
    longName: 'certificate for the front proxy client',
    ca: 'front-proxy-ca',
    isCA: false,
    commonName: 'front-proxy-client',
    organization: [],
    extKeyUsage: ['clientAuth'],
    sans: 'none',
    etcd: false,
  },
  {
    name: 'etcd-ca',
    baseName: 'etcd/ca',
    longName: 'self-signed CA to provision identities for etcd',
    ca: undefined,
    isCA: true,
    commonName: 'etcd-ca',
    organization: [],
    extKeyUsage: [],
    sans: 'ca',
    etcd: true,
  },
  {
    name: 'etcd-server',
    baseName: 'etcd/server',
    longName: 'certificate for serving etcd',
    ca: 'etcd-ca',
    isCA: false,
    commonName: { from: 'nodeName' },
    organization: [],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    sans: 'etcd-server',
    etcd: true,
  },
  {
    name: 'etcd-peer',
    baseName: 'etcd/peer',
    longName: 'certificate for etcd nodes to communicate with each other',
    ca: 'etcd-ca',
    isCA: false,
    commonName: { from: 'nodeName' },
    organization: [],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    sans: 'etcd-peer',
    etcd: true,
  },
  {
    name: 'etcd-healthcheck-client',
    baseName: 'etcd/healthcheck-client',
    longName: 'certificate for liveness probes to healthcheck etcd',
    ca: 'etcd-ca',
    isCA: false,
    commonName: 'kube-etcd-healthcheck-client',
    organization: [],
    extKeyUsage: ['clientAuth'],
    sans: 'none',
    etcd: true,
  },
  {
    name: 'apiserver-etcd-client',
    baseName: 'apiserver-etcd-client',
    longName: 'certificate the apiserver uses to access etcd',
    ca: 'etcd-ca',
    isCA: false,
    commonName: 'kube-apiserver-etcd-client',
    organization: [],
    extKeyUsage: ['clientAuth'],
    sans: 'none',
    etcd: true,
  },
];

/** The service-account key pair (not X.509): sa.key (private) and sa.pub (PKIX public key). */
export const SA_KEY = {
  name: 'sa',
  baseName: 'sa',
  privateFile: 'sa.key',
  publicFile: 'sa.pub',
  short: 'Generate a private key for signing service account tokens along with its public key',
} as const;

export type EndpointKind = 'control-plane' | 'local';

export interface KubeconfigRow {
  /** sub-phase name */
  readonly name: string;
  /** file name under the kubeconfig directory */
  readonly file: string;
  /** kubeadm's long name (used by renew): "certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself" */
  readonly longName: string;
  readonly short: string;
  /** the user name and client certificate CN; `nodeName` means system:node:<nodeRegistration.name> */
  readonly user: string | { readonly from: 'nodeName' };
  readonly organization: readonly string[];
  /** which API server URL; 'kubelet' follows the version table (kubeletConfLocalEndpoint) */
  readonly endpoint: EndpointKind | 'kubelet';
}

export const KUBECONFIG_TABLE: readonly KubeconfigRow[] = [
  {
    name: 'admin',
    file: 'admin.conf',
    longName: 'certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself',
    short: 'Generate a kubeconfig file for the admin to use and for kubeadm itself',
    user: 'kubernetes-admin',
    organization: ['kubeadm:cluster-admins'],
    endpoint: 'control-plane',
  },
  {
    name: 'super-admin',
    file: 'super-admin.conf',
    longName: 'certificate embedded in the kubeconfig file for the super-admin',
    short: 'Generate a kubeconfig file for the super-admin',
    user: 'kubernetes-super-admin',
    organization: ['system:masters'],
    endpoint: 'control-plane',
  },
  {
    name: 'kubelet',
    file: 'kubelet.conf',
    longName: 'certificate embedded in the kubeconfig file for the kubelet to use',
    short: 'Generate a kubeconfig file for the kubelet to use *only* for cluster bootstrapping purposes',
    user: { from: 'nodeName' },
    organization: ['system:nodes'],
    endpoint: 'kubelet',
  },
  {
    name: 'controller-manager',
    file: 'controller-manager.conf',
    longName: 'certificate embedded in the kubeconfig file for the controller manager to use',
    short: 'Generate a kubeconfig file for the controller manager to use',
    user: 'system:kube-controller-manager',
    organization: [],
    endpoint: 'local',
  },
  {
    name: 'scheduler',
    file: 'scheduler.conf',
    longName: 'certificate embedded in the kubeconfig file for the scheduler manager to use',
    short: 'Generate a kubeconfig file for the scheduler to use',
    user: 'system:kube-scheduler',
    organization: [],
    endpoint: 'local',
  },
];

export function certRow(name: string): CertRow {
  const row = CERT_TABLE.find((r) => r.name === name);
  if (!row) throw new Error(`internal: no certificate named "${name}" in the table`);
  return row;
}

export function kubeconfigRow(name: string): KubeconfigRow {
  const row = KUBECONFIG_TABLE.find((r) => r.name === name);
  if (!row) throw new Error(`internal: no kubeconfig named "${name}" in the table`);
  return row;
}

export function commonNameOf(row: CertRow, spec: Pick<ClusterSpec, 'nodeName'>): string {
  return typeof row.commonName === 'string' ? row.commonName : spec.nodeName;
}

export function kubeconfigUser(row: KubeconfigRow, spec: Pick<ClusterSpec, 'nodeName'>): string {
  return typeof row.user === 'string' ? row.user : `system:node:${spec.nodeName}`;
}

/** Which endpoint a kubeconfig's server URL uses for this spec's Kubernetes minor. */
export function kubeconfigEndpointKind(row: KubeconfigRow, spec: Pick<ClusterSpec, 'version'>): EndpointKind {
  if (row.endpoint !== 'kubelet') return row.endpoint;
  return spec.version.kubeletConfLocalEndpoint ? 'local' : 'control-plane';
}

/** Host paths of a row's files. */
export function certPaths(certificatesDir: string, baseName: string): { crt: string; key: string } {
  return { crt: `${certificatesDir}/${baseName}.crt`, key: `${certificatesDir}/${baseName}.key` };
}

/** Key usage bits: leaf = digitalSignature | keyEncipherment; CA adds keyCertSign. */
export function keyUsageOf(isCA: boolean): readonly KeyUsageName[] {
  return isCA ? ['digitalSignature', 'keyEncipherment', 'keyCertSign'] : ['digitalSignature', 'keyEncipherment'];
}

/** The 5-minute backdate of every PKI certificate's NotBefore (kubeadm's CertificateBackdate). */
export const CERTIFICATE_BACKDATE_MS = 5 * 60 * 1000;
