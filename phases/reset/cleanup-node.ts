/**
 * reset cleanup-node: the static pods (and a wait for the kubelet to stop them), the kubelet service, the pods'
 * containers (through the CRI, with crictl), the mounts under the kubelet's directory, etcd's data, the files of the
 * ledger (putting back what init replaced), kubeboot's temporary files, and its state directory last. The steps are
 * the node layer's (src/node/reset.ts).
 */
import type { ResetContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const cleanupNode: Phase<ResetContext> = {
  name: 'cleanup-node',
  short: 'Run cleanup node.',
  long: 'Remove the static Pod manifests kubeboot wrote and wait for their pods to stop, stop the kubelet, stop and remove the pod sandboxes through the container runtime (crictl), unmount what is mounted under the kubelet\'s directory (deepest first), delete the etcd data, the kubelet\'s client certificates issued by kubeboot\'s CA, the PKI, kubeconfigs, kubelet files and CNI configuration kubeboot wrote (and only those), put back files init replaced, remove the bridge and address reservations of kubeboot\'s pod network, then kubeboot\'s temporary files and state directory. Under --root neither the container runtime nor the mount table is touched.',
  flags: ['config', 'cert-dir', 'dry-run', 'force', 'wait-timeout'],
  async runIf(ctx) {
    const { resetState } = await import('../../src/node/reset.js');
    return !(await resetState(ctx)).nothingToDo;
  },
  async run(ctx) {
    const r = await import('../../src/node/reset.js');
    await r.removeStaticPods(ctx);
    await r.stopKubelet(ctx);
    await r.removePodSandboxes(ctx);
    await r.unmountKubeletDir(ctx);
    await r.removeEtcdData(ctx);
    await r.removeKubeletClientCerts(ctx);
    await r.removeLedgerFiles(ctx);
    await r.removePodNetwork(ctx);
    await r.removeTemporaryFiles(ctx);
    await r.removeState(ctx);
  },
};
