/** The readonly context every init phase receives; built once before the first phase. */
import type { ClusterSpec } from '../config/spec.js';
import type { HostFacts } from '../effects/host.js';
import type { Effects, WriteStatus } from '../effects/types.js';
import type { Output } from '../workflow/events.js';
import { slot, type Slots } from '../workflow/slots.js';
import type { WorkflowContext } from '../workflow/run.js';

export interface RunOptions {
  readonly dryRun: boolean;
  /** --root DIR ('' for the host) */
  readonly root: string;
  /** lowercased names; 'all' ignores every check */
  readonly ignorePreflightErrors: ReadonlySet<string>;
  readonly verbose: boolean;
  /** --wait-timeout in ms, overriding the config's timeouts */
  readonly waitTimeoutMs: number | undefined;
  /** --wait-for targets */
  readonly waitFor: readonly string[];
  /** aborted by the first Ctrl-C / SIGTERM: a wait (which writes nothing) ends at once */
  readonly signal?: AbortSignal;
}

export interface InitContext extends WorkflowContext {
  readonly spec: ClusterSpec;
  readonly host: HostFacts;
  readonly fx: Effects;
  readonly out: Output;
  readonly options: RunOptions;
  readonly slots: Slots;
}

export interface FileRecord {
  readonly path: string;
  readonly mode: number;
  readonly status: WriteStatus;
  /** the phase that wrote it */
  readonly by: string;
}

/** The user's patch directory as init read and checked it before the first phase (the phases use it, not a re-read). */
export const PRELOADED_PATCHES = slot<import('../render/patches.js').LoadedPatches>('preloaded-patches');

/** Every file the run wrote or left unchanged, in order. */
export const WRITTEN_FILES = slot<FileRecord[]>('written-files');

/** Writes atomically through the effects, reports the file event and records it. */
export async function writeFile(ctx: InitContext, path: string, content: string | Buffer, mode: number): Promise<WriteStatus> {
  const status = await ctx.fx.writeFileAtomic(path, content, mode);
  ctx.out.file(path, mode, status);
  const list = ctx.slots.get(WRITTEN_FILES) ?? [];
  list.push({ path, mode, status, by: ctx.out.currentPhase ?? 'init' });
  ctx.slots.set(WRITTEN_FILES, list);
  return status;
}

/**
 * The static pod path as the kubelet sees it: every entry with its kind, and the contents of the files the kubelet
 * reads (non-dot files). For the hygiene check (src/render/hygiene.ts), from preflight and from the manifest phases.
 */
export async function readStaticPodPath(fx: Effects, dir: string): Promise<import('../render/hygiene.js').StaticPodPathEntry[]> {
  const { kubeletReads } = await import('../render/hygiene.js');
  const names = (await fx.listDir(dir)) ?? [];
  return Promise.all(
    names.map(async (name) => {
      const p = `${dir}/${name}`;
      const st = name.startsWith('.') ? undefined : await fx.stat(p);
      const kind = st?.kind ?? 'other';
      const content = kubeletReads({ name, kind }) ? (await fx.readFile(p))?.toString('utf8') : undefined;
      return { name, kind, content };
    }),
  );
}
