/**
 * Command-line building for the static pods (kubeadm's util/arguments.go), pure.
 *
 * Defaults are merged with the user's extraArgs (v1beta4 lists; v1beta3 maps were already converted to
 * name-sorted lists). Every default whose name appears in extraArgs is dropped and every extraArgs entry is
 * kept, duplicates included. The order comes from the version table:
 *  - 'sorted': everything sorted by name, then value (kubeadm before kubernetes#135400);
 *  - 'overrides-first': the user's entries first, in the order given, then the remaining defaults sorted by
 *    name, then value (kubernetes#135400 and its backports; `--service-account-issuer` is order-sensitive).
 * Each entry becomes `--name=value` (an empty value gives `--name=`).
 */
import type { ExtraArgsOrder } from '../versions.js';

export interface Arg {
  readonly name: string;
  readonly value: string;
}

function byNameThenValue(a: Arg, b: Arg): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  return 0;
}

/** The merged argument list, in the order the version table asks for. */
export function mergeArgs(defaults: readonly Arg[], overrides: readonly Arg[], order: ExtraArgsOrder): Arg[] {
  const overridden = new Set(overrides.map((a) => a.name));
  const kept = defaults.filter((a) => !overridden.has(a.name));
  if (order === 'sorted') return [...overrides, ...kept].sort(byNameThenValue);
  return [...overrides, ...[...kept].sort(byNameThenValue)];
}

/** `--name=value` strings. */
export function argsToFlags(args: readonly Arg[]): string[] {
  return args.map((a) => `--${a.name}=${a.value}`);
}

/** binary + merged flags: the container command. */
export function buildCommand(binary: string, defaults: readonly Arg[], overrides: readonly Arg[], order: ExtraArgsOrder): string[] {
  return [binary, ...argsToFlags(mergeArgs(defaults, overrides, order))];
}

/** The value of the last entry named `name` (kubeadm's GetArgValue searches backwards), or undefined. */
export function lastArgValue(args: readonly Arg[], name: string): string | undefined {
  for (let i = args.length - 1; i >= 0; i--) {
    const a = args[i] as Arg;
    if (a.name === name) return a.value;
  }
  return undefined;
}

/** Sets (replaces) a default: one entry for `name` with `value`, keeping the list's other entries. */
export function setArg(args: Arg[], name: string, value: string): Arg[] {
  const i = args.findIndex((a) => a.name === name);
  if (i >= 0) {
    const out = args.filter((a, j) => j === i || a.name !== name);
    out[out.findIndex((a) => a.name === name)] = { name, value };
    return out;
  }
  return [...args, { name, value }];
}

/** Parses `--name=value` items of a command back into args (the binary and malformed items are skipped). */
export function parseFlags(command: readonly string[]): Arg[] {
  const out: Arg[] = [];
  for (const item of command) {
    if (!item.startsWith('--')) continue;
    const eq = item.indexOf('=');
    if (eq <= 2) continue;
    out.push({ name: item.slice(2, eq), value: item.slice(eq + 1) });
  }
  return out;
}
