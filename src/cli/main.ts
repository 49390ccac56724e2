#!/usr/bin/env node
/** The only process.exit: run the CLI, turn any error into a message and an exit code. */
import { ExitCode, KubebootError } from '../errors.js';
import { requestStop } from './signals.js';

/**
 * kubeadm's verbosity flag takes a level (`-v 5`, `--v=5`); kubeboot's `-v` is on or off. The kubeadm forms are
 * accepted and mean `-v`, so that a command line copied from kubeadm runs.
 */
function normalizeVerbosity(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (/^--?v=\d+$/.test(a)) out.push('-v');
    else if ((a === '-v' || a === '--v') && /^\d+$/.test(args[i + 1] ?? '')) {
      out.push('-v');
      i++;
    } else out.push(a === '--v' ? '-v' : a);
  }
  return out;
}

const argv = normalizeVerbosity(process.argv.slice(2));
const verbose = argv.includes('-v') || argv.includes('--verbose');
const json = argv.some((a, i) => a === '--output=json' || (a === '--output' && argv[i + 1] === 'json'));

function onSignal(sig: NodeJS.Signals): void {
  if (!requestStop(sig)) {
    process.stderr.write(`\n${sig} again: stopping now\n`);
    if (json) process.stdout.write(`${JSON.stringify({ type: 'error', message: `interrupted by ${sig} (twice): stopped at once`, exitCode: ExitCode.interrupt, time: new Date().toISOString() })}\n`);
    process.exit(ExitCode.interrupt);
  }
  process.stderr.write(`\n${sig}: stopping after the current step; a wait stops now (press Ctrl-C again to stop at once)\n`);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// A reader that goes away (`kubeboot init | head`) must not stop a run halfway through its phases: what would have
// been printed to the closed pipe is dropped and the run goes on to its normal exit code. Other errors still throw.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

function report(err: unknown): number {
  const code = err instanceof KubebootError ? err.exitCode : ExitCode.internal;
  const e = err as Error;
  // the lists may sit on a cause (the runner wraps a phase's error): take the first found down the chain
  const fromChain = (key: 'issues' | 'failures' | 'checks'): readonly unknown[] => {
    for (let c: unknown = err; c instanceof Error; c = (c as { cause?: unknown }).cause) {
      const v = (c as unknown as Record<string, unknown>)[key];
      if (Array.isArray(v) && v.length > 0) return v as unknown[];
    }
    return [];
  };
  const issues = fromChain('issues') as readonly string[];
  const failures = fromChain('failures') as readonly string[];
  const checks = fromChain('checks') as unknown as readonly { name: string; message: string }[];
  const hint = err instanceof KubebootError ? err.hint : undefined;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ type: 'error', message: e?.message ?? String(err), exitCode: code, ...(hint ? { hint } : {}), ...(issues.length ? { issues } : {}), ...(failures.length ? { failures } : {}), ...(checks.length ? { checks: checks.map((c) => ({ check: c.name, severity: 'error', message: c.message })) } : {}), time: new Date().toISOString() })}\n`,
    );
  }
  let text = `error: ${e?.message ?? String(err)}\n`;
  for (const line of [...failures, ...issues]) text += `\t${line}\n`;
  if (hint) text += `hint: ${hint}\n`;
  if (code === ExitCode.internal) text += 'this is a bug in kubeboot; please report it with the output of the same command run with -v\n';
  if ((verbose || code === ExitCode.internal) && e?.stack) {
    text += `${e.stack}\n`;
    let cause = (e as { cause?: unknown }).cause;
    while (cause instanceof Error) {
      text += `caused by: ${cause.stack ?? cause.message}\n`;
      cause = (cause as { cause?: unknown }).cause;
    }
  }
  process.stderr.write(text);
  return code;
}

/** The names from the program down to c (without the program's own name). */
function ancestry(c: { name(): string; parent: unknown }): string[] {
  const names: string[] = [];
  for (let x = c as { name(): string; parent: unknown } | null; x && x.parent; x = x.parent as typeof x) names.unshift(x.name());
  return names;
}

async function main(): Promise<number> {
  const { buildProgram } = await import('./program.js');
  const { CommanderError } = await import('commander');
  const program = await buildProgram();
  program.exitOverride();
  const walk = (c: typeof program) => {
    c.exitOverride();
    // commander says only "unknown command 'x'" (with a suggestion when one is close): name the valid ones too
    const subs = c.commands.filter((x) => !(x as unknown as { _hidden?: boolean })._hidden).map((x) => x.name());
    if (subs.length > 0) {
      const where = ['kubeboot', ...ancestry(c)].join(' ');
      c.configureOutput({
        outputError: (text, write) => write(text.startsWith('error: unknown command') ? `${text}valid commands of '${where}': ${subs.join(', ')}\n` : text),
      });
    }
    c.commands.forEach((x) => walk(x as typeof program));
  };
  walk(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      // commander has printed its message to stderr already; --output json still gets its one error event
      if (json) process.stdout.write(`${JSON.stringify({ type: 'error', message: err.message.replace(/^error: /, ''), exitCode: ExitCode.config, time: new Date().toISOString() })}\n`);
      return ExitCode.config;
    }
    return report(err);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => process.exit(report(err)),
);
