/**
 * What kubeboot keeps about the node it set up, under /etc/kubernetes/kubeboot/ (0700 dir, 0600 files):
 * - config.yaml: the effective configuration of the last successful run (v1beta4 documents, defaults filled,
 *   plus the KubeletConfiguration document); `kubeboot regenerate` reads it when no --config is given.
 * - files.json: the ledger of every file kubeboot wrote; `kubeboot reset` removes only these.
 */
import type { ClusterSpec } from './config/spec.js';
import type { Effects } from './effects/types.js';
import { toYamlDocuments } from './render/yaml.js';

export const STATE_DIR = '/etc/kubernetes/kubeboot';
export const RECORDED_CONFIG = `${STATE_DIR}/config.yaml`;
export const LEDGER = `${STATE_DIR}/files.json`;

export interface LedgerEntry {
  readonly mode: string; // "0600"
  /** the phase (or command) that first wrote it */
  readonly by: string;
}

export interface Ledger {
  readonly kind: 'KubebootFileLedger';
  readonly version: 1;
  readonly files: Readonly<Record<string, LedgerEntry>>;
}

export async function readLedger(fx: Effects): Promise<Ledger> {
  const raw = await fx.readFile(LEDGER);
  if (!raw) return { kind: 'KubebootFileLedger', version: 1, files: {} };
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as Ledger;
    if (parsed.kind !== 'KubebootFileLedger' || typeof parsed.files !== 'object') throw new Error('not a ledger');
    return parsed;
  } catch (err) {
    throw new Error(`${LEDGER} is not a kubeboot file ledger (${(err as Error).message}); move it away to continue`);
  }
}

/** Adds files to the ledger (first writer wins) and writes it atomically; returns the new ledger. */
export async function recordFiles(
  fx: Effects,
  files: readonly { path: string; mode: number; by: string }[],
): Promise<Ledger> {
  const cur = await readLedger(fx);
  const next: Record<string, LedgerEntry> = { ...cur.files };
  for (const f of files) {
    if (!next[f.path]) next[f.path] = { mode: `0${f.mode.toString(8)}`, by: f.by };
  }
  const sorted = Object.fromEntries(Object.keys(next).sort().map((k) => [k, next[k] as LedgerEntry]));
  const ledger: Ledger = { kind: 'KubebootFileLedger', version: 1, files: sorted };
  await fx.mkdir(STATE_DIR, 0o700);
  await fx.writeFileAtomic(LEDGER, `${JSON.stringify(ledger, null, 2)}\n`, 0o600);
  return ledger;
}

/** Removes paths from the ledger (after reset removed them). */
export async function forgetFiles(fx: Effects, paths: readonly string[]): Promise<void> {
  const cur = await readLedger(fx);
  const drop = new Set(paths);
  const files = Object.fromEntries(Object.entries(cur.files).filter(([p]) => !drop.has(p)));
  await fx.writeFileAtomic(LEDGER, `${JSON.stringify({ ...cur, files }, null, 2)}\n`, 0o600);
}

/** The effective configuration as YAML: what init ran with, defaults filled in. */
export function renderRecordedConfig(spec: ClusterSpec): string {
  const docs: unknown[] = [spec.documents.init, spec.documents.cluster];
  if (spec.kubeletConfiguration) docs.push(spec.kubeletConfiguration);
  return `# Written by kubeboot: the effective configuration of the last successful run on this node.\n# kubeboot regenerate reads it when no --config is given. Edit it only through kubeboot.\n${toYamlDocuments(docs)}`;
}

export async function recordConfig(fx: Effects, spec: ClusterSpec): Promise<'written' | 'unchanged'> {
  await fx.mkdir(STATE_DIR, 0o700);
  return fx.writeFileAtomic(RECORDED_CONFIG, renderRecordedConfig(spec), 0o600);
}
