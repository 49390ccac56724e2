/** Reporter selection for a command: listr2 in a TTY, plain lines otherwise, JSON lines with --output json. */
import type { Reporter } from '../workflow/events.js';
import { JsonReporter, TextReporter } from '../workflow/reporters.js';
import type { GlobalOptions } from './options.js';

export const stdout = { write: (t: string) => void process.stdout.write(t) };
export const stderr = { write: (t: string) => void process.stderr.write(t) };

export function useListr(g: GlobalOptions): boolean {
  return g.output === 'text' && Boolean(process.stdout.isTTY) && !process.env.CI && process.env.TERM !== 'dumb';
}

export function makeReporter(g: GlobalOptions): Reporter {
  return g.output === 'json' ? new JsonReporter(stdout) : new TextReporter(stdout, stderr, g.verbose);
}
