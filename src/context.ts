/** The readonly context every init phase receives; built once before the first phase. */
import type { ClusterSpec } from './config/spec.js';
import type { HostFacts } from './effects/host.js';
import type { Effects, WriteStatus } from './effects/types.js';
import type { Output } from './workflow/events.js';
import { slot, type Slots } from './workflow/slots.js';
import type { WorkflowContext } from './workflow/run.js';

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
