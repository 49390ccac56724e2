/**
 * Differences from kubeadm that kubeboot keeps on purpose, each with the reason. The oracle test fails on every
 * difference not listed here, and on every entry here that no longer matches anything (so that the list cannot
 * hide a new difference or outlive a fixed one).
 */
import type { Difference } from './compare.js';

export interface Allowed {
  /** configuration names this applies to ('*' for all) */
  readonly configs: readonly string[] | '*';
  readonly file: RegExp;
  readonly field: RegExp;
  /** optional test on the two values, when only some values are expected */
  readonly values?: (kubeadm: string, kubeboot: string) => boolean;
  /** why kubeboot does not (cannot, or should not) do what kubeadm does — kubeadm's own reason where there is one */
  readonly why: string;
}

export const ALLOWED: readonly Allowed[] = [
  {
    configs: '*',
    file: /^etc\/kubernetes\/kubeboot(\/(config\.yaml|files\.json))?$/,
    field: /^presence$/,
    values: (kubeadm) => kubeadm === 'absent',
    why:
      "kubeboot's own records, which kubeadm has no counterpart for on disk: files.json is the ledger of what kubeboot " +
      'wrote (so that `kubeboot reset` removes exactly that and restores what it replaced), config.yaml the configuration ' +
      '`init` used (read again by regenerate, certs renew and check-expiration). kubeadm keeps its configuration in the ' +
      'cluster instead (the kube-system/kubeadm-config ConfigMap of its upload-config phase, which needs a running API ' +
      'server) and its reset deletes a fixed list of paths.',
  },
];

export function allowedBy(d: Difference): Allowed | undefined {
  return ALLOWED.find(
    (a) =>
      (a.configs === '*' || a.configs.includes(d.config)) &&
      a.file.test(d.file) &&
      a.field.test(d.field) &&
      (a.values === undefined || a.values(d.kubeadm, d.kubeboot)),
  );
}
