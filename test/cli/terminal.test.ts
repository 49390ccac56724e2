/**
 * The built CLI on a real terminal (a pty from util-linux's `script`): listr2's tree on a normal one, kubeadm-style
 * plain lines on one that reports 0 columns (listr2 would draw one character per line there).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { CLI } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { hasTool } from '../helpers/tools.js';

/** Runs the CLI on a pty of the given width; returns what the terminal got (CR LF turned into LF). */
function onTerminal(columns: number, args: readonly string[]): Promise<{ code: number | null; out: string }> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols ${columns} rows 40; ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    // a clean environment: no CI (under CI=true kubeboot never draws the tree), a TERM that can draw it
    const c = spawn('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, out: out.replace(/\r\n/g, '\n') }));
    c.stdin.end();
  });
}

describe('output on a terminal', () => {
  const args = (root: string) => ['init', 'phase', 'certs', 'ca', '--root', root, '--node-name', 'cp1', '--apiserver-advertise-address', '192.0.2.10', '--cri-socket', 'unix:///var/run/containerd/containerd.sock'];

  it('a terminal that reports 0 columns gets plain lines, as a pipe does, not one character per line', async (t) => {
    if (!hasTool('script')) {
      if (process.env.CI) throw new Error('CI must run this test: it needs script (util-linux, Debian package bsdutils)');
      t.skip('skipped: needs script (util-linux) to make a pty');
      return;
    }
    // the same command on a normal terminal draws listr2's tree: the pty works and the tree is what 0 columns changes
    const wide = await onTerminal(100, args(tempDir(t)));
    assert.equal(wide.code, 0, wide.out);
    assert.match(wide.out, /\u001b\[/, 'listr2 draws with escape sequences on a 100-column terminal');
    assert.doesNotMatch(wide.out, /^\[certs\] Generating "ca" certificate and key$/m);

    for (const columns of [0, 5]) {
      const r = await onTerminal(columns, args(tempDir(t)));
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /^\[certs\] Generating "ca" certificate and key$/m, `${columns} columns: plain lines\n${r.out}`);
      assert.doesNotMatch(r.out, /\u001b\[/, `${columns} columns: no cursor movement`);
      const short = r.out.split('\n').filter((l) => l.trim().length > 0 && l.trim().length <= 2);
      assert.deepEqual(short, [], `${columns} columns: no line of one or two characters`);
    }
  });
});
