/** reset preflight: reads kubeboot's ledger (the confirmation question is the CLI's, before the workflow). */
import type { ResetContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const resetPreflight: Phase<ResetContext> = {
  name: 'preflight',
  short: 'Run reset pre-flight checks',
  long: 'Read the ledger of the files kubeboot wrote (/etc/kubernetes/kubeboot/files.json). Without one, a node another tool set up is refused and a clean node has nothing to reset.',
  flags: ['config', 'cert-dir', 'dry-run', 'force'],
  async run(ctx) {
    const { resetPreflight: step } = await import('../../src/node/reset.js');
    await step(ctx);
  },
};
