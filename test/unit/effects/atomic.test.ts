import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DryRunEffects } from '../../../src/effects/dryrun.js';
import { RealEffects } from '../../../src/effects/real.js';
import { tempDir } from '../../helpers/tmp.js';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'atomic-writer.js');

describe('atomic writes', () => {
  it('no partial file when the writer is killed with SIGKILL mid-write (30 trials)', async (t) => {
    const root = tempDir(t);
    const target = '/etc/kubernetes/manifests/kube-apiserver.yaml';
    const real = path.join(root, target);
    let sawA = 0;
    let sawB = 0;
    for (let trial = 0; trial < 30; trial++) {
      const child = spawn(process.execPath, [WRITER, root, target], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8');
      await new Promise<void>((res) =>
        child.stdout.on('data', (d: string) => {
          out += d;
          // the first trial kills only after a whole write (so that at least one is seen whatever the disk's speed);
          // the others at a random point once the writer runs
          if (out.includes(trial === 0 ? 'wrote\n' : 'ready\n')) res();
        }),
      );
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 60)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      const dir = path.dirname(real);
      // on a loaded machine the kill can come before the writer's first mkdir: then there is nothing to check
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (name === 'kube-apiserver.yaml') continue;
        assert.ok(name.startsWith('.') && name.endsWith('.tmp'), `leftover file the kubelet would run: ${name}`);
      }
      let data: Buffer | undefined;
      try {
        data = readFileSync(real);
      } catch {
        data = undefined;
      }
      if (data) {
        assert.equal(data.length, 4 * 1024 * 1024, `trial ${trial}: partial file of ${data.length} bytes`);
        const first = data[0];
        assert.ok(data.every((x) => x === first), `trial ${trial}: mixed content`);
        if (first === 0x61) sawA++;
        else sawB++;
        assert.equal(statSync(real).mode & 0o777, 0o600);
      }
    }
    assert.ok(sawA + sawB > 0, 'the writer never completed a write: the test proves nothing');
  });

  it('writes through a dot-prefixed temp file, sets the mode, and reports unchanged bytes', async (t) => {
    const root = tempDir(t);
    const fx = new RealEffects(root);
    assert.equal(await fx.writeFileAtomic('/etc/kubernetes/admin.conf', 'x', 0o600), 'written');
    assert.equal(statSync(path.join(root, 'etc/kubernetes/admin.conf')).mode & 0o777, 0o600);
    assert.equal(await fx.writeFileAtomic('/etc/kubernetes/admin.conf', 'x', 0o600), 'unchanged');
    assert.equal(await fx.writeFileAtomic('/etc/kubernetes/admin.conf', 'y', 0o600), 'written');
    assert.deepEqual(readdirSync(path.join(root, 'etc/kubernetes')), ['admin.conf']);
    await fx.writeFileAtomic('/etc/kubernetes/pki/ca.crt', 'c', 0o644);
    assert.equal(statSync(path.join(root, 'etc/kubernetes/pki/ca.crt')).mode & 0o777, 0o644);
  });

  it('an unchanged file with a wrong mode gets the right mode', async (t) => {
    const root = tempDir(t);
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    writeFileSync(path.join(root, 'etc/f'), 'same', { mode: 0o644 });
    const fx = new RealEffects(root);
    assert.equal(await fx.writeFileAtomic('/etc/f', 'same', 0o600), 'unchanged');
    assert.equal(statSync(path.join(root, 'etc/f')).mode & 0o777, 0o600);
  });

  it('mkdir gives only the directory asked for its mode; missing parents get 0755; an existing one is left', async (t) => {
    const root = tempDir(t);
    const fx = new RealEffects(root);
    await fx.mkdir('/etc/kubernetes/kubeboot', 0o700);
    const mode = (p: string) => statSync(path.join(root, p)).mode & 0o777;
    assert.equal(mode('etc/kubernetes/kubeboot'), 0o700);
    assert.equal(mode('etc/kubernetes'), 0o755, 'a 0700 state directory does not make /etc/kubernetes 0700');
    assert.equal(mode('etc'), 0o755);
    await fx.mkdir('/etc/kubernetes', 0o700);
    assert.equal(mode('etc/kubernetes'), 0o755, 'an existing directory keeps its mode');
  });

  it('dry-run reads the source, writes only into its own directory, and records commands', async (t) => {
    const src = tempDir(t);
    mkdirSync(path.join(src, 'etc/kubernetes'), { recursive: true });
    writeFileSync(path.join(src, 'etc/kubernetes/admin.conf'), 'old');
    const dry = new DryRunEffects(src, tempDir(t));
    assert.equal((await dry.readFile('/etc/kubernetes/admin.conf'))?.toString(), 'old');
    assert.equal(await dry.writeFileAtomic('/etc/kubernetes/admin.conf', 'old', 0o600), 'unchanged');
    assert.equal(await dry.writeFileAtomic('/etc/kubernetes/admin.conf', 'new', 0o600), 'written');
    assert.equal((await dry.readFile('/etc/kubernetes/admin.conf'))?.toString(), 'new');
    assert.equal(readFileSync(path.join(src, 'etc/kubernetes/admin.conf'), 'utf8'), 'old', 'the source is untouched');
    const r = await dry.exec('systemctl', ['restart', 'kubelet']);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(dry.records.filter((x) => x.action === 'exec').map((x) => x.detail), ['systemctl restart kubelet']);
    assert.deepEqual(await dry.listDir('/etc/kubernetes'), ['admin.conf']);
  });
});
