/**
 * Crash consistency for the two files of a pair (cert + key, sa.key + sa.pub). Each file is written atomically, but
 * a process killed between the two writes leaves half a pair, and kubeadm's existing-file rules then refuse it (a
 * lone key is "not overwritten"; a certificate without its key would even mean external-CA mode).
 *
 * The fix is an intent record, written atomically under /etc/kubernetes/kubeboot/ BEFORE the first half:
 *   { pair, key: {path, sha256}, cert: {path, sha256, pem, mode, previousSha256} }
 * then the key, then the certificate, then the record is removed. A later run (init or `certs renew`) that finds the
 * record rolls the pair forward: when the key on disk is byte for byte the one the record names, and the certificate
 * is still absent (or still the previous one, for a renewal), it writes the certificate from the record (public data)
 * and says so. Any other state means the record is stale (killed before the key was written, or the files were
 * changed since): the record is dropped and the usual rules apply. Nothing that is not byte-identical to what
 * kubeboot was writing is ever touched, so a user's file is never overwritten silently.
 */
import { createHash } from 'node:crypto';
import type { Effects, WriteStatus } from '../effects/types.js';
import { STATE_DIR } from '../node/state.js';

export interface PairIntent {
  readonly kind: 'KubebootPairIntent';
  readonly version: 1;
  readonly pair: string;
  readonly key: { readonly path: string; readonly sha256: string; readonly mode: number };
  readonly cert: {
    readonly path: string;
    readonly sha256: string;
    readonly mode: number;
    /** the public half, written again when the run was killed after the key */
    readonly pem: string;
    /** the certificate that was there before (renewal), null when there was none */
    readonly previousSha256: string | null;
  };
}

export interface PairFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export type Writer = (path: string, content: string, mode: number) => Promise<WriteStatus>;

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Where the intent record of a pair lives (one per pair name: "ca", "etcd-server", "sa", …). */
export function intentPath(pair: string): string {
  return `${STATE_DIR}/intent-${pair.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
}

/** Writes key then certificate (or sa.key then sa.pub) under an intent record. */
export async function writePair(fx: Effects, pair: string, key: PairFile, cert: PairFile, write: Writer): Promise<void> {
  const previous = await fx.readFile(cert.path);
  const intent: PairIntent = {
    kind: 'KubebootPairIntent',
    version: 1,
    pair,
    key: { path: key.path, sha256: sha(key.content), mode: key.mode },
    cert: { path: cert.path, sha256: sha(cert.content), mode: cert.mode, pem: cert.content, previousSha256: previous ? sha(previous) : null },
  };
  await fx.mkdir(STATE_DIR, 0o700);
  await fx.writeFileAtomic(intentPath(pair), `${JSON.stringify(intent, null, 2)}\n`, 0o600);
  await write(key.path, key.content, key.mode);
  await write(cert.path, cert.content, cert.mode);
  await fx.remove(intentPath(pair));
}

export type Recovery =
  /** no record for this pair (or one for other paths, left alone) */
  | { readonly outcome: 'none' }
  /** the pair was complete; the record was only left behind */
  | { readonly outcome: 'complete' }
  /** the key was written, the certificate was not: it was written now from the record */
  | { readonly outcome: 'completed'; readonly path: string }
  /** the record does not describe the disk (killed before the key, or files changed since): dropped */
  | { readonly outcome: 'stale' };

function parseIntent(raw: Buffer): PairIntent | undefined {
  try {
    const v = JSON.parse(raw.toString('utf8')) as PairIntent;
    if (v.kind !== 'KubebootPairIntent' || typeof v.key?.path !== 'string' || typeof v.cert?.pem !== 'string') return undefined;
    return v;
  } catch {
    return undefined;
  }
}

/** Looks for an intent record of this pair and rolls the pair forward when it can (see the file comment). */
export async function recoverPair(fx: Effects, pair: string, paths: { key: string; cert: string }, write: Writer): Promise<Recovery> {
  const file = intentPath(pair);
  const raw = await fx.readFile(file);
  if (!raw) return { outcome: 'none' };
  const intent = parseIntent(raw);
  if (!intent) {
    await fx.remove(file);
    return { outcome: 'stale' };
  }
  if (intent.key.path !== paths.key || intent.cert.path !== paths.cert) return { outcome: 'none' };
  const [key, cert] = await Promise.all([fx.readFile(paths.key), fx.readFile(paths.cert)]);
  if (!key || sha(key) !== intent.key.sha256) {
    await fx.remove(file);
    return { outcome: 'stale' };
  }
  const certSha = cert ? sha(cert) : null;
  if (certSha === intent.cert.sha256) {
    await fx.remove(file);
    return { outcome: 'complete' };
  }
  if (certSha !== intent.cert.previousSha256) {
    await fx.remove(file);
    return { outcome: 'stale' };
  }
  await write(intent.cert.path, intent.cert.pem, intent.cert.mode);
  await fx.remove(file);
  return { outcome: 'completed', path: intent.cert.path };
}
