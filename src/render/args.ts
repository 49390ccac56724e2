/**
 * Command-line building for the static pods (kubeadm's util/arguments.go), pure.
 *
 * Defaults are merged with the user's extraArgs (v1beta4 lists; v1beta3 maps were already converted to
 * name-sorted lists) as kubeadm's ArgumentsToCommand does in every supported patch (v1.34.11, v1.35.8, v1.36.5,
 * v1.37.1, read from its source and confirmed by the kubeadm oracle test): the defaults whose name no extraArgs entry
 * has, sorted by name then value, then every extraArgs entry in the order given, duplicates included. Each entry
 * becomes `--name=value` (an empty value gives `--name=`).
 */

export interface Arg {
  readonly name: string;
  readonly value: string;
}

function byNameThenValue(a: Arg, b: Arg): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  return 0;
}

/** The merged argument list: the remaining defaults sorted, then the user's entries in their order. */
export function mergeArgs(defaults: readonly Arg[], overrides: readonly Arg[]): Arg[] {
  const overridden = new Set(overrides.map((a) => a.name));
  const kept = defaults.filter((a) => !overridden.has(a.name));
  return [...[...kept].sort(byNameThenValue), ...overrides];
}

/** `--name=value` strings. */
export function argsToFlags(args: readonly Arg[]): string[] {
  return args.map((a) => `--${a.name}=${a.value}`);
}

/** binary + merged flags: the container command. */
export function buildCommand(binary: string, defaults: readonly Arg[], overrides: readonly Arg[]): string[] {
  return [binary, ...argsToFlags(mergeArgs(defaults, overrides))];
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
