/**
 * kubeadm.k8s.io v1beta4 and v1beta3 InitConfiguration / ClusterConfiguration as strict zod schemas:
 * an unknown or mis-cased field is an error. Values are checked for type here; kubeadm's semantic rules
 * live in validate.ts so that every problem is reported at once.
 */
import { z } from 'zod';

export { API_V1BETA3, API_V1BETA4, KNOWN_KINDS, KUBEBOOT_API, KUBELET_API, KUBEPROXY_API } from './api.js';
import { KUBEBOOT_API } from './api.js';

const str = z.string();
const port = z.number().int();

export const argSchema = z.strictObject({ name: str, value: str });
export type Arg = z.infer<typeof argSchema>;

const argList = z.array(argSchema);
const argMap = z.record(str, str);

export const hostPathMountSchema = z.strictObject({
  name: str,
  hostPath: str,
  mountPath: str,
  readOnly: z.boolean().optional(),
  pathType: z
    .enum(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'])
    .optional(),
});
export type HostPathMount = z.infer<typeof hostPathMountSchema>;

/** core/v1 EnvVar; valueFrom is carried as data. */
export const envVarSchema = z.strictObject({
  name: str,
  value: str.optional(),
  valueFrom: z.record(str, z.unknown()).optional(),
});
export type EnvVar = z.infer<typeof envVarSchema>;

const taintSchema = z.strictObject({
  key: str,
  value: str.optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  timeAdded: z.string().nullable().optional(),
});

const bootstrapTokenSchema = z.strictObject({
  token: str,
  description: str.optional(),
  ttl: str.optional(),
  expires: str.optional(),
  usages: z.array(str).optional(),
  groups: z.array(str).optional(),
});

const typeMeta = { apiVersion: str, kind: str };

const timeoutsSchema = z.strictObject({
  controlPlaneComponentHealthCheck: str.optional(),
  kubeletHealthCheck: str.optional(),
  kubernetesAPICall: str.optional(),
  etcdAPICall: str.optional(),
  tlsBootstrap: str.optional(),
  discovery: str.optional(),
  upgradeManifests: str.optional(),
});
export type Timeouts = z.infer<typeof timeoutsSchema>;

// ---------- v1beta4 ----------

export const initV1beta4 = z.strictObject({
  ...typeMeta,
  bootstrapTokens: z.array(bootstrapTokenSchema).optional(),
  dryRun: z.boolean().optional(),
  nodeRegistration: z
    .strictObject({
      name: str.optional(),
      criSocket: str.optional(),
      taints: z.array(taintSchema).nullable().optional(),
      kubeletExtraArgs: argList.optional(),
      ignorePreflightErrors: z.array(str).optional(),
      imagePullPolicy: str.optional(),
      imagePullSerial: z.boolean().optional(),
    })
    .optional(),
  localAPIEndpoint: z.strictObject({ advertiseAddress: str.optional(), bindPort: port.optional() }).optional(),
  certificateKey: str.optional(),
  skipPhases: z.array(str).optional(),
  patches: z.strictObject({ directory: str.optional() }).optional(),
  timeouts: timeoutsSchema.optional(),
});
export type InitV1beta4 = z.infer<typeof initV1beta4>;

const controlPlaneComponentV4 = z.strictObject({
  extraArgs: argList.optional(),
  extraVolumes: z.array(hostPathMountSchema).optional(),
  extraEnvs: z.array(envVarSchema).optional(),
});

export const clusterV1beta4 = z.strictObject({
  ...typeMeta,
  etcd: z
    .strictObject({
      local: z
        .strictObject({
          imageRepository: str.optional(),
          imageTag: str.optional(),
          dataDir: str.optional(),
          extraArgs: argList.optional(),
          extraEnvs: z.array(envVarSchema).optional(),
          serverCertSANs: z.array(str).optional(),
          peerCertSANs: z.array(str).optional(),
        })
        .optional(),
      external: z
        .strictObject({
          endpoints: z.array(str),
          caFile: str.optional(),
          certFile: str.optional(),
          keyFile: str.optional(),
          httpEndpoints: z.array(str).optional(),
        })
        .optional(),
    })
    .optional(),
  networking: z
    .strictObject({ serviceSubnet: str.optional(), podSubnet: str.optional(), dnsDomain: str.optional() })
    .optional(),
  kubernetesVersion: str.optional(),
  controlPlaneEndpoint: str.optional(),
  apiServer: z
    .strictObject({
      extraArgs: argList.optional(),
      extraVolumes: z.array(hostPathMountSchema).optional(),
      extraEnvs: z.array(envVarSchema).optional(),
      certSANs: z.array(str).optional(),
    })
    .optional(),
  controllerManager: controlPlaneComponentV4.optional(),
  scheduler: controlPlaneComponentV4.optional(),
  dns: z
    .strictObject({ imageRepository: str.optional(), imageTag: str.optional(), disabled: z.boolean().optional() })
    .optional(),
  proxy: z.strictObject({ disabled: z.boolean().optional() }).optional(),
  certificatesDir: str.optional(),
  imageRepository: str.optional(),
  featureGates: z.record(str, z.boolean()).optional(),
  clusterName: str.optional(),
  encryptionAlgorithm: str.optional(),
  certificateValidityPeriod: str.optional(),
  caCertificateValidityPeriod: str.optional(),
});
export type ClusterV1beta4 = z.infer<typeof clusterV1beta4>;

// ---------- v1beta3 ----------

export const initV1beta3 = z.strictObject({
  ...typeMeta,
  bootstrapTokens: z.array(bootstrapTokenSchema).optional(),
  nodeRegistration: z
    .strictObject({
      name: str.optional(),
      criSocket: str.optional(),
      taints: z.array(taintSchema).nullable().optional(),
      kubeletExtraArgs: argMap.optional(),
      ignorePreflightErrors: z.array(str).optional(),
      imagePullPolicy: str.optional(),
    })
    .optional(),
  localAPIEndpoint: z.strictObject({ advertiseAddress: str.optional(), bindPort: port.optional() }).optional(),
  certificateKey: str.optional(),
  skipPhases: z.array(str).optional(),
  patches: z.strictObject({ directory: str.optional() }).optional(),
});
export type InitV1beta3 = z.infer<typeof initV1beta3>;

const controlPlaneComponentV3 = z.strictObject({
  extraArgs: argMap.optional(),
  extraVolumes: z.array(hostPathMountSchema).optional(),
});

export const clusterV1beta3 = z.strictObject({
  ...typeMeta,
  etcd: z
    .strictObject({
      local: z
        .strictObject({
          imageRepository: str.optional(),
          imageTag: str.optional(),
          dataDir: str.optional(),
          extraArgs: argMap.optional(),
          serverCertSANs: z.array(str).optional(),
          peerCertSANs: z.array(str).optional(),
        })
        .optional(),
      external: z
        .strictObject({
          endpoints: z.array(str),
          caFile: str.optional(),
          certFile: str.optional(),
          keyFile: str.optional(),
        })
        .optional(),
    })
    .optional(),
  networking: z
    .strictObject({ serviceSubnet: str.optional(), podSubnet: str.optional(), dnsDomain: str.optional() })
    .optional(),
  kubernetesVersion: str.optional(),
  controlPlaneEndpoint: str.optional(),
  apiServer: z
    .strictObject({
      extraArgs: argMap.optional(),
      extraVolumes: z.array(hostPathMountSchema).optional(),
      certSANs: z.array(str).optional(),
      timeoutForControlPlane: str.optional(),
    })
    .optional(),
  controllerManager: controlPlaneComponentV3.optional(),
  scheduler: controlPlaneComponentV3.optional(),
  dns: z.strictObject({ imageRepository: str.optional(), imageTag: str.optional() }).optional(),
  certificatesDir: str.optional(),
  imageRepository: str.optional(),
  featureGates: z.record(str, z.boolean()).optional(),
  clusterName: str.optional(),
});
export type ClusterV1beta3 = z.infer<typeof clusterV1beta3>;

/**
 * kubeboot.io/v1alpha1 KubebootConfiguration: what a CI cluster needs that kubeadm leaves to others.
 * podNetwork: 'bridge' writes a CNI configuration for a one-node pod network; singleNode: true leaves the
 * control-plane node schedulable (no control-plane taint), as kind does for a one-node cluster.
 */
export const kubebootV1alpha1 = z.strictObject({
  apiVersion: z.literal(KUBEBOOT_API),
  kind: z.literal('KubebootConfiguration'),
  podNetwork: z.enum(['bridge']).optional(),
  singleNode: z.boolean().optional(),
});
export type KubebootV1alpha1 = z.infer<typeof kubebootV1alpha1>;
