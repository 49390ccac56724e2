/**
 * Waiting is policy plus an injected clock (DESIGN habit 11): a probe, an interval and a deadline, with time
 * and sleep taken from the effects so that unit tests run on a manual clock. Every loop is bounded by the
 * number of intervals that fit into the timeout.
 */
import type { Effects } from '../effects/types.js';

export interface ProbeOutcome {
  readonly ok: boolean;
  /** why it is not ok yet (kept as the target's last error) */
  readonly error?: string;
}

/** Cuts a poll's current sleep short (another observer saw a reason to look again at once). */
export class Nudger {
  private readonly waiters = new Set<() => void>();
  nudge(): void {
    for (const w of [...this.waiters]) w();
  }
  /** @internal */
  subscribe(fn: () => void): () => void {
    this.waiters.add(fn);
    return () => this.waiters.delete(fn);
  }
}

export interface PollSpec {
  readonly name: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** one attempt; `remainingMs` bounds any request it makes */
  probe(remainingMs: number): Promise<ProbeOutcome>;
  /** called when the last error text changes (not on every attempt) */
  onErrorChange?(error: string, elapsedMs: number): void;
  /** the interval to use after this attempt, when it varies (at least 1 ms; intervalMs must be the smallest it returns) */
  nextIntervalMs?(): number;
  /** wakes the poll before its interval is over (the attempt count stays bounded by the timeout) */
  readonly nudger?: Nudger;
}

export interface PollResult {
  readonly name: string;
  readonly ok: boolean;
  readonly elapsedMs: number;
  readonly attempts: number;
  readonly lastError: string | undefined;
}

/** The most attempts a poll can make: one at once, then one per interval until the deadline. */
export function maxAttempts(timeoutMs: number, intervalMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs / Math.max(1, intervalMs)) + 1);
}

/**
 * The least time one request of a probe is given. A poll's last look comes at its deadline, with next to nothing
 * left of the wait; a request cut to that would fail with its own timeout, and "timed out after 1 ms" would become
 * the wait's last word in place of what the target showed (a crash, a status). So a wait can run over its timeout by
 * up to this much, once.
 */
export const LAST_LOOK_MS = 1000;

/** The timeout of one request made by a probe: what remains of the wait, at most `capMs`, at least LAST_LOOK_MS. */
export function requestTimeout(remainingMs: number, capMs: number): number {
  return Math.min(capMs, Math.max(LAST_LOOK_MS, remainingMs));
}

/** Nudged polls may try more often than once per interval; this still bounds them. */
const NUDGE_ALLOWANCE = 64;

/** Polls until the probe is ok or the timeout has passed; the first try is immediate. */
export async function poll(fx: Effects, spec: PollSpec, signal?: AbortSignal): Promise<PollResult> {
  const start = fx.now().getTime();
  const limit = maxAttempts(spec.timeoutMs, spec.intervalMs) + (spec.nudger ? NUDGE_ALLOWANCE : 0);
  let lastError: string | undefined;
  let attempts = 0;
  while (attempts < limit) {
    if (signal?.aborted) break;
    attempts++;
    const elapsedBefore = fx.now().getTime() - start;
    let outcome: ProbeOutcome;
    try {
      outcome = await spec.probe(Math.max(1, spec.timeoutMs - elapsedBefore));
    } catch (err) {
      outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    const elapsed = fx.now().getTime() - start;
    if (outcome.ok) return { name: spec.name, ok: true, elapsedMs: elapsed, attempts, lastError };
    const error = outcome.error ?? 'not ready';
    if (error !== lastError) {
      lastError = error;
      spec.onErrorChange?.(error, elapsed);
    }
    const remaining = spec.timeoutMs - elapsed;
    if (remaining <= 0) break;
    const wake = new AbortController();
    const onAbort = () => wake.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const off = spec.nudger?.subscribe(() => wake.abort());
    try {
      const interval = Math.max(spec.intervalMs, spec.nextIntervalMs?.() ?? spec.intervalMs);
      await fx.sleep(Math.min(interval, remaining), wake.signal);
    } catch {
      // woken early (nudged) or aborted
    } finally {
      off?.();
      signal?.removeEventListener('abort', onAbort);
    }
    if (signal?.aborted) break;
  }
  return { name: spec.name, ok: false, elapsedMs: fx.now().getTime() - start, attempts, lastError };
}
