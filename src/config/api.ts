/** API versions and kinds (no zod here: light to import). */
export const API_V1BETA4 = 'kubeadm.k8s.io/v1beta4';
export const API_V1BETA3 = 'kubeadm.k8s.io/v1beta3';
export const KUBELET_API = 'kubelet.config.k8s.io/v1beta1';
export const KUBEPROXY_API = 'kubeproxy.config.k8s.io/v1alpha1';
/**
 * kubeboot's own document, for what kubeadm's documents have no field for (never an unknown field in theirs).
 * kubeadm reading the same file warns that it does not know this kind and goes on without it.
 */
export const KUBEBOOT_API = 'kubeboot.io/v1alpha1';

/** Known kinds per apiVersion, for the "unknown kind" message. */
export const KNOWN_KINDS: Readonly<Record<string, readonly string[]>> = {
  [API_V1BETA4]: ['InitConfiguration', 'ClusterConfiguration'],
  [API_V1BETA3]: ['InitConfiguration', 'ClusterConfiguration'],
  [KUBELET_API]: ['KubeletConfiguration'],
  [KUBEPROXY_API]: ['KubeProxyConfiguration'],
  [KUBEBOOT_API]: ['KubebootConfiguration'],
};
