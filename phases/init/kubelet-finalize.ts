/** kubelet-finalize: kubelet.conf points at the kubelet's rotatable client certificate once the kubelet keeps one. */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

const FLAGS = ['config', 'cert-dir', 'dry-run'] as const;

export const kubeletFinalize: Phase<InitContext> = {
  name: 'kubelet-finalize',
  short: 'Updates settings relevant to the kubelet after TLS bootstrap',
  flags: [...FLAGS],
  phases: [
    {
      name: 'enable-client-cert-rotation',
      short: 'Enable kubelet client certificate rotation',
      long: 'When /var/lib/kubelet/pki/kubelet-client-current.pem exists, rewrite /etc/kubernetes/kubelet.conf to use it instead of the embedded client certificate, and restart the kubelet.',
      flags: [...FLAGS],
      async run(ctx) {
        const { enableClientCertRotation } = await import('../../src/node/cluster.js');
        await enableClientCertRotation(ctx);
      },
    },
  ],
};
