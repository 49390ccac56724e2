/** show-join-command: kubeadm's closing text — how to use admin.conf, and the join commands. */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const showJoinCommand: Phase<InitContext> = {
  name: 'show-join-command',
  short: 'Show the join command for control-plane and worker node',
  long: "Print how to use admin.conf and the 'kubeadm join' commands for worker (and, with a controlPlaneEndpoint, control-plane) nodes: kubeboot's cluster is kubeadm's, so kubeadm joins nodes to it.",
  flags: ['config', 'skip-token-print', 'skip-certificate-key-print'],
  async run(ctx) {
    const { showJoinCommand: step } = await import('../../src/node/cluster.js');
    await step(ctx);
  },
};
