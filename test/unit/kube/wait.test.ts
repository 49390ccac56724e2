import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxAttempts, Nudger, poll } from '../../../src/kube/wait.js';
import { RealEffects } from '../../../src/effects/real.js';
import { FakeEffects } from '../../helpers/fake-effects.js';

describe('poll (manual clock, no real sleeps)', () => {
  it('first try at once, then every interval until ok', async () => {
    const fx = new FakeEffects();
    const t0 = fx.clock;
    const seen: number[] = [];
    const r = await poll(fx, {
      name: 'x',
      timeoutMs: 10_000,
      intervalMs: 100,
      probe: async () => {
        seen.push(fx.clock - t0);
        return fx.clock - t0 >= 300 ? { ok: true } : { ok: false, error: 'not yet' };
      },
    });
    assert.deepEqual(seen, [0, 100, 200, 300]);
    assert.equal(r.ok, true);
    assert.equal(r.attempts, 4);
    assert.equal(r.elapsedMs, 300);
  });

  it('times out with the last error, reporting only error changes', async () => {
    const fx = new FakeEffects();
    const changes: string[] = [];
    let n = 0;
    const r = await poll(fx, {
      name: 'x',
      timeoutMs: 1000,
      intervalMs: 100,
      probe: async () => {
        n++;
        if (n === 3) throw new Error('boom');
        return { ok: false, error: n < 3 ? 'refused' : 'status 500' };
      },
      onErrorChange: (e) => changes.push(e),
    });
    assert.equal(r.ok, false);
    assert.equal(r.lastError, 'status 500');
    assert.deepEqual(changes, ['refused', 'boom', 'status 500']);
    assert.equal(r.elapsedMs, 1000);
    assert.ok(r.attempts <= maxAttempts(1000, 100));
  });

  it('is bounded even when the clock does not move', async () => {
    const fx = new FakeEffects();
    fx.sleep = async () => undefined; // a broken clock
    const r = await poll(fx, { name: 'x', timeoutMs: 500, intervalMs: 100, probe: async () => ({ ok: false }) });
    assert.equal(r.ok, false);
    assert.equal(r.attempts, maxAttempts(500, 100));
  });

  it('the probe gets the remaining time to bound its requests', async () => {
    const fx = new FakeEffects();
    const rem: number[] = [];
    await poll(fx, {
      name: 'x',
      timeoutMs: 250,
      intervalMs: 100,
      probe: async (r) => {
        rem.push(r);
        return { ok: false };
      },
    });
    // a last try at the deadline itself (something that got ready during the last interval still counts)
    assert.deepEqual(rem, [250, 150, 50, 1]);
  });

  it('a varying interval (never below intervalMs)', async () => {
    const fx = new FakeEffects();
    const t0 = fx.clock;
    const seen: number[] = [];
    let slow = true;
    await poll(fx, {
      name: 'x',
      timeoutMs: 10_000,
      intervalMs: 10,
      nextIntervalMs: () => (slow ? 50 : 1),
      probe: async () => {
        seen.push(fx.clock - t0);
        if (seen.length === 3) slow = false;
        return { ok: seen.length === 5 };
      },
    });
    assert.deepEqual(seen, [0, 50, 100, 110, 120]);
  });

  it('a nudge cuts the current sleep short (real clock, 5 s interval)', async () => {
    const fx = new RealEffects();
    const nudger = new Nudger();
    let n = 0;
    const started = Date.now();
    const r = await poll(fx, {
      name: 'x',
      timeoutMs: 10_000,
      intervalMs: 5000,
      nudger,
      probe: async () => {
        n++;
        if (n === 1) setTimeout(() => nudger.nudge(), 20);
        return { ok: n === 2 };
      },
    });
    assert.equal(r.ok, true);
    assert.ok(Date.now() - started < 2000, `woke after ${Date.now() - started} ms`);
  });
});
