/** wait-cluster: kubeboot's wait for a usable cluster (--wait-for node,dns,workloads), after the addons. */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const waitCluster: Phase<InitContext> = {
  name: 'wait-cluster',
  short: 'Wait for the node, CoreDNS and workload pods (--wait-for node,dns,workloads)',
  long: 'Wait until the node is Ready, CoreDNS is ready, and a pod off the host network runs with a pod address while the cluster DNS and the kubernetes Service answer: the targets --wait-for names among node, dns and workloads (none by default). A timeout exits 4 and says what was missing.',
  flags: ['config', 'dry-run', 'wait-for', 'wait-timeout'],
  runIf(ctx) {
    return ctx.options.waitFor.some((t) => t === 'node' || t === 'dns' || t === 'workloads');
  },
  async run(ctx) {
    const { waitForCluster } = await import('../../src/node/cluster-wait.js');
    await waitForCluster(ctx);
  },
};
