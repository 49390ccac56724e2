/** upload-config: the ClusterConfiguration (kubeadm-config) and the cluster-wide KubeletConfiguration (kubelet-config) in kube-system, with the RBAC that lets nodes read them. */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

const FLAGS = ['config', 'dry-run'] as const;

export const uploadConfig: Phase<InitContext> = {
  name: 'upload-config',
  short: 'Upload the kubeadm and kubelet configuration to a ConfigMap',
  flags: [...FLAGS],
  phases: [
    {
      name: 'kubeadm',
      short: 'Upload the kubeadm ClusterConfiguration to a ConfigMap',
      long: 'Upload the ClusterConfiguration (defaults filled in) to the kube-system/kubeadm-config ConfigMap, with a Role and RoleBinding that let nodes and bootstrap tokens read it.',
      flags: [...FLAGS],
      async run(ctx) {
        const { uploadKubeadmConfig } = await import('../../src/node/cluster.js');
        await uploadKubeadmConfig(ctx);
      },
    },
    {
      name: 'kubelet',
      short: 'Upload the kubelet component config to a ConfigMap',
      long: 'Upload the cluster-wide KubeletConfiguration to the kube-system/kubelet-config ConfigMap, with a Role and RoleBinding that let nodes and bootstrap tokens read it.',
      flags: [...FLAGS],
      async run(ctx) {
        const { uploadKubeletConfig } = await import('../../src/node/cluster.js');
        await uploadKubeletConfig(ctx);
      },
    },
  ],
};
