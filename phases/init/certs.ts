/**
 * certs: the cluster PKI under certificatesDir, one sub-phase per row of the certificate table
 * (src/pki/table.ts) plus `sa`. The PKI code (node-forge, crypto) is loaded inside run, so that
 * `kubeboot --help` stays fast.
 */
import type { InitContext } from '../../src/node/context.js';
import { CERT_TABLE, SA_KEY, type CertRow } from '../../src/pki/table.js';
import type { Phase } from '../../src/workflow/phase.js';

const COMMON_FLAGS = ['cert-dir', 'config', 'kubernetes-version', 'dry-run'] as const;
const NETWORK_FLAGS = [
  'apiserver-advertise-address',
  'control-plane-endpoint',
  'apiserver-cert-extra-sans',
  'service-dns-domain',
  'service-cidr',
] as const;

function certPhase(row: CertRow): Phase<InitContext> {
  return {
    name: row.name,
    short: `Generate the ${row.longName}`,
    long: row.isCA
      ? `Generate the ${row.longName}, and save them into ${row.baseName}.crt and ${row.baseName}.key files. An existing certificate authority is reused (without its key: external CA mode).`
      : `Generate the ${row.longName}, and save them into ${row.baseName}.crt and ${row.baseName}.key files. An existing valid pair is reused; one signed by another CA, expired, lacking a SAN or not matching its key is an error.`,
    flags: row.name === 'apiserver' ? [...COMMON_FLAGS, ...NETWORK_FLAGS] : [...COMMON_FLAGS],
    async run(ctx) {
      const { ensureCertRow } = await import('../../src/pki/certs.js');
      await ensureCertRow(ctx, row);
    },
  };
}

const saPhase: Phase<InitContext> = {
  name: SA_KEY.name,
  short: SA_KEY.short,
  long: `${SA_KEY.short}, and save them into ${SA_KEY.privateFile} and ${SA_KEY.publicFile} files. An existing ${SA_KEY.privateFile} is reused.`,
  // kubeadm gives certs/sa only --cert-dir; kubeboot also takes the config (and so its certificatesDir) and --dry-run
  flags: [...COMMON_FLAGS],
  async run(ctx) {
    const { ensureServiceAccountKey } = await import('../../src/pki/certs.js');
    await ensureServiceAccountKey(ctx);
  },
};

export const certs: Phase<InitContext> = {
  name: 'certs',
  short: 'Certificate generation',
  long: 'Generate the certificate authorities, the certificates signed by them and the service-account key pair, as kubeadm does. Existing files are reused or refused, never overwritten.',
  flags: [...COMMON_FLAGS, ...NETWORK_FLAGS],
  phases: [...CERT_TABLE.map(certPhase), saPhase],
  async run(ctx) {
    ctx.out.log('certs', `Using certificateDir folder "${ctx.spec.paths.certificatesDir}"`);
    const { prestartCertKeys } = await import('../../src/pki/certs.js');
    await prestartCertKeys(ctx);
  },
};
