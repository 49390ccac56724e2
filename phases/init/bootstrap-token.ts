/** bootstrap-token: the bootstrap tokens, the RBAC that lets them join nodes, and the cluster-info ConfigMap. */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const bootstrapToken: Phase<InitContext> = {
  name: 'bootstrap-token',
  short: 'Generates bootstrap tokens used to join a node to a cluster',
  long: 'Create the bootstrap token Secrets, the RBAC rules that let bootstrap tokens get nodes and post CSRs that are approved automatically, let nodes rotate their client certificates and the API server reach the kubelet API, and the kube-public/cluster-info ConfigMap that anyone may read.',
  flags: ['config', 'skip-token-print', 'dry-run'],
  async run(ctx) {
    const { bootstrapToken: step } = await import('../../src/node/cluster.js');
    await step(ctx);
  },
};
