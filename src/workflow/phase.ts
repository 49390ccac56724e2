/** A phase is a value: one file per phase in phases/, sub-phases generated from data tables. */
export interface Phase<C> {
  /** lowercase CLI name; nested names join with "/" (certs/etcd-ca) */
  readonly name: string;
  readonly short: string;
  readonly long?: string;
  /** hidden phases run and can be skipped by name, but get no `init phase` command */
  readonly hidden?: boolean;
  /** the flags (names from cli/flags.ts) the `init phase …` command for this phase accepts */
  readonly flags?: readonly string[];
  readonly phases?: readonly Phase<C>[];
  readonly runIf?: (ctx: C) => boolean | Promise<boolean>;
  readonly run?: (ctx: C) => Promise<void>;
}

export interface FlatPhase<C> {
  readonly path: string;
  readonly phase: Phase<C>;
  readonly depth: number;
  readonly parent: string | undefined;
}

/** Depth first: parent, then its children in order (kubeadm's execution list). */
export function flatten<C>(tree: readonly Phase<C>[], prefix = '', depth = 0): FlatPhase<C>[] {
  const out: FlatPhase<C>[] = [];
  for (const p of tree) {
    const path = prefix ? `${prefix}/${p.name}` : p.name;
    out.push({ path, phase: p, depth, parent: prefix || undefined });
    if (p.phases) out.push(...flatten(p.phases, path, depth + 1));
  }
  return out;
}
