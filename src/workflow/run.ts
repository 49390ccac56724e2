/** Runs a selected phase list. The same per-phase step serves plain/JSON output and listr2's tree. */
import { InterruptError, PhaseError } from '../errors.js';
import type { Output } from './events.js';
import type { FlatPhase, Phase } from './phase.js';
import { selectPhases } from './select.js';

export interface WorkflowContext {
  readonly out: Output;
}

export interface RunWorkflowOptions<C extends WorkflowContext> {
  readonly tree: readonly Phase<C>[];
  readonly ctx: C;
  readonly filter?: string | undefined;
  readonly skip: readonly string[];
  readonly signal?: AbortSignal | undefined;
  /** use listr2's tree renderer (a TTY and text output) */
  readonly listr?: boolean;
}

export interface WorkflowResult {
  readonly ran: readonly string[];
  readonly skipped: readonly string[];
}

async function step<C extends WorkflowContext>(
  item: FlatPhase<C>,
  selected: ReadonlySet<string>,
  skipped: ReadonlySet<string>,
  ctx: C,
  signal: AbortSignal | undefined,
  result: { ran: string[]; skipped: string[] },
): Promise<'ran' | 'skipped' | 'none'> {
  if (signal?.aborted) throw new InterruptError(String(signal.reason ?? 'SIGINT'));
  if (!selected.has(item.path)) {
    if (skipped.has(item.path)) {
      ctx.out.emit({ type: 'phase', phase: item.path, status: 'skipped', reason: 'skip-phases' });
      result.skipped.push(item.path);
      return 'skipped';
    }
    return 'none';
  }
  const p = item.phase;
  if (p.runIf) {
    let ok: boolean;
    try {
      ok = await p.runIf(ctx);
    } catch (err) {
      throw new PhaseError(item.path, new Error(`error execution run condition for phase ${item.path}: ${(err as Error).message}`));
    }
    if (!ok) {
      ctx.out.emit({ type: 'phase', phase: item.path, status: 'skipped', reason: 'condition' });
      result.skipped.push(item.path);
      return 'skipped';
    }
  }
  if (!p.run) return 'none';
  const start = performance.now();
  ctx.out.emit({ type: 'phase', phase: item.path, status: 'started' });
  ctx.out.currentPhase = item.path;
  try {
    await p.run(ctx);
  } catch (err) {
    ctx.out.emit({ type: 'phase', phase: item.path, status: 'failed', durationMs: Math.round(performance.now() - start) });
    if (err instanceof InterruptError || err instanceof PhaseError) throw err;
    throw new PhaseError(item.path, err);
  } finally {
    ctx.out.currentPhase = undefined;
  }
  ctx.out.emit({ type: 'phase', phase: item.path, status: 'finished', durationMs: Math.round(performance.now() - start) });
  result.ran.push(item.path);
  return 'ran';
}

export async function runWorkflow<C extends WorkflowContext>(opts: RunWorkflowOptions<C>): Promise<WorkflowResult> {
  const sel = selectPhases(opts.tree, opts.filter, opts.skip);
  const skippedByFlag = new Set<string>();
  const all = selectPhases(opts.tree, opts.filter, []);
  for (const p of all.run) if (!sel.run.has(p)) skippedByFlag.add(p);
  const result = { ran: [] as string[], skipped: [] as string[] };
  if (opts.listr) {
    const { runWithListr } = await import('./listr.js');
    await runWithListr(sel.list, (item) => step(item, sel.run, skippedByFlag, opts.ctx, opts.signal, result), sel.run);
  } else {
    for (const item of sel.list) await step(item, sel.run, skippedByFlag, opts.ctx, opts.signal, result);
  }
  return result;
}
