/**
 * What kubeboot keeps about the node it set up, under /etc/kubernetes/kubeboot/ (0700 dir, 0600 files):
 * - config.yaml: the effective configuration of the last successful run (v1beta4 documents, defaults filled,
 *   plus the KubeletConfiguration document); `kubeboot regenerate` reads it when no --config is given.
 * - files.json: the ledger of every file kubeboot wrote; `kubeboot reset` removes only these.
 */
import { isAbsolute, resolve } from 'node:path';
import type { ClusterSpec } from '../config/spec.js';
import type { Effects, WriteStatus } from '../effects/types.js';
import { PreflightError } from '../errors.js';
import { toYamlDocuments } from '../render/yaml.js';
import type { AwayClock } from '../util/away.js';

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
    throw new PreflightError(`${LEDGER} is not a kubeboot file ledger (${(err as Error).message})`, [], {
      hint: `kubeboot keeps the list of the files it wrote there; move the file away to continue (reset then treats the node as one kubeboot did not set up)`,
    });
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
export function renderRecordedConfig(spec: ClusterSpec, tokens?: readonly string[]): string {
  // A relative patches directory was relative to the cwd of that run; regenerate may run from anywhere, so the
  // record holds it absolute (kubeadm reads a relative --patches against the cwd too).
  const { init } = spec.documents;
  const dir = init.patches?.directory;
  let recordedInit = dir && !isAbsolute(dir) ? { ...init, patches: { ...init.patches, directory: resolve(dir) } } : init;
  // the bootstrap tokens this run used (generated ones included), so that init run again keeps them
  if (tokens && init.bootstrapTokens) {
    recordedInit = { ...recordedInit, bootstrapTokens: init.bootstrapTokens.map((t, i) => ({ ...t, token: tokens[i] ?? t.token })) };
  }
  const docs: unknown[] = [recordedInit, spec.documents.cluster];
  if (spec.kubeletConfiguration) docs.push(spec.kubeletConfiguration);
  if (spec.kubeProxyConfiguration) docs.push(spec.kubeProxyConfiguration);
  if (spec.documents.kubeboot) docs.push(spec.documents.kubeboot);
  // Read back like any other config file: parsed, validated and defaulted again every time.
  return `# Written by kubeboot: the effective configuration of the last successful run on this node.\n# kubeboot regenerate reads it when no --config is given. Edit it only through kubeboot.\n${toYamlDocuments(docs)}`;
}

export async function recordConfig(fx: Effects, spec: ClusterSpec, tokens?: readonly string[]): Promise<'written' | 'unchanged'> {
  await fx.mkdir(STATE_DIR, 0o700);
  return fx.writeFileAtomic(RECORDED_CONFIG, renderRecordedConfig(spec, tokens), 0o600);
}

/** The bootstrap tokens the recorded configuration holds (init reuses them for tokens its configuration leaves empty). */
export async function recordedTokens(fx: Effects): Promise<string[]> {
  const raw = await fx.readFile(RECORDED_CONFIG);
  if (!raw) return [];
  try {
    const { parseYamlDocuments } = await import('../render/yaml.js');
    const init = parseYamlDocuments(raw.toString('utf8')).find((d) => (d as { kind?: unknown } | null)?.kind === 'InitConfiguration') as { bootstrapTokens?: { token?: unknown }[] } | undefined;
    return (init?.bootstrapTokens ?? []).map((t) => (typeof t.token === 'string' ? t.token : ''));
  } catch {
    return [];
  }
}

/**
 * Effects that put a file in the ledger BEFORE kubeboot writes it (crash consistency): a run killed between two
 * writes leaves a ledger that lists every file it may have written, so that a re-run's preflight and `kubeboot reset`
 * recognise them as kubeboot's. A path is added only when the write will change the disk (absent file or other
 * bytes): a user's file that already holds exactly these bytes is not claimed. Files under the state directory
 * (the ledger itself, intent records) are not listed. Everything else is passed through.
 */
export class LedgerTrackingEffects implements Effects {
  readonly describe: string;
  private known: Set<string> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly inner: Effects,
    /** the phase or command that writes (the ledger's `by`) */
    private readonly by: () => string,
  ) {
    this.describe = inner.describe;
  }

  realPath(hostPath: string): string {
    return this.inner.realPath(hostPath);
  }
  readFile(hostPath: string): Promise<Buffer | undefined> {
    return this.inner.readFile(hostPath);
  }
  stat(hostPath: string): ReturnType<Effects['stat']> {
    return this.inner.stat(hostPath);
  }
  listDir(hostPath: string): Promise<string[] | undefined> {
    return this.inner.listDir(hostPath);
  }
  resolvePath(hostPath: string): Promise<string | undefined> {
    return this.inner.resolvePath(hostPath);
  }
  async writeFileAtomic(hostPath: string, content: string | Buffer, mode: number): Promise<WriteStatus> {
    if (!hostPath.startsWith(`${STATE_DIR}/`)) {
      const run = this.queue.then(async () => {
        this.known ??= new Set(Object.keys((await readLedger(this.inner)).files));
        if (this.known.has(hostPath)) return;
        const cur = await this.inner.readFile(hostPath);
        const data = typeof content === 'string' ? Buffer.from(content) : content;
        if (cur && cur.equals(data)) return;
        await recordFiles(this.inner, [{ path: hostPath, mode, by: this.by() }]);
        this.known.add(hostPath);
      });
      this.queue = run.catch(() => undefined);
      await run;
    }
    return this.inner.writeFileAtomic(hostPath, content, mode);
  }
  mkdir(hostPath: string, mode: number): Promise<void> {
    return this.inner.mkdir(hostPath, mode);
  }
  remove(hostPath: string): Promise<void> {
    return this.inner.remove(hostPath);
  }
  rename(fromHostPath: string, toHostPath: string): Promise<void> {
    return this.inner.rename(fromHostPath, toHostPath);
  }
  exec(...a: Parameters<Effects['exec']>): ReturnType<Effects['exec']> {
    return this.inner.exec(...a);
  }
  which(command: string): Promise<string | undefined> {
    return this.inner.which(command);
  }
  http(...a: Parameters<Effects['http']>): ReturnType<Effects['http']> {
    return this.inner.http(...a);
  }
  httpStream(...a: Parameters<Effects['httpStream']>): ReturnType<Effects['httpStream']> {
    return this.inner.httpStream(...a);
  }
  listeningProcess(port: number): Promise<{ pid: number; command: string } | undefined> {
    return this.inner.listeningProcess(port);
  }
  portFree(port: number, host?: string): Promise<boolean> {
    return this.inner.portFree(port, host);
  }
  now(): Date {
    return this.inner.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.inner.sleep(ms, signal);
  }
  resolveName(server: string, name: string, timeoutMs: number): Promise<readonly string[]> {
    return this.inner.resolveName(server, name, timeoutMs);
  }
  waitForNode<T>(description: string, wait: () => Promise<T>): Promise<T | undefined> {
    return this.inner.waitForNode(description, wait);
  }
  get away(): AwayClock {
    return this.inner.away;
  }
}

/** kubeboot's own atomic-write temp file name: `.<name>.<12 hex>.tmp` (src/effects/real.ts). */
export const KUBEBOOT_TEMP_FILE = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes temp files an interrupted (SIGKILLed) write left in the given directories; only names matching kubeboot's
 * own pattern are touched. Returns the removed host paths.
 */
export async function removeStaleTempFiles(fx: Effects, dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of [...new Set(dirs)]) {
    let names: string[] | undefined;
    try {
      names = await fx.listDir(dir);
    } catch {
      continue;
    }
    for (const n of names ?? []) {
      if (!KUBEBOOT_TEMP_FILE.test(n)) continue;
      const p = `${dir}/${n}`;
      if ((await fx.stat(p))?.kind !== 'file') continue;
      await fx.remove(p);
      removed.push(p);
    }
  }
  return removed;
}
