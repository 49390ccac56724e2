/**
 * One SIGTERM (what `timeout` and CI runners send) or Ctrl-C ends a wait at once: exit 130, and under --output json a
 * final error event. Under --root with no kubelet, wait-control-plane would otherwise poll for its whole timeout.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { CLI } from '../helpers/paths.js';
import { cleanEnv } from '../helpers/cli.js';
import { initRoot, newNode, show } from '../unit/lifecycle/support.js';

describe('interrupting a wait', () => {
  it('the first SIGTERM ends wait-control-plane at once with exit 130 and a JSON error event', async (t) => {
    const n = await newNode(t);
    const init = await initRoot(n);
    assert.equal(init.code, 0, show(init));
    const child = spawn(process.execPath, [CLI, 'init', 'phase', 'wait-control-plane', '--root', n.root, '--config', n.config, '--output', 'json', '--wait-timeout', '60s'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // signal once the wait has begun (it says what it waits for); a run that never gets there is stopped after 30 s
    let sentAt = 0;
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (sentAt === 0 && /Waiting for a (healthy|running) kubelet/.test(stdout)) {
        sentAt = Date.now();
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(guard);
    const tookMs = Date.now() - sentAt;
    assert.ok(sentAt > 0, `the wait began\n${stdout}\n${stderr}`);
    assert.equal(code, 130, `${stdout}\n${stderr}`);
    assert.ok(tookMs < 5000, `stopped ${tookMs} ms after the signal (the wait timeout is 60 s)`);
    const events = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; exitCode?: number; message?: string });
    const last = events.at(-1);
    assert.equal(last?.type, 'error');
    assert.equal(last?.exitCode, 130);
    assert.match(last?.message ?? '', /interrupted by SIGTERM/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });
});
