/** mark-control-plane: the node's control-plane labels and the taints of nodeRegistration.taints. */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const markControlPlane: Phase<InitContext> = {
  name: 'mark-control-plane',
  short: 'Mark a node as a control-plane',
  long: 'Label the node node-role.kubernetes.io/control-plane and node.kubernetes.io/exclude-from-external-load-balancers, and give it the taints of nodeRegistration.taints (kubeadm\'s control-plane NoSchedule taint by default; none for taints: []).',
  flags: ['node-name', 'config', 'dry-run'],
  async run(ctx) {
    const { markControlPlane: step } = await import('../../src/node/cluster.js');
    await step(ctx);
  },
};
