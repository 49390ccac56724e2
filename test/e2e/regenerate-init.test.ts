/**
 * Idempotent init, the manifest part: `kubeboot init` on a node it set up applies a changed manifest through the safe
 * swap (backup, write, wait, rollback) when the component's mirror pod is readable; identical manifests are left alone;
 * without a running kubelet/API server (under --root) the plain write stays.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { configText, type Ports } from '../double/harness.js';
import { freePorts } from '../double/ports.js';
import { AFTER_WAIT } from '../helpers/paths.js';
import {
  assertCleanStaticPodPath,
  backupDirs,
 
  initialised,
  jsonLines,
  manifest,
  podState,
  show,
} from './regenerate-helpers.js';

/** The harness config with one more kube-scheduler flag. */
function withSchedulerFlag(text: string, name: string, value: string): string {
  const out = text.replace(/(scheduler:\n {2}extraArgs:\n)/, `$1    - name: ${name}\n      value: "${value}"\n`);
  assert.notEqual(out, text);
  return out;
}

describe('init on a node kubeboot set up', () => {
  it('a changed manifest goes through the safe swap; an unchanged one is left alone; a crash loop is rolled back', async (t) => {
    const a = await initialised(t);
    if (!a) return;
    const init = (config: string, ...extra: string[]) =>
      runCli(['init', '--root', a.root, '--config', config, '--wait-timeout', '20s', ...extra], { env: cleanEnv(a.env), timeoutMs: 120_000 });

    // the same configuration again: nothing to swap, every manifest unchanged
    const same = await init(a.config, '--output', 'json');
    assert.equal(same.code, 0, show(same));
    const ev = jsonLines(same);
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      assert.equal(ev.find((e) => e.type === 'file' && e.path === `/etc/kubernetes/manifests/${c}.yaml`)?.status, 'unchanged', c);
    }
    assert.deepEqual(backupDirs(a), []);

    // one more scheduler flag: backup, write, wait for the new pod
    const changed = path.join(a.dir, 'changed.yaml');
    writeFileSync(changed, withSchedulerFlag(readFileSync(a.config, 'utf8'), 'v', '2'));
    const before = podState(a, 'kube-scheduler');
    const others = ['etcd', 'kube-apiserver', 'kube-controller-manager'].map((c) => [c, manifest(a, c), podState(a, c).containerID] as const);
    const r = await init(changed);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /\[control-plane\] kube-scheduler: the manifest changes and its pod runs: applying it safely \(backup, write, wait for the new pod, rollback on failure\)/);
    assert.match(r.stdout, /\[rollout\] Backed up the current manifest "\/etc\/kubernetes\/manifests\/kube-scheduler\.yaml" to "\/etc\/kubernetes\/tmp\/kubeboot-backup-manifests-[\d-]+\/kube-scheduler\.yaml"/);
    assert.match(r.stdout, /\[rollout\] kube-scheduler is Ready with the new manifest after /);
    const after = podState(a, 'kube-scheduler');
    assert.notEqual(after.hash, before.hash);
    assert.notEqual(after.containerID, before.containerID);
    assert.ok(manifest(a, 'kube-scheduler').toString().includes('    - --v=2\n'));
    for (const [c, bytes, cid] of others) {
      assert.deepEqual(manifest(a, c), bytes, `${c} untouched`);
      assert.equal(podState(a, c).containerID, cid, `${c} not restarted`);
    }
    const dirs = backupDirs(a);
    assert.equal(dirs.length, 1);
    assert.deepEqual(readFileSync(path.join(a.root, 'etc/kubernetes/tmp', dirs[0] as string, 'kube-scheduler.yaml')).toString().includes('--v=2'), false);
    assert.match(readFileSync(path.join(a.root, 'etc/kubernetes/kubeboot/config.yaml'), 'utf8'), /- name: v\n\s+value: "2"/);
    assertCleanStaticPodPath(a);

    // a change whose pod crash-loops: rolled back, init fails with exit 4, the file holds the old bytes
    a.double.setFault('kube-scheduler', { crashLoop: { exitCode: 2 }, onlyWhenManifestIncludes: '--bogus-flag' });
    t.after(() => a.double.setFault('kube-scheduler', undefined));
    const bad = path.join(a.dir, 'bad.yaml');
    writeFileSync(bad, withSchedulerFlag(readFileSync(changed, 'utf8'), 'bogus-flag', '1'));
    const okBytes = manifest(a, 'kube-scheduler');
    const f = await runCli(['init', '--root', a.root, '--config', bad, '--wait-timeout', '5s'], { env: cleanEnv(a.env), timeoutMs: 120_000 });
    assert.equal(f.code, 4, show(f));
    assert.match(f.stderr, /^error: error execution phase control-plane\/scheduler: kube-scheduler did not run a new Ready container with the new manifest within 5s: .*; rolled back to the previous manifest .*, which is Ready again$/m);
    assert.deepEqual(manifest(a, 'kube-scheduler'), okBytes);
    assert.doesNotMatch(readFileSync(path.join(a.root, 'etc/kubernetes/kubeboot/config.yaml'), 'utf8'), /bogus-flag/, 'a failed init records nothing');
    assertCleanStaticPodPath(a);
  });

  it('under --root without a kubelet or API server, a changed manifest is written plainly (no backup, no wait)', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kubeboot-regen-init-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const root = path.join(dir, 'root');
    const [apiserver, controllerManager, scheduler, etcdClient, etcdPeer, etcdMetrics, kubeletHealthz, kubeletPort] = await freePorts(8);
    const text = configText({ apiserver, controllerManager, scheduler, etcdClient, etcdPeer, etcdMetrics, kubeletHealthz, kubeletPort } as Ports);
    const cfg = path.join(dir, 'c.yaml');
    writeFileSync(cfg, text);
    const args = ['--root', root, '--skip-phases', `kubelet-start,wait-control-plane,${AFTER_WAIT}`, '--ignore-preflight-errors', 'all'];
    const first = await runCli(['init', '--config', cfg, ...args], { timeoutMs: 120_000 });
    assert.equal(first.code, 0, show(first));
    writeFileSync(cfg, withSchedulerFlag(text, 'v', '2'));
    const started = Date.now();
    const r = await runCli(['init', 'phase', 'control-plane', 'scheduler', '--config', cfg, '--root', root], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /\[control-plane\] kube-scheduler: the manifest changes and its pod cannot be checked \(API server https:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED .*\): writing it without waiting for the kubelet/);
    assert.ok(readFileSync(path.join(root, 'etc/kubernetes/manifests/kube-scheduler.yaml'), 'utf8').includes('--v=2'));
    assert.ok(Date.now() - started < 10_000, 'no wait');
    let tmpEntries: string[] = [];
    try {
      tmpEntries = (await import('node:fs')).readdirSync(path.join(root, 'etc/kubernetes/tmp'));
    } catch {
      tmpEntries = [];
    }
    assert.deepEqual(tmpEntries.filter((n) => n.startsWith('kubeboot-backup-')), []);
  });
});
