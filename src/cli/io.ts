/** Reporter selection for a command: listr2 in a TTY, plain lines otherwise, JSON lines with --output json. */
import type { Reporter } from '../workflow/events.js';
import { JsonReporter, TextReporter } from '../workflow/reporters.js';
import type { GlobalOptions } from './options.js';

export const stdout = { write: (t: string) => void process.stdout.write(t) };
export const stderr = { write: (t: string) => void process.stderr.write(t) };

/**
 * listr2 draws its tree to the terminal's width: on a terminal that reports 0 columns (a serial console, some CI
 * ptys) or a very narrow one it wraps every character onto a line of its own. Below this width kubeboot prints the
 * plain lines it prints on a pipe.
 */
export const MIN_TREE_COLUMNS = 20;

/** The terminal as useListr sees it: process.stdout and the environment unless a test gives others. */
export interface TerminalInfo {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export function useListr(g: GlobalOptions, out: TerminalInfo = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  const columns = out.columns ?? 0;
  return g.output === 'text' && Boolean(out.isTTY) && Number.isFinite(columns) && columns >= MIN_TREE_COLUMNS && !env.CI && env.TERM !== 'dumb';
}

export function makeReporter(g: GlobalOptions): Reporter {
  return g.output === 'json' ? new JsonReporter(stdout) : new TextReporter(stdout, stderr, g.verbose);
}
