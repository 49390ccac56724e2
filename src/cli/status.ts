/**
 * `kubeboot status [-o text|json|yaml] [--config FILE]`: the health of the control plane on this node, one line per
 * check (src/node/status.ts). Exit 0 when every check is ok, 1 when one failed or could not be made (the error names
 * them), 2 when kubeboot did not set this node up (no recorded configuration, no admin.conf).
 */
import type { Command } from 'commander';
import { gatherHostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import { ConfigError, InterruptError, OperationError } from '../errors.js';
import { nodeContext } from '../node/context.js';
import { loadNodeSpec } from '../node/spec.js';
import { nodeStatus, problemSummary, statusText } from '../node/status.js';
import { Output, type KubebootEvent } from '../workflow/events.js';
import { makeReporter, stderr, stdout } from './io.js';
import { flagValue, globalOptions } from './options.js';
import { KUBEBOOT_VERSION } from './program.js';
import { readConfigOption } from './regenerate.js';
import { interruptSignal } from './signals.js';

export async function runStatus(cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as { config?: string };
  const format = (flagValue(cmd, 'o') as 'text' | 'json' | 'yaml' | undefined) ?? (g.output === 'json' ? undefined : 'text');
  if (g.output === 'json' && format !== undefined && format !== 'json') {
    throw new ConfigError(`-o ${format} cannot be combined with --output json: use one of them`, [], {
      hint: '-o json|yaml prints the status document; --output json prints kubeboot\'s JSON events, the last one a result holding that document',
    });
  }
  const file = await readConfigOption(o);
  const fx = new RealEffects(g.root);
  const host = await gatherHostFacts(fx);
  const node = await loadNodeSpec(fx, host, { command: 'status', file, unknownNode: 'refuse' });

  // warnings go to stderr (text, -o json|yaml) or are events (--output json); stdout holds only the status
  const events = format === undefined ? makeReporter(g) : undefined;
  const warnings: string[] = [...node.warnings];
  const collect = { emit: (e: KubebootEvent) => void (e.type === 'warning' ? warnings.push(e.message) : undefined) };
  const ctx = nodeContext({ spec: node.spec, host, fx, out: new Output(collect), options: { dryRun: false, root: g.root, verbose: g.verbose, waitTimeoutMs: undefined } });
  const report = await nodeStatus(ctx, { configuration: node.source, kubebootVersion: KUBEBOOT_VERSION });
  // the probes end within their 2 s; a Ctrl-C meanwhile ends the command with 130, not with a verdict
  const signal = interruptSignal();
  if (signal.aborted) throw new InterruptError(String(signal.reason ?? 'SIGINT'));

  if (events) {
    for (const w of warnings) events.emit({ type: 'warning', message: w });
    events.emit({ type: 'result', command: 'status', data: { ...report } });
    events.close?.();
  } else {
    for (const w of warnings) stderr.write(`[status] WARNING: ${w}\n`);
    if (format === 'json') stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (format === 'yaml') stdout.write((await import('../render/yaml.js')).toYaml(report));
    else {
      stdout.write(statusText(report));
      if (report.healthy) stdout.write(`healthy: all ${report.checks.length} checks ok\n`);
    }
  }
  if (!report.healthy) {
    throw new OperationError(`the control plane on this node is not healthy: ${problemSummary(report)}`, {
      hint: `'kubeboot status -o json' gives every check's details; 'journalctl -u kubelet' and 'crictl ps -a' show what the kubelet runs`,
    });
  }
}
