/** upload-certs: with --upload-certs, the control-plane CAs and service-account keys, encrypted, in the kubeadm-certs Secret (deleted with a two-hour token). */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const uploadCerts: Phase<InitContext> = {
  name: 'upload-certs',
  short: 'Upload certificates to kubeadm-certs',
  long: 'Upload control plane certificates to the kubeadm-certs Secret, encrypted with the certificate key (AES-256-GCM), owned by a bootstrap token that expires in two hours. Needs --upload-certs.',
  flags: ['config', 'upload-certs', 'certificate-key', 'skip-certificate-key-print', 'dry-run'],
  async run(ctx) {
    const { uploadCerts: step } = await import('../../src/node/cluster.js');
    await step(ctx);
  },
};
