/** The normalised, readonly ClusterSpec that every phase reads (flags + file + defaults, validated). */
import type { VersionRow } from '../versions.js';
import type { KubeProxySettings } from './kube-proxy.js';
import type { Arg, ClusterV1beta4, EnvVar, HostPathMount, InitV1beta4 } from './schema.js';

export type { Arg, EnvVar, HostPathMount };

export interface ComponentSpec {
  readonly extraArgs: readonly Arg[];
  readonly extraVolumes: readonly HostPathMount[];
  readonly extraEnvs: readonly EnvVar[];
}

export interface LocalEtcdSpec {
  readonly imageRepository: string; // resolved: etcd override or imageRepository
  readonly imageTag: string; // resolved: override or the version table's tag
  readonly imageTagOverridden: boolean;
  readonly dataDir: string;
  readonly extraArgs: readonly Arg[];
  readonly extraEnvs: readonly EnvVar[];
  readonly serverCertSANs: readonly string[];
  readonly peerCertSANs: readonly string[];
}

export interface ExternalEtcdSpec {
  readonly endpoints: readonly string[];
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly httpEndpoints: readonly string[];
}

export interface TimeoutsSpec {
  readonly controlPlaneComponentHealthCheckMs: number;
  readonly kubeletHealthCheckMs: number;
  readonly kubernetesAPICallMs: number;
  readonly etcdAPICallMs: number;
  readonly tlsBootstrapMs: number;
  readonly discoveryMs: number;
  readonly upgradeManifestsMs: number;
}

export type EncryptionAlgorithm = 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'ECDSA-P256' | 'ECDSA-P384';

/** Host paths kubeboot uses (kubeadm's constants). */
export interface PathsSpec {
  readonly kubernetesDir: string; // /etc/kubernetes
  readonly manifestsDir: string; // /etc/kubernetes/manifests
  readonly tmpDir: string; // /etc/kubernetes/tmp
  readonly kubeletDir: string; // /var/lib/kubelet
  readonly certificatesDir: string;
  /** kubeboot's record of the effective configuration (written by init, read by regenerate) */
  readonly recordedConfig: string; // /etc/kubernetes/kubeboot/config.yaml
}

export interface ClusterSpec {
  readonly kubernetesVersion: string; // "v1.36.5"
  readonly version: VersionRow;
  readonly clusterName: string;
  readonly nodeName: string;
  readonly criSocket: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  readonly kubeletExtraArgs: readonly Arg[];
  readonly advertiseAddress: string;
  readonly bindPort: number;
  readonly controlPlaneEndpoint: string; // '' when unset
  readonly imageRepository: string;
  readonly encryptionAlgorithm: EncryptionAlgorithm;
  readonly certificateValidityPeriodMs: number;
  readonly caCertificateValidityPeriodMs: number;
  readonly networking: { readonly serviceSubnet: string; readonly podSubnet: string; readonly dnsDomain: string };
  readonly apiServer: ComponentSpec & { readonly certSANs: readonly string[] };
  readonly controllerManager: ComponentSpec;
  readonly scheduler: ComponentSpec;
  readonly etcd: { readonly local?: LocalEtcdSpec; readonly external?: ExternalEtcdSpec };
  readonly featureGates: Readonly<Record<string, boolean>>;
  readonly timeouts: TimeoutsSpec;
  readonly patchesDirectory: string; // '' when unset
  readonly skipPhases: readonly string[];
  readonly ignorePreflightErrors: readonly string[];
  /**
   * disabled: as the file (or flags) say; init's recorded configuration (documents.cluster) also counts a skipped
   * addon phase as disabled, as kubeadm's init does
   */
  readonly dns: { readonly disabled: boolean; readonly imageRepository: string; readonly imageTag: string };
  readonly proxy: { readonly disabled: boolean };
  /** The KubeletConfiguration document from the config file, as data (kubelet-start merges it). */
  readonly kubeletConfiguration: Readonly<Record<string, unknown>> | undefined;
  /** The KubeProxyConfiguration document from the config file, as written (init records it). */
  readonly kubeProxyConfiguration: Readonly<Record<string, unknown>> | undefined;
  /** What the kube-proxy addon gets: that document decoded, with kubeadm's defaults (config/kube-proxy.ts). */
  readonly kubeProxy: KubeProxySettings;
  readonly paths: PathsSpec;
  /** The fully defaulted v1beta4 documents (what `config migrate` prints and init records). */
  readonly documents: { readonly init: InitV1beta4; readonly cluster: ClusterV1beta4 };
}

export const KUBERNETES_DIR = '/etc/kubernetes';

export function defaultPaths(certificatesDir: string): PathsSpec {
  return {
    kubernetesDir: KUBERNETES_DIR,
    manifestsDir: `${KUBERNETES_DIR}/manifests`,
    tmpDir: `${KUBERNETES_DIR}/tmp`,
    kubeletDir: '/var/lib/kubelet',
    certificatesDir,
    recordedConfig: `${KUBERNETES_DIR}/kubeboot/config.yaml`,
  };
}
