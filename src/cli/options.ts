/** Turns commander's parsed options into typed values; every error names the flag. */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { FLAGS, FlagError, allowedWithConfig, flagDef, parseFlagValue, type ConfigFlags, type FlagDef, type FlagValue } from '../config/flags.js';

export interface GlobalOptions {
  root: string;
  output: 'text' | 'json';
  verbose: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { root?: string; output?: string; verbose?: boolean };
  const output = o.output ?? 'text';
  if (output !== 'text' && output !== 'json') {
    throw new ConfigError(`--output: invalid value "${output}": valid values are text, json`);
  }
  return { root: o.root === undefined ? '' : checkRoot(o.root), output, verbose: Boolean(o.verbose) };
}

/**
 * --root must name a directory (made when missing). An empty value would mean "the host" — `--root "$ROOT"` with
 * ROOT unset would then write into the real /etc/kubernetes — so it is refused. (A stat of the user's path, like
 * reading --config: cli/ may look at the paths the user typed.)
 */
function checkRoot(root: string): string {
  if (root.trim() === '') {
    throw new ConfigError('--root: empty path: give the directory to write under (made when missing), or leave --root out to work on this host', [], {
      hint: 'in a script, check that the variable you pass to --root is set',
    });
  }
  let st: import('node:fs').Stats | undefined;
  try {
    st = statSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`--root: cannot use "${root}": ${(err as Error).message}`);
  }
  if (st && !st.isDirectory()) throw new ConfigError(`--root: "${root}" is not a directory`);
  return root;
}

/** Names of the flags the user actually typed on this command. */
export function givenFlags(cmd: Command): string[] {
  const out: string[] = [];
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    if (cmd.getOptionValueSource(key) === 'cli') out.push(opt.long?.replace(/^--/, '') ?? key);
  }
  return out;
}

export function checkConfigMixing(cmd: Command): void {
  const given = givenFlags(cmd);
  if (!given.includes('config')) return;
  const bad = given.filter((n) => n !== 'config' && !allowedWithConfig(n));
  if (bad.length > 0) {
    throw new ConfigError(`can not mix '--config' with arguments [${bad.join(' ')}]`, [], {
      hint: 'put these values into the configuration file instead (see kubeboot config print init-defaults)',
    });
  }
}

/** Parses a raw value by the flag table; a bad value is a ConfigError (exit 3) that names the flag. */
export function parseFlagOrConfigError(def: FlagDef, raw: unknown): FlagValue {
  try {
    return parseFlagValue(def, raw);
  } catch (err) {
    if (err instanceof FlagError) throw new ConfigError(err.message, [], err.hint ? { hint: err.hint } : {});
    throw err;
  }
}

/** A flag's value as the user typed it, parsed by the flag table; undefined when not given. Errors are exit 3. */
export function flagValue(cmd: Command, name: string): FlagValue | undefined {
  const def = flagDef(name);
  const key = def.name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  const raw = (cmd.opts() as Record<string, unknown>)[key];
  if (raw === undefined) return undefined;
  // a negated flag (--no-rollback) has commander's default true: only an explicit --no-x counts as given
  if (def.kind === 'negated' && cmd.getOptionValueSource(key) !== 'cli') return undefined;
  return parseFlagOrConfigError(def, raw);
}

/** The given flags of this command that fill config fields (the flag table's paths), parsed. */
export function configFlags(cmd: Command, only?: readonly string[]): ConfigFlags {
  const out: Record<string, FlagValue> = {};
  for (const opt of cmd.options) {
    const name = opt.long?.replace(/^--(no-)?/, '');
    if (!name || (only && !only.includes(name))) continue;
    const def = FLAGS[name];
    if (!def?.path) continue;
    const v = flagValue(cmd, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** --wait-for and --wait-timeout (init). */
export function waitOptions(cmd: Command): { waitFor: string[]; waitTimeoutMs: number | undefined } {
  const waitFor = (flagValue(cmd, 'wait-for') as string[] | undefined) ?? ['all'];
  return { waitFor, waitTimeoutMs: flagValue(cmd, 'wait-timeout') as number | undefined };
}
