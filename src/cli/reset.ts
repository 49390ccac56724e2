/**
 * `kubeboot reset [--force] [--dry-run]`: asks first (kubeadm's question) unless --force or --dry-run; refuses to
 * ask when stdin is not a terminal (exit 3, "pass --force"), because a CI job would otherwise hang on the question.
 */
import type { Command } from 'commander';
import { gatherHostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import { ConfigError, OperationError } from '../errors.js';
import { loadLifecycleSpec } from '../node/spec.js';
import { askYesNo } from './prompt.js';
import { resetNode } from '../node/reset.js';
import { parseDuration } from '../util/duration.js';
import { Output } from '../workflow/events.js';
import { readConfigFile } from './init.js';
import { makeReporter, stderr, stdout } from './io.js';
import { globalOptions } from './options.js';
import { interruptSignal } from './signals.js';

export const RESET_QUESTION = '[reset] Are you sure you want to proceed? [y/N]: ';

export async function runReset(cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as { force?: boolean; dryRun?: boolean; config?: string; certDir?: string; waitTimeout?: string };
  const dryRun = o.dryRun === true;
  let waitTimeoutMs: number | undefined;
  if (o.waitTimeout !== undefined) {
    waitTimeoutMs = parseDuration(o.waitTimeout);
    if (waitTimeoutMs === undefined || waitTimeoutMs <= 0) throw new ConfigError(`--wait-timeout: "${o.waitTimeout}" is not a positive duration (e.g. 4m0s, 90s)`);
  }
  if (o.certDir !== undefined && !o.certDir.startsWith('/')) throw new ConfigError(`--cert-dir: "${o.certDir}" is not an absolute path`);
  const file = o.config !== undefined ? await readConfigFile(o.config) : undefined;
  const fx = new RealEffects(g.root);
  const host = await gatherHostFacts(fx);
  const ls = await loadLifecycleSpec(fx, host, file, o.certDir);

  if (!o.force && !dryRun) {
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
  const out = new Output(reporter);
  for (const w of ls.warnings) out.warn(w);
  if (dryRun) out.log('dryrun', 'Would reset this node; nothing is changed');
  const result = await resetNode({
    fx,
    out,
    spec: ls.spec,
    dryRun,
    root: g.root,
    ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}),
    signal: interruptSignal(),
  });
  out.emit({ type: 'result', command: 'reset', data: { ...result, configuration: ls.source } });
  reporter.close?.();
}
