/**
 * The container images a configuration uses, as kubeadm names them (images.GetControlPlaneImages and friends): what
 * `kubeboot config images list` prints and what the addons run. PURE.
 */
import type { ClusterSpec } from '../config/spec.js';

/** The image tag of a Kubernetes version: a '+' (not allowed in tags) becomes '_'. */
export function kubernetesImageTag(version: string): string {
  return version.replace(/\+/g, '_');
}

/** An image of the Kubernetes release itself (kube-apiserver, …, kube-proxy): imageRepository and the version's tag. */
export function kubernetesImage(spec: Pick<ClusterSpec, 'imageRepository' | 'kubernetesVersion'>, name: string): string {
  return `${spec.imageRepository}/${name}:${kubernetesImageTag(spec.kubernetesVersion)}`;
}

/** CoreDNS: dns.imageRepository (registry.k8s.io/coredns by default) and dns.imageTag (the minor's CoreDNS). */
export function corednsImage(spec: Pick<ClusterSpec, 'dns'>): string {
  return `${spec.dns.imageRepository}/coredns:${spec.dns.imageTag}`;
}

/** The sandbox image: always from imageRepository, with the minor's pause tag. */
export function pauseImage(spec: Pick<ClusterSpec, 'imageRepository' | 'version'>): string {
  return `${spec.imageRepository}/pause:${spec.version.pauseTag}`;
}

/**
 * kubeadm's list, in kubeadm's order: kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy (unless
 * proxy.disabled), CoreDNS (unless dns.disabled), pause, and etcd (local etcd only; its own repository and tag).
 */
export function controlPlaneImages(spec: ClusterSpec): string[] {
  const out = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((n) => kubernetesImage(spec, n));
  if (!spec.proxy.disabled) out.push(kubernetesImage(spec, 'kube-proxy'));
  if (!spec.dns.disabled) out.push(corednsImage(spec));
  out.push(pauseImage(spec));
  const local = spec.etcd.local;
  if (local) out.push(`${local.imageRepository}/etcd:${local.imageTag}`);
  return out;
}
