/**
 * Wall time a run spends waiting on something outside kubeboot: the node (the kubelet starting pods, the API server
 * answering, a port freeing up, a retry's pause) and key generation (OpenSSL's threads, started ahead). Waits that
 * overlap count once, per kind and in all, so `total − waited` is the time kubeboot itself was working.
 */
export type AwayKind = 'node' | 'keys';

interface Span {
  active: number;
  since: number;
  total: number;
}

export class AwayClock {
  private readonly all: Span = { active: 0, since: 0, total: 0 };
  private readonly kinds = new Map<AwayKind, Span>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Runs `wait` and counts its wall time as time away (of this kind). */
  async time<T>(kind: AwayKind, wait: () => Promise<T>): Promise<T> {
    const span = this.kinds.get(kind) ?? { active: 0, since: 0, total: 0 };
    this.kinds.set(kind, span);
    const t = this.now();
    for (const s of [this.all, span]) if (s.active++ === 0) s.since = t;
    try {
      return await wait();
    } finally {
      const end = this.now();
      for (const s of [this.all, span]) if (--s.active === 0) s.total += end - s.since;
    }
  }

  /** Milliseconds away so far, in all and per kind (a wait still running counts up to now). */
  report(): { readonly waitedMs: number; readonly byKind: Readonly<Record<AwayKind, number>> } {
    const t = this.now();
    const ms = (s: Span | undefined) => (s === undefined ? 0 : Math.round(s.total + (s.active > 0 ? t - s.since : 0)));
    return { waitedMs: ms(this.all), byKind: { node: ms(this.kinds.get('node')), keys: ms(this.kinds.get('keys')) } };
  }
}
