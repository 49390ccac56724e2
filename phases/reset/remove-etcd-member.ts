/**
 * reset remove-etcd-member: kubeadm removes this node's member from a stacked etcd cluster of several members. kubeboot
 * sets up single-member clusters only (it has no join), so the local member is the whole cluster: there is no member
 * to remove from another cluster, and cleanup-node deletes its data.
 */
import type { ResetContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const removeEtcdMember: Phase<ResetContext> = {
  name: 'remove-etcd-member',
  short: 'Remove a local etcd member.',
  long: 'Remove this node\'s member from its etcd cluster. kubeboot sets up single-member clusters only, so the local member is the only one: nothing is removed from a cluster, and cleanup-node deletes its data.',
  flags: ['config', 'dry-run', 'force'],
  async runIf(ctx) {
    const { resetState } = await import('../../src/node/reset.js');
    return !(await resetState(ctx)).nothingToDo && ctx.spec.etcd.local !== undefined;
  },
  async run(ctx) {
    ctx.out.log('reset', 'The local etcd member is the only member of its cluster (kubeboot sets up single-member etcd): no member to remove; its data is deleted with the node');
  },
};
