/**
 * `kubeboot reset [--force] [--dry-run]` and `kubeboot reset phase …`: refuses a node another tool set up, asks first
 * (kubeadm's question) unless --force or --dry-run, refusing to ask when stdin is not a terminal (exit 3, "pass
 * --force") because a CI job would otherwise hang; then runs the reset workflow (phases/index.ts) with --dry-run's
 * effects twin or the real effects.
 */
import type { Command } from 'commander';
import { DryRunEffects } from '../effects/dryrun.js';
import { gatherHostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import { ConfigError, OperationError } from '../errors.js';
import { nodeContext, type ResetContext } from '../node/context.js';
import { checkResettable, closingText, resetResult } from '../node/reset.js';
import { loadNodeSpec } from '../node/spec.js';
import { Output } from '../workflow/events.js';
import { runWorkflow } from '../workflow/run.js';
import { readConfigFile } from './init.js';
import { makeReporter, stderr, stdout, useListr } from './io.js';
import { flagValue, globalOptions } from './options.js';
import { askYesNo } from './prompt.js';
import { interruptSignal } from './signals.js';

export const RESET_QUESTION = '[reset] Are you sure you want to proceed? [y/N]: ';

export async function runReset(cmd: Command, filter?: string): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as { force?: boolean; config?: string; certDir?: string };
  const dryRun = flagValue(cmd, 'dry-run') === true;
  const waitTimeoutMs = flagValue(cmd, 'wait-timeout') as number | undefined;
  const skip = (flagValue(cmd, 'skip-phases') as string[] | undefined) ?? [];
  if (o.certDir !== undefined && !o.certDir.startsWith('/')) throw new ConfigError(`--cert-dir: "${o.certDir}" is not an absolute path`);
  const file = o.config !== undefined ? await readConfigFile(o.config) : undefined;
  const source = new RealEffects(g.root);
  const host = await gatherHostFacts(source);
  const ls = await loadNodeSpec(source, host, { command: 'reset', file, flags: o.certDir !== undefined ? { 'cert-dir': o.certDir } : {}, unknownNode: 'defaults' });
  // a node another tool set up is refused before anything is asked
  const target = await checkResettable(source, ls.spec);

  if (!o.force && !dryRun && target === 'ledger') {
    if (!process.stdin.isTTY) {
      throw new ConfigError('refusing to reset without confirmation: standard input is not a terminal, so kubeboot cannot ask "Are you sure you want to proceed? [y/N]"', [], {
        hint: 'pass --force (-f) to reset without the question, or --dry-run to see what would be removed',
      });
    }
    // with --output json stdout carries only JSON lines: the question goes to stderr
    const ask = g.output === 'json' ? process.stderr : process.stdout;
    (g.output === 'json' ? stderr : stdout).write(`[reset] WARNING: Changes made to this host by 'kubeboot init' will be reverted${g.root ? ` (under --root ${g.root})` : ''}.\n`);
    if (!(await askYesNo(process.stdin, ask, RESET_QUESTION))) {
      throw new OperationError('aborted reset operation', { hint: 'nothing was changed' });
    }
  }

  const reporter = makeReporter(g);
  const out = new Output(reporter, dryRun);
  for (const w of ls.warnings) out.warn(w);
  const fx = dryRun ? new DryRunEffects(g.root) : source;
  if (dryRun) out.log('dryrun', 'Would reset this node; nothing is changed');
  const ctx: ResetContext = nodeContext({
    spec: ls.spec,
    host,
    fx,
    out,
    options: { dryRun, root: g.root, verbose: g.verbose, waitTimeoutMs, signal: interruptSignal(), configSource: ls.source },
  });
  const { RESET_PHASES } = await import('../../phases/index.js');
  const result = await runWorkflow({ tree: RESET_PHASES, ctx, filter, skip, signal: interruptSignal(), listr: useListr(g) });
  if (fx instanceof DryRunEffects) {
    for (const r of fx.records) {
      if (r.action === 'exec') out.log('reset', `Would run: ${r.detail}`);
      else if (r.action === 'wait') out.log('reset', `Would wait for ${r.detail}`);
    }
  }
  const data = resetResult(ctx);
  if (!data.nothingToDo && !filter) closingText(ctx);
  out.emit({ type: 'result', command: filter ? `reset phase ${filter}` : 'reset', data: { ...data, configuration: ls.source, phasesRun: result.ran, phasesSkipped: result.skipped } });
  reporter.close?.();
}
