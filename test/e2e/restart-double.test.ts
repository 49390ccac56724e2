/**
 * The BUILT CLI's `kubeboot restart` against the test double after a full init: a new container with the manifest left
 * equal to a fresh render (regenerate and `init phase control-plane` see no difference), --dry-run, JSON, rollback.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertCleanStaticPodPath,
  backupDirs,
  initialised,
  jsonLines,
  kb,
  manifest,
  podState,
  recorded,
  show,
  snapshot,
} from './regenerate-helpers.js';

const ANN = 'kubeboot.kubernetes.io/restartedAt';

describe('kubeboot restart against the test double', () => {
  it('one initialised node', async (t) => {
    const a = await initialised(t);
    if (!a) return;

    await t.test('--dry-run says what it would do and changes nothing', async () => {
      const before = snapshot(a);
      const pod = podState(a, 'kube-apiserver');
      const r = await kb(a, 'restart', 'kube-apiserver', '--dry-run');
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, new RegExp(`\\[dryrun\\] Would set the annotation ${ANN}=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z in "/etc/kubernetes/manifests/kube-apiserver\\.yaml" \\(nothing else changes\\)`));
      assert.deepEqual(snapshot(a), before);
      assert.deepEqual(backupDirs(a), []);
      assert.deepEqual(podState(a, 'kube-apiserver'), pod);
    });

    await t.test('kube-apiserver: a new container, Ready; the manifest stays equal to a fresh render', async () => {
      const before = podState(a, 'kube-apiserver');
      const oldBytes = manifest(a, 'kube-apiserver').toString();
      const oldRecorded = recorded(a);
      const r = await kb(a, 'restart', 'kube-apiserver', '--wait-timeout', '30s');
      assert.equal(r.code, 0, show(r));
      const m = new RegExp(`\\[restart\\] Restarting kube-apiserver: setting the annotation ${ANN}=(\\S+) in "/etc/kubernetes/manifests/kube-apiserver\\.yaml"`).exec(r.stdout);
      assert.ok(m, show(r));
      assert.match(r.stdout, /\[restart\] kube-apiserver is Ready with the new manifest after .* \(config hash [0-9a-f]+ → [0-9a-f]+, container [0-9a-f]{13} → [0-9a-f]{13}\)/);
      const after = podState(a, 'kube-apiserver');
      assert.notEqual(after.containerID, before.containerID);
      assert.notEqual(after.hash, before.hash);
      assert.equal(after.ready, true);
      // only the annotation was added
      const now = manifest(a, 'kube-apiserver').toString();
      const stamp = (m as RegExpExecArray)[1] as string;
      assert.ok(now.includes(`    ${ANN}: "${stamp}"\n`) || now.includes(`    ${ANN}: '${stamp}'\n`) || now.includes(`    ${ANN}: ${stamp}\n`), now);
      const without = now.split('\n').filter((l) => !l.includes(ANN)).join('\n');
      assert.equal(without, oldBytes, 'nothing else changed');
      assert.deepEqual(recorded(a), oldRecorded, 'restart changes no configuration');
      assertCleanStaticPodPath(a);

      // a fresh render keeps the annotation: regenerate and the init phase see no difference
      const regen = await kb(a, 'regenerate', 'kube-apiserver');
      assert.equal(regen.code, 0, show(regen));
      assert.match(regen.stdout, /is up to date; nothing to do/);
      const phase = await kb(a, 'init', 'phase', 'control-plane', 'apiserver', '--config', a.config, '--output', 'json');
      assert.equal(phase.code, 0, show(phase));
      const f = jsonLines(phase).find((e) => e.type === 'file' && e.path === '/etc/kubernetes/manifests/kube-apiserver.yaml');
      assert.equal(f?.status, 'unchanged', show(phase));
      assert.equal(manifest(a, 'kube-apiserver').toString(), now);
      assert.equal(podState(a, 'kube-apiserver').containerID, after.containerID, 'no second restart');
    });

    await t.test('--output json: all lines JSON; the result names the annotation, hashes and backup', async () => {
      const before = podState(a, 'kube-scheduler');
      const r = await kb(a, 'restart', 'kube-scheduler', '--output', 'json');
      assert.equal(r.code, 0, show(r));
      const ev = jsonLines(r);
      assert.ok(ev.some((e) => e.type === 'file' && e.status === 'backed-up'));
      const result = ev.at(-1);
      assert.equal(result?.type, 'result');
      assert.equal(result?.command, 'restart kube-scheduler');
      assert.match(String(result?.data?.restartedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(result?.data?.hashBefore, before.hash);
      assert.equal(result?.data?.hashAfter, podState(a, 'kube-scheduler').hash);
      assert.match(String(result?.data?.backup), /^\/etc\/kubernetes\/tmp\/kubeboot-backup-manifests-[\d-]+\/kube-scheduler\.yaml$/);
      assertCleanStaticPodPath(a);
    });

    await t.test('a pod that does not come back is rolled back (exit 4); the old pod is Ready again', async (st) => {
      // the restarted manifest (it holds the restart annotation) crash-loops; the previous one runs fine
      a.double.setFault('kube-controller-manager', { crashLoop: { exitCode: 1 }, onlyWhenManifestIncludes: 'restartedAt' });
      st.after(() => a.double.setFault('kube-controller-manager', undefined));
      const oldBytes = manifest(a, 'kube-controller-manager');
      const before = podState(a, 'kube-controller-manager');
      // the rollback's own wait has the same timeout: 5 s leaves the old pod room to come back on a loaded machine
      const r = await kb(a, 'restart', 'kube-controller-manager', '--wait-timeout', '5s');
      assert.equal(r.code, 4, show(r));
      assert.match(r.stderr, /^error: kube-controller-manager did not run a new Ready container with the new manifest within 5s: .*exit code 1.*; rolled back to the previous manifest/m);
      assert.match(r.stdout, /\[restart\] kube-controller-manager is Ready again with the previous manifest after /);
      assert.deepEqual(manifest(a, 'kube-controller-manager'), oldBytes);
      const after = podState(a, 'kube-controller-manager');
      assert.equal(after.hash, before.hash);
      assert.equal(after.ready, true);
      assertCleanStaticPodPath(a);
    });
  });
});
