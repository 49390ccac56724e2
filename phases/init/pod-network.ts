/** pod-network: kubeboot's one-node pod network (--pod-network bridge), a CNI configuration for the node's runtime. */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const podNetwork: Phase<InitContext> = {
  name: 'pod-network',
  short: 'Write a CNI configuration for a one-node pod network (--pod-network bridge)',
  long: 'Write a CNI configuration for the container runtime: a Linux bridge with host-local addresses from the pod subnet, using the standard CNI plugins the runtime finds (crictl info tells where it looks). Refused when the plugins are missing or a CNI configuration kubeboot did not write is there. Runs only with --pod-network (or podNetwork in the KubebootConfiguration document).',
  flags: ['config', 'dry-run', 'pod-network', 'pod-network-cidr'],
  runIf(ctx) {
    return ctx.spec.podNetwork !== undefined;
  },
  async run(ctx) {
    const { writePodNetwork } = await import('../../src/node/cni.js');
    await writePodNetwork(ctx);
  },
};
