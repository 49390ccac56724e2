/**
 * The configurations kubeadm and kubeboot both run. Each pins kubernetesVersion, an explicit advertise address,
 * the node name and the CRI socket, so that neither tool looks at this machine for them; every address is from
 * a documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and every domain is
 * example.com's.
 */
import { K8S_VERSION } from './tier.js';

export interface OracleConfig {
  readonly name: string;
  /** what the configuration exercises */
  readonly about: string;
  /** the config file; PATCHES stands for the absolute path of the patches directory */
  readonly yaml: string;
  /** patch files by name, written into the patches directory (referenced by patches.directory) */
  readonly patches?: Record<string, string>;
}

const CRI = 'unix:///run/containerd/containerd.sock';

const init = (address: string, extra = '', endpointExtra = ''): string => `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: "${address}"
${endpointExtra}nodeRegistration:
  name: cp1
  criSocket: ${CRI}
${extra}`;

const cluster = (extra = ''): string => `---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${K8S_VERSION}
${extra}`;

export const CONFIGS: readonly OracleConfig[] = [
  {
    name: 'defaults',
    about: 'only what must be pinned; kubeadm defaults everything else',
    yaml: init('192.0.2.10') + cluster(),
  },
  {
    name: 'ipv6',
    about: 'IPv6 advertise address, service and pod subnets',
    yaml:
      init('2001:db8::10') +
      cluster(`networking:
  serviceSubnet: 2001:db8:1::/112
  podSubnet: 2001:db8:2::/56
`),
  },
  {
    name: 'dual-stack',
    about: 'IPv4 advertise address, dual-stack service and pod subnets',
    yaml:
      init('192.0.2.10') +
      cluster(`networking:
  serviceSubnet: 198.51.100.0/24,2001:db8:1::/112
  podSubnet: 203.0.113.0/24,2001:db8:2::/56
`),
  },
  {
    name: 'endpoint-sans',
    about: 'controlPlaneEndpoint (DNS name, own port), certSANs of both kinds with a duplicate, etcd SANs, bind port, DNS domain',
    yaml:
      init('192.0.2.10', '', '  bindPort: 8443\n') +
      cluster(`controlPlaneEndpoint: api.example.com:7443
networking:
  dnsDomain: corp.example.com
  serviceSubnet: 198.51.100.0/24
apiServer:
  certSANs:
  - kube.example.com
  - 203.0.113.7
  - "*.apps.example.com"
  - 2001:db8::7
  - 192.0.2.10
  - api.example.com
etcd:
  local:
    serverCertSANs:
    - etcd.example.com
    - 198.51.100.9
    peerCertSANs:
    - peer.example.com
    - 2001:db8::9
`),
  },
  {
    name: 'external-etcd',
    about: 'external etcd: no etcd CA, certificates or manifest; apiserver etcd flags and volumes',
    yaml:
      init('192.0.2.10') +
      cluster(`etcd:
  external:
    endpoints:
    - https://192.0.2.21:2379
    - https://192.0.2.22:2379
    caFile: /etc/etcd/pki/ca.crt
    certFile: /etc/kubernetes/pki/etcd-client/client.crt
    keyFile: /etc/kubernetes/pki/etcd-client/client.key
`),
  },
  {
    name: 'extra-args-volumes-envs',
    about: 'extraArgs (overriding defaults, repeated, order-sensitive), extraVolumes, extraEnvs on every component, kubeletExtraArgs, imageRepository',
    yaml:
      init(
        '192.0.2.10',
        `  kubeletExtraArgs:
  - name: node-labels
    value: tier=control,zone=a
  - name: v
    value: "4"
`,
      ) +
      cluster(`imageRepository: registry.example.com/k8s
apiServer:
  extraArgs:
  - name: service-account-issuer
    value: https://issuer.example.com
  - name: service-account-issuer
    value: https://kubernetes.default.svc.cluster.local
  - name: authorization-mode
    value: Node,RBAC,Webhook
  - name: audit-log-maxage
    value: "30"
  - name: audit-log-path
    value: /var/log/kubernetes/audit.log
  extraVolumes:
  - name: audit-logs
    hostPath: /var/log/kubernetes
    mountPath: /var/log/kubernetes
    pathType: DirectoryOrCreate
  - name: policies
    hostPath: /etc/kubernetes/policies/audit.yaml
    mountPath: /etc/kubernetes/policies/audit.yaml
    readOnly: true
    pathType: File
  extraEnvs:
  - name: GOGC
    value: "50"
  - name: HTTPS_PROXY
    value: http://198.51.100.3:3128
controllerManager:
  extraArgs:
  - name: bind-address
    value: 0.0.0.0
  - name: cluster-signing-duration
    value: 720h
  extraVolumes:
  - name: flexvolume-dir
    hostPath: /usr/libexec/kubernetes/kubelet-plugins/volume/exec
    mountPath: /usr/libexec/kubernetes/kubelet-plugins/volume/exec
    pathType: DirectoryOrCreate
  extraEnvs:
  - name: GOMAXPROCS
    value: "2"
scheduler:
  extraArgs:
  - name: secure-port
    value: "10269"
  - name: v
    value: "2"
  extraEnvs:
  - name: GODEBUG
    value: gctrace=1
etcd:
  local:
    dataDir: /var/lib/etcd-data
    extraArgs:
    - name: listen-metrics-urls
      value: http://127.0.0.1:2391
    - name: quota-backend-bytes
      value: "8589934592"
    extraEnvs:
    - name: ETCD_SNAPSHOT_COUNT
      value: "5000"
`),
  },
  {
    name: 'patches',
    about: 'patches.directory with one patch of each type (strategic, merge, json) and a kubeletconfiguration patch',
    yaml: init('192.0.2.10', `patches:\n  directory: PATCHES\n`) + cluster(),
    patches: {
      // strategic (the default when no +type is given)
      'kube-controller-manager.yaml': `spec:
  containers:
  - name: kube-controller-manager
    resources:
      requests:
        cpu: 300m
        memory: 128Mi
`,
      'kube-scheduler+strategic.yaml': `metadata:
  annotations:
    example.com/patched: strategic
spec:
  containers:
  - name: kube-scheduler
    env:
    - name: GOGC
      value: "80"
`,
      'etcd+merge.yaml': `metadata:
  labels:
    example.com/patched: merge
spec:
  priorityClassName: system-cluster-critical
`,
      'kube-apiserver+json.yaml': `- op: add
  path: /spec/containers/0/command/-
  value: --audit-log-maxage=30
- op: replace
  path: /spec/containers/0/livenessProbe/failureThreshold
  value: 9
`,
      'kubeletconfiguration+strategic.json': `{"maxPods": 150, "serializeImagePulls": false}
`,
    },
  },
  {
    name: 'v1beta3',
    about: 'a v1beta3 file (deprecated, converted): extraArgs maps, timeoutForControlPlane, bootstrap token',
    yaml: `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
bootstrapTokens:
- token: abcdef.0123456789abcdef
  ttl: 2h0m0s
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
nodeRegistration:
  name: cp1
  criSocket: ${CRI}
  kubeletExtraArgs:
    node-labels: tier=control
    max-pods: "120"
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: ${K8S_VERSION}
networking:
  podSubnet: 203.0.113.0/24
apiServer:
  timeoutForControlPlane: 5m0s
  extraArgs:
    profiling: "false"
    audit-log-maxage: "7"
    enable-admission-plugins: NodeRestriction,PodSecurity
controllerManager:
  extraArgs:
    profiling: "false"
    bind-address: 127.0.0.1
scheduler:
  extraArgs:
    profiling: "false"
`,
  },
  {
    name: 'kubelet-config',
    about: 'a KubeletConfiguration document: overrides of kubeadm defaults and fields of its own',
    yaml:
      init('192.0.2.10') +
      cluster() +
      `---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
clusterDNS:
- 198.51.100.53
maxPods: 150
failSwapOn: false
serializeImagePulls: false
evictionHard:
  memory.available: 200Mi
  nodefs.available: 5%
featureGates:
  KubeletTracing: true
systemReserved:
  cpu: 500m
  memory: 512Mi
`,
  },
  {
    name: 'pki-options',
    about: 'RSA-3072 keys, custom certificate validity periods, a custom certificatesDir, another CRI socket',
    yaml:
      init('192.0.2.20').replace(CRI, 'unix:///var/run/crio/crio.sock') +
      cluster(`encryptionAlgorithm: RSA-3072
certificateValidityPeriod: 720h0m0s
caCertificateValidityPeriod: 43800h0m0s
certificatesDir: /etc/kubernetes/custom-pki
`),
  },
  {
    name: 'ecdsa',
    about: 'encryptionAlgorithm ECDSA-P256, which kubeadm 1.36 supports',
    yaml: init('192.0.2.10') + cluster('encryptionAlgorithm: ECDSA-P256\n'),
  },
  {
    name: 'ecdsa-p384',
    about: 'encryptionAlgorithm ECDSA-P384 (kubeadm signs with SHA-384 for a P-384 key)',
    yaml: init('192.0.2.10') + cluster('encryptionAlgorithm: ECDSA-P384\n'),
  },
  {
    name: 'rsa-4096',
    about: 'encryptionAlgorithm RSA-4096',
    yaml: init('192.0.2.10') + cluster('encryptionAlgorithm: RSA-4096\n'),
  },
];
