/**
 * The BUILT CLI's `kubeboot regenerate` against the kubelet + API server test double, after a full `init` on the same
 * root: no change, dry run, a kube-apiserver flag through the API outage, JSON, a crash loop rolled back, --no-rollback,
 * a change the kubelet's hash does not see, etcd (real etcd restarted), and the refusals.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli, cleanEnv } from '../helpers/cli.js';
import { configText, type Ports } from '../double/harness.js';
import { AFTER_WAIT } from '../helpers/paths.js';
import {
  assertCleanStaticPodPath,
  backupDirs,
  hostPath,
  initialised,
  jsonLines,
  kb,
  manifest,
  podState,
  recorded,
  show,
  snapshot,
  NODE_NAME,
} from './regenerate-helpers.js';

const MS = '/etc/kubernetes/manifests';

describe('kubeboot regenerate against the test double', () => {
  it('one initialised node, one change after another', async (t) => {
    const a = await initialised(t);
    if (!a) return;

    await t.test('no change: says so, exit 0, touches nothing (bytes, mtimes, no backup dir)', async () => {
      const before = snapshot(a);
      const r = await kb(a, 'regenerate', 'kube-apiserver');
      assert.equal(r.code, 0, show(r));
      assert.ok(r.stdout.includes('[regenerate] Using the configuration recorded at init in "/etc/kubernetes/kubeboot/config.yaml"'), show(r));
      assert.ok(r.stdout.includes(`[regenerate] kube-apiserver: the manifest "${MS}/kube-apiserver.yaml" is up to date; nothing to do`), show(r));
      assert.deepEqual(snapshot(a), before);
      assert.deepEqual(backupDirs(a), []);
      assertCleanStaticPodPath(a);
    });

    await t.test('--dry-run prints the diff and the plan, changes nothing', async () => {
      const before = snapshot(a);
      const pod = podState(a, 'kube-apiserver');
      const r = await kb(a, 'regenerate', 'kube-apiserver', '--apiserver-extra-args', 'v=2', '--dry-run');
      assert.equal(r.code, 0, show(r));
      assert.ok(r.stdout.includes(`--- ${MS}/kube-apiserver.yaml\tcurrent\n+++ ${MS}/kube-apiserver.yaml\tnew\n@@ `), show(r));
      assert.match(r.stdout, /^\+ {4}- --v=2$/m);
      assert.match(r.stdout, /\[dryrun\] Would back up "\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml" to "\/etc\/kubernetes\/tmp\/kubeboot-backup-manifests-<YYYY-MM-DD-HH-MM-SS>\/kube-apiserver\.yaml"/);
      assert.match(r.stdout, /\[dryrun\] Would wait up to 4m0s for a new Ready container in the mirror pod kube-system\/kube-apiserver-kb-e2e/);
      assert.deepEqual(snapshot(a), before);
      assert.deepEqual(backupDirs(a), []);
      assert.deepEqual(podState(a, 'kube-apiserver'), pod, 'the pod was not touched');
    });

    await t.test('a kube-apiserver flag: diff, backup, polls through the API outage, new hash and container, Ready; config recorded', async () => {
      const oldBytes = manifest(a, 'kube-apiserver');
      const before = podState(a, 'kube-apiserver');
      // the new kube-apiserver takes 1.5 s to start: the API server is gone meanwhile
      a.double.setFault('kube-apiserver', { slowStartMs: 1500, onlyWhenManifestIncludes: '--v=2' });
      const r = await kb(a, 'regenerate', 'kube-apiserver', '--apiserver-extra-args', 'v=2', '--wait-timeout', '30s');
      a.double.setFault('kube-apiserver', undefined);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^\+ {4}- --v=2$/m, 'the diff');
      const m = /\[rollout\] Backed up the current manifest "\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml" to "(\/etc\/kubernetes\/tmp\/kubeboot-backup-manifests-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\/kube-apiserver\.yaml)"/.exec(r.stdout);
      assert.ok(m, show(r));
      // the API server goes away mid-restart: a request is refused, reset (while connecting, reading or writing) or cut
      // off (Node's "socket hang up", reported with its code ECONNRESET), depending on when it lands
      assert.match(r.stdout, /\[wait\] the API server does not answer \(expected while kube-apiserver restarts; still waiting\): API server https:\/\/127\.0\.0\.1:\d+: ((connect|read|write) )?(ECONNREFUSED|ECONNRESET|EPIPE)\b/);
      assert.match(r.stdout, /\[wait\] the API server answers again/);
      assert.match(r.stdout, /\[rollout\] kube-apiserver is Ready with the new manifest after [\d.]+m?s \(config hash [0-9a-f]+ → [0-9a-f]+, container/);
      // the double agrees
      const after = podState(a, 'kube-apiserver');
      assert.notEqual(after.hash, before.hash);
      assert.notEqual(after.containerID, before.containerID);
      assert.equal(after.ready, true);
      assert.ok(manifest(a, 'kube-apiserver').toString().includes('    - --v=2\n'));
      // the backup: the old bytes, 0600, in a 0700 directory outside the static pod path
      const backup = hostPath(a, (m as RegExpExecArray)[1] as string);
      assert.deepEqual(readFileSync(backup), oldBytes);
      assert.equal(statSync(backup).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(backup)).mode & 0o777, 0o700);
      // the recorded configuration has the new flag merged into apiServer.extraArgs
      assert.match(recorded(a).toString(), /apiServer:\n(?:.*\n)*? {2}extraArgs:\n(?: {2}- .*\n(?: {4}.*\n)*)*? {2}- name: v\n {4}value: "2"\n/);
      const ledger = JSON.parse(readFileSync(hostPath(a, '/etc/kubernetes/kubeboot/files.json'), 'utf8')) as { files: Record<string, { by: string }> };
      assert.equal(ledger.files[(m as RegExpExecArray)[1] as string]?.by, 'regenerate', 'the backup is in the ledger');
      assertCleanStaticPodPath(a);
      // and now it is the configuration: no change
      const again = await kb(a, 'regenerate', 'kube-apiserver');
      assert.equal(again.code, 0, show(again));
      assert.match(again.stdout, /is up to date; nothing to do/);
    });

    await t.test('--output json: every line is a JSON event, ending with the result', async () => {
      const before = podState(a, 'kube-scheduler');
      const r = await kb(a, 'regenerate', 'kube-scheduler', '--scheduler-extra-args', 'v=4', '--output', 'json');
      assert.equal(r.code, 0, show(r));
      const ev = jsonLines(r);
      assert.ok(ev.some((e) => e.type === 'log' && e.tag === 'diff' && /\n\+ {4}- --v=4\n/.test(e.message ?? '')));
      assert.ok(ev.some((e) => e.type === 'file' && e.status === 'backed-up' && /^\/etc\/kubernetes\/tmp\/kubeboot-backup-manifests-[\d-]+\/kube-scheduler\.yaml$/.test(e.path ?? '')));
      assert.ok(ev.some((e) => e.type === 'file' && e.status === 'written' && e.path === `${MS}/kube-scheduler.yaml`));
      assert.ok(ev.some((e) => e.type === 'wait' && e.target === `kube-scheduler-${NODE_NAME}` && e.status === 'ready' && e.data?.event === 'swap-confirmed'));
      const result = ev.at(-1);
      assert.equal(result?.type, 'result');
      assert.equal(result?.command, 'regenerate kube-scheduler');
      assert.equal(result?.data?.changed, true);
      assert.equal(result?.data?.hashChanged, true);
      assert.equal(result?.data?.hashBefore, before.hash);
      assert.equal(result?.data?.hashAfter, podState(a, 'kube-scheduler').hash);
      assert.deepEqual(result?.data?.recordedConfig, { path: '/etc/kubernetes/kubeboot/config.yaml', status: 'written' });
      assertCleanStaticPodPath(a);
    });

    await t.test('a change that crash-loops is rolled back: exit 4 with the diagnosis, old bytes, old pod Ready, config not recorded', async (st) => {
      a.double.setFault('kube-scheduler', {
        crashLoop: { exitCode: 3, logLines: ['E0101 00:00:00.001 1 run.go:72] "command failed" err="unknown flag: --bogus-flag"'] },
        onlyWhenManifestIncludes: '--bogus-flag',
      });
      st.after(() => a.double.setFault('kube-scheduler', undefined));
      const oldBytes = manifest(a, 'kube-scheduler');
      const oldRecorded = recorded(a);
      const before = podState(a, 'kube-scheduler');
      const dirs = backupDirs(a).length;
      const r = await kb(a, 'regenerate', 'kube-scheduler', '--extra-args', 'bogus-flag=1', '--wait-timeout', '5s');
      assert.equal(r.code, 4, show(r));
      assert.match(r.stdout, /\[wait\] container kube-scheduler of kube-scheduler-kb-e2e restarted \d+ times?; last termination: Error, exit code 3/);
      assert.ok(r.stdout.includes('err="unknown flag: --bogus-flag"'), `crictl's log lines are shown\n${show(r)}`);
      assert.match(r.stdout, /\[wait\] what to run next:\n\tsystemctl status kubelet\n\tjournalctl -xeu kubelet\n\tcrictl --runtime-endpoint/);
      assert.match(r.stdout, /\[rollout\] Rolling back: restoring "\/etc\/kubernetes\/manifests\/kube-scheduler\.yaml" from "\/etc\/kubernetes\/tmp\/kubeboot-backup-manifests-/);
      assert.match(r.stdout, /\[rollout\] kube-scheduler is Ready again with the previous manifest after /);
      assert.match(r.stderr, /^error: kube-scheduler did not run a new Ready container with the new manifest within 5s: kube-scheduler-kb-e2e: not Ready .*last termination: Error, exit code 3.*; rolled back to the previous manifest \(kept in \/etc\/kubernetes\/tmp\/kubeboot-backup-manifests-[\d-]+\/kube-scheduler\.yaml\), which is Ready again$/m);
      assert.match(r.stderr, /^hint: run 'systemctl status kubelet'/m);
      assert.deepEqual(manifest(a, 'kube-scheduler'), oldBytes, 'the old bytes are back');
      assert.deepEqual(recorded(a), oldRecorded, 'the recorded configuration is not updated');
      const after = podState(a, 'kube-scheduler');
      assert.equal(after.ready, true);
      assert.equal(after.hash, before.hash, 'the old pod (same config hash) runs again');
      assert.equal(backupDirs(a).length, dirs + 1);
      assertCleanStaticPodPath(a);
    });

    await t.test('--no-rollback keeps the new file (exit 4); regenerate without flags then goes back to the recorded configuration', async (st) => {
      a.double.setFault('kube-scheduler', { crashLoop: { exitCode: 3 }, onlyWhenManifestIncludes: '--bogus-flag' });
      st.after(() => a.double.setFault('kube-scheduler', undefined));
      const oldBytes = manifest(a, 'kube-scheduler');
      const oldRecorded = recorded(a);
      const r = await kb(a, 'regenerate', 'kube-scheduler', '--extra-args', 'bogus-flag=1', '--wait-timeout', '1s', '--no-rollback');
      assert.equal(r.code, 4, show(r));
      assert.match(r.stderr, /the new manifest was kept \(--no-rollback\); the previous one is in \/etc\/kubernetes\/tmp\/kubeboot-backup-manifests-[\d-]+\/kube-scheduler\.yaml/);
      assert.ok(manifest(a, 'kube-scheduler').toString().includes('--bogus-flag=1'));
      assert.deepEqual(recorded(a), oldRecorded);
      assertCleanStaticPodPath(a);
      const back = await kb(a, 'regenerate', 'kube-scheduler', '--wait-timeout', '20s');
      assert.equal(back.code, 0, show(back));
      assert.match(back.stdout, /^- {4}- --bogus-flag=1$/m);
      assert.deepEqual(manifest(a, 'kube-scheduler'), oldBytes);
      assert.equal(podState(a, 'kube-scheduler').ready, true);
    });

    await t.test('a change that keeps the config hash is confirmed by the new container', async (st) => {
      a.double.setFault('kube-controller-manager', { keepHash: true });
      st.after(() => a.double.setFault('kube-controller-manager', undefined));
      const before = podState(a, 'kube-controller-manager');
      const r = await kb(a, 'regenerate', 'kube-controller-manager', '--controller-manager-extra-args', 'v=3', '--output', 'json');
      assert.equal(r.code, 0, show(r));
      const after = podState(a, 'kube-controller-manager');
      assert.equal(after.hash, before.hash, 'the double kept the hash');
      assert.notEqual(after.containerID, before.containerID);
      const result = jsonLines(r).at(-1);
      assert.equal(result?.data?.hashChanged, false);
      assert.match(String(result?.data?.confirmation), /^config hash unchanged \([0-9a-f]+\); confirmed by the new container [0-9a-f]{13} → [0-9a-f]{13} started /);
      assertCleanStaticPodPath(a);
    });

    await t.test('etcd (real etcd restarts; the API server stays up): --extra-args only', async () => {
      const before = podState(a, 'etcd');
      const refused = await kb(a, 'regenerate', 'etcd', '--apiserver-extra-args', 'v=2');
      assert.equal(refused.code, 3, show(refused));
      assert.match(refused.stderr, /^error: --apiserver-extra-args sets flags of kube-apiserver, not of etcd$/m);
      assert.match(refused.stderr, /^hint: use --extra-args for etcd \(kubeadm has no etcd flag\)$/m);
      const r = await kb(a, 'regenerate', 'etcd', '--extra-args', 'snapshot-count=20000', '--wait-timeout', '30s');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^\+ {4}- --snapshot-count=20000$/m);
      assert.match(r.stdout, /^- {4}- --snapshot-count=10000$/m);
      assert.doesNotMatch(r.stdout, /the API server does not answer/);
      const after = podState(a, 'etcd');
      assert.notEqual(after.hash, before.hash);
      assert.equal(after.ready, true);
      assert.match(recorded(a).toString(), /- name: snapshot-count\n\s+value: "20000"/);
      assertCleanStaticPodPath(a);
    });
  });
});

describe('kubeboot regenerate refuses', () => {
  const tmp = () => mkdtempSync(path.join(tmpdir(), 'kubeboot-regen-'));
  const ports: Ports = { apiserver: 1, controllerManager: 2, scheduler: 3, etcdClient: 4, etcdPeer: 5, etcdMetrics: 6, kubeletHealthz: 7, kubeletPort: 8 };

  it('a node kubeboot did not set up (exit 2, text and JSON), an unknown component and a wrong kubeadm flag (exit 3)', async (t) => {
    const dir = tmp();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const root = path.join(dir, 'root');
    const r = await runCli(['regenerate', 'kube-apiserver', '--root', root]);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /^error: this node was not set up by kubeboot: \/etc\/kubernetes\/kubeboot\/config\.yaml \(under .*\) does not exist$/m);
    assert.match(r.stderr, /^hint: run 'kubeboot init' first, or 'kubeboot regenerate --config FILE' with the configuration this node was set up with$/m);

    const cfg = path.join(dir, 'c.yaml');
    (await import('node:fs')).writeFileSync(cfg, configText(ports));
    const withConfig = await runCli(['regenerate', 'kube-apiserver', '--root', root, '--config', cfg, '--output', 'json']);
    assert.equal(withConfig.code, 2, show(withConfig));
    const ev = jsonLines(withConfig);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]?.type, 'error');
    assert.equal(ev[0]?.exitCode, 2);
    assert.match(String(ev[0]?.message), /neither \/etc\/kubernetes\/kubeboot\/config\.yaml nor \/etc\/kubernetes\/kubeboot\/files\.json exists/);
    assert.equal(existsSync(root), false, 'nothing was created');

    const bad = await runCli(['regenerate', 'kube-proxy', '--root', root]);
    assert.equal(bad.code, 3, show(bad));
    assert.match(bad.stderr, /^error: regenerate: unknown component "kube-proxy": valid components are etcd, kube-apiserver, kube-controller-manager, kube-scheduler$/m);
    const wrong = await runCli(['regenerate', 'kube-scheduler', '--apiserver-extra-args', 'v=2', '--root', root]);
    assert.equal(wrong.code, 3, show(wrong));
    assert.match(wrong.stderr, /--apiserver-extra-args sets flags of kube-apiserver, not of kube-scheduler/);
    const form = await runCli(['regenerate', 'kube-scheduler', '--extra-args', 'novalue', '--root', root]);
    assert.equal(form.code, 3, show(form));
    assert.match(form.stderr, /--extra-args: "novalue" is not of the form <flagname>=<value>/);
  });

  it('under --root with no kubelet: a missing manifest is refused (exit 2); a change nothing could confirm is refused at once (exit 2), nothing written', async (t) => {
    const dir = tmp();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const root = path.join(dir, 'root');
    const cfg = path.join(dir, 'c.yaml');
    const { freePorts } = await import('../double/ports.js');
    const [apiserver, controllerManager, scheduler, etcdClient, etcdPeer, etcdMetrics, kubeletHealthz, kubeletPort] = await freePorts(8);
    (await import('node:fs')).writeFileSync(cfg, configText({ apiserver, controllerManager, scheduler, etcdClient, etcdPeer, etcdMetrics, kubeletHealthz, kubeletPort } as Ports));
    const init = await runCli(['init', '--root', root, '--config', cfg, '--skip-phases', `kubelet-start,wait-control-plane,${AFTER_WAIT}`, '--ignore-preflight-errors', 'all'], { timeoutMs: 120_000 });
    assert.equal(init.code, 0, show(init));

    const m = path.join(root, 'etc/kubernetes/manifests/kube-scheduler.yaml');
    const oldBytes = readFileSync(m);
    const t0 = Date.now();
    const r = await runCli(['regenerate', 'kube-scheduler', '--extra-args', 'v=2', '--root', root], { env: cleanEnv() });
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, new RegExp(`^error: cannot change kube-scheduler safely: no kubelet answers at http://127\\.0\\.0\\.1:${kubeletHealthz}/healthz .*; nothing was changed$`, 'm'));
    assert.match(r.stderr, /^hint: start the kubelet/m);
    assert.ok(Date.now() - t0 < 60_000, 'refused within seconds, not after the 4m0s wait and a rollback wait');
    assert.deepEqual(readFileSync(m), oldBytes);
    assert.equal(existsSync(path.join(root, 'etc/kubernetes/tmp')) ? readdirSync(path.join(root, 'etc/kubernetes/tmp')).filter((n) => n.startsWith('kubeboot-backup')).length : 0, 0, 'no backup: nothing was changed');

    unlinkSync(m);
    const missing = await runCli(['regenerate', 'kube-scheduler', '--root', root]);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /^error: the static Pod manifest of kube-scheduler does not exist: \/etc\/kubernetes\/manifests\/kube-scheduler\.yaml$/m);
    assert.match(missing.stderr, /^hint: .*'kubeboot init phase control-plane scheduler'$/m);
    const restart = await runCli(['restart', 'kube-scheduler', '--root', root]);
    assert.equal(restart.code, 2, show(restart));
    assert.match(restart.stderr, /^error: the static Pod manifest of kube-scheduler does not exist/m);
  });
});
