/**
 * What the PKI code needs from its caller — effects, the spec (paths, key type, validity, SANs), output, the run's
 * slots (one start time, the key pool, the list of files) and --root for the commands an error suggests — rather than
 * a whole command context. Init's context has all of it; `kubeboot certs renew` builds one of its own.
 */
import type { ClusterSpec } from '../config/spec.js';
import type { Effects } from '../effects/types.js';
import type { FileWriter } from '../workflow/files.js';

export interface PkiEnv extends FileWriter {
  readonly spec: ClusterSpec;
  readonly options: { readonly root: string };
}

/**
 * kubeadm's external-CA rule: ca.crt present and ca.key absent. The KCM then gets empty cluster-signing flags, the
 * service-account keys are the user's, and kubeconfigs cannot be signed.
 */
export async function usingExternalCA(fx: Effects, certificatesDir: string): Promise<boolean> {
  const [crt, key] = await Promise.all([fx.stat(`${certificatesDir}/ca.crt`), fx.stat(`${certificatesDir}/ca.key`)]);
  return crt !== undefined && key === undefined;
}
