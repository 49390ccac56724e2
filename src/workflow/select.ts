/**
 * Which phases run (kubeadm's runner rules): everything by default; a filter (`init phase X`) keeps X and
 * its descendants; each --skip-phases entry removes that phase and its descendants; skip beats filter.
 * `X/all` names X's whole subtree. An unknown name is an error before anything runs.
 */
import { ConfigError } from '../errors.js';
import { flatten, type FlatPhase, type Phase } from './phase.js';

export function normalisePhaseName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('/all') ? n.slice(0, -4) : n;
}

function inSubtree(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

export interface Selection<C> {
  readonly list: readonly FlatPhase<C>[];
  /** paths that will run */
  readonly run: ReadonlySet<string>;
}

export function selectPhases<C>(
  tree: readonly Phase<C>[],
  filter: string | undefined,
  skip: readonly string[],
): Selection<C> {
  const list = flatten(tree);
  const known = new Set(list.map((f) => f.path));
  const bad: string[] = [];
  const check = (raw: string): string | undefined => {
    const n = normalisePhaseName(raw);
    if (n === '' || !known.has(n)) {
      bad.push(raw);
      return undefined;
    }
    return n;
  };
  const f = filter === undefined ? undefined : check(filter);
  const skips = skip.filter((s) => s.trim() !== '').map(check).filter((x): x is string => x !== undefined);
  if (bad.length > 0) {
    const names = list.filter((x) => !x.phase.hidden || true).map((x) => x.path);
    throw new ConfigError(
      bad.map((b) => `invalid phase name: ${b}`).join('; '),
      [`valid phase names: ${names.join(', ')}`],
    );
  }
  const run = new Set<string>();
  for (const item of list) {
    if (f !== undefined && !inSubtree(item.path, f)) continue;
    if (skips.some((s) => inSubtree(item.path, s))) continue;
    run.add(item.path);
  }
  return { list, run };
}
