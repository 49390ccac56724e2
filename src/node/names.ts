/**
 * Names the node layer derives from the spec: the node name the kubelet registers with, the mirror pods it makes,
 * and the paths of kubeboot's files on the node. Light at import time.
 */
import { manifestPath, mirrorPodName, type StaticPodComponent } from '../components.js';
import type { ClusterSpec } from '../config/spec.js';

export { manifestPath };

/** The node name the kubelet registers with (a hostname-override kubelet flag wins), lowercased as mirror pod names are. */
export function kubeletNodeName(spec: ClusterSpec): string {
  const o = [...spec.kubeletExtraArgs].reverse().find((a) => a.name === 'hostname-override');
  return (o ? o.value : spec.nodeName).toLowerCase();
}

/** The mirror pod of a component's static pod on this node: `<component>-<node name>`. */
export function mirrorPodOf(spec: ClusterSpec, component: StaticPodComponent): string {
  return mirrorPodName(component, kubeletNodeName(spec));
}

/** /etc/kubernetes/admin.conf and super-admin.conf (the kubeconfigs kubeboot talks to the API server with). */
export function adminKubeconfigPaths(spec: ClusterSpec): { readonly admin: string; readonly superAdmin: string } {
  return { admin: `${spec.paths.kubernetesDir}/admin.conf`, superAdmin: `${spec.paths.kubernetesDir}/super-admin.conf` };
}

/** The KubeletConfiguration kubelet-start writes: /var/lib/kubelet/config.yaml. */
export function kubeletConfigPath(spec: ClusterSpec): string {
  return `${spec.paths.kubeletDir}/config.yaml`;
}

/** Where the kubelet keeps its certificates: its --cert-dir (a kubelet extra arg), else <kubelet dir>/pki. */
export function kubeletCertDir(spec: ClusterSpec): string {
  const o = [...spec.kubeletExtraArgs].reverse().find((a) => a.name === 'cert-dir');
  return o ? o.value : `${spec.paths.kubeletDir}/pki`;
}
