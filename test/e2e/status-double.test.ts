/**
 * The BUILT CLI's `kubeboot status` and `kubeboot kubeconfig` against the kubelet + API server test double after a
 * full init: healthy; CoreDNS installed and short of replicas; the Node NotReady; a component that never becomes
 * ready; a crash-looping one; the API server gone and hanging (status still ends in about its 2 s probe timeout).
 * The merged kubeconfig works with the real kubectl against the double. (The kubelet down — nothing answering on the
 * node at all — is test/cli/kubeconfig-status.test.ts's node with nothing running.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { RealEffects } from '../../src/effects/real.js';
import { ApiClient } from '../../src/kube/api.js';
import { kubeconfigCredentials, parseKubeconfigDocument, type KubeconfigDocument } from '../../src/kube/kubeconfig.js';
import { toYaml } from '../../src/render/yaml.js';
import { DOUBLE_VERSION } from '../double/double.js';
import type { Arrangement } from '../double/harness.js';
import { tempDir } from '../helpers/tmp.js';
import { hostPath, initialised, jsonLines, kb, NODE_NAME, podState, show } from './regenerate-helpers.js';

// never execFileSync here: the double answers from this process's event loop
const execFileP = promisify(execFile);

interface Check {
  kind: string;
  name: string;
  state: 'ok' | 'fail' | 'unknown';
  message: string;
  data: Record<string, unknown>;
}
interface Report {
  healthy: boolean;
  node: string;
  failed: string[];
  unknown: string[];
  checks: Check[];
}

async function status(a: Arrangement): Promise<{ code: number | null; report: Report; ms: number; stderr: string }> {
  const started = Date.now();
  const r = await kb(a, 'status', '-o', 'json');
  const ms = Date.now() - started;
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`status -o json did not print one JSON document:\n${show(r)}`);
  }
  return { code: r.code, report, ms, stderr: r.stderr };
}

const check = (r: Report, name: string): Check => {
  const c = r.checks.find((x) => x.name === name);
  assert.ok(c, `no check ${name}`);
  return c;
};

async function admin(a: Arrangement): Promise<ApiClient> {
  const p = hostPath(a, '/etc/kubernetes/admin.conf');
  const creds = await kubeconfigCredentials(readFileSync(p, 'utf8'), p, async () => undefined);
  return new ApiClient(new RealEffects(''), creds, p);
}

/** Changes a manifest's bytes (a comment line), so that the double's kubelet starts a new pod under the fault set now. */
function touchManifest(a: Arrangement, component: string, mark: string): () => void {
  const p = hostPath(a, `/etc/kubernetes/manifests/${component}.yaml`);
  const before = readFileSync(p);
  writeFileSync(p, `${before.toString()}# ${mark}\n`);
  return () => writeFileSync(p, before);
}

describe('kubeboot status and kubeconfig against the test double', () => {
  it('one initialised node', async (t) => {
    // without the addon phase: the double runs no Deployment controller, so the test sets CoreDNS's states itself
    const a = await initialised(t, {}, ['--skip-phases', 'addon']);
    if (!a) return;
    const pod = (c: string) => `pod ${c}-${NODE_NAME}`;

    await t.test('healthy: exit 0, every check ok, the double\'s versions; text one line per check', async () => {
      const s = await status(a);
      t.diagnostic(`status -o json, healthy: ${s.ms} ms`);
      assert.equal(s.code, 0, JSON.stringify(s.report, null, 1));
      assert.equal(s.report.healthy, true);
      assert.equal(s.report.checks.length, 14);
      assert.deepEqual(check(s.report, 'versions').data, { kubeboot: '0.1.0', configured: 'v1.36.5', apiServer: DOUBLE_VERSION, kubelet: DOUBLE_VERSION });
      assert.deepEqual(check(s.report, `node ${NODE_NAME}`).data.taints, [{ key: 'node-role.kubernetes.io/control-plane', value: null, effect: 'NoSchedule' }]);
      assert.deepEqual(check(s.report, 'coredns').data, { installed: false, replicas: null, readyReplicas: null });
      const started = Date.now();
      const text = await kb(a, 'status');
      t.diagnostic(`status (text), healthy: ${Date.now() - started} ms`);
      assert.equal(text.code, 0, show(text));
      const lines = text.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 15);
      for (const l of lines.slice(0, -1)) assert.match(l, /^ok {6}\S/);
      assert.equal(lines[14], 'healthy: all 14 checks ok');
      assert.match(text.stdout, new RegExp(`^ok {6}kube-apiserver +https://127\\.0\\.0\\.1:${a.ports.apiserver}/livez answers ok$`, 'm'));
    });

    await t.test('kubeconfig --merge into a kubectl-made kubeconfig: kubectl reaches the double with it, the foreign context is as kubectl wrote it', async (t2) => {
      const dir = tempDir(t2);
      const file = path.join(dir, 'config');
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, KUBECONFIG: file };
      const kubectl = async (...args: string[]) => (await execFileP('kubectl', ['--cache-dir', path.join(dir, 'cache'), ...args], { env })).stdout;
      await kubectl('config', 'set-cluster', 'foreign', '--server=https://10.1.2.3:6443');
      await kubectl('config', 'set-credentials', 'fuser', '--token=abc.def');
      await kubectl('config', 'set-context', 'fctx', '--cluster=foreign', '--user=fuser', '--namespace=dev');
      await kubectl('config', 'use-context', 'fctx');
      const kubectlWrote = readFileSync(file, 'utf8');
      const r = await kb(a, 'kubeconfig', '--merge', file);
      assert.equal(r.code, 0, show(r));
      const doc = parseKubeconfigDocument(readFileSync(file, 'utf8')) as KubeconfigDocument;
      const back: KubeconfigDocument = { ...doc, 'current-context': 'fctx' };
      for (const l of ['clusters', 'users', 'contexts']) back[l] = (doc[l] as { name: string }[]).filter((e) => e.name !== 'kubeboot-kubernetes');
      assert.equal(toYaml(back), kubectlWrote, 'without our entries the file is what kubectl wrote, byte for byte');
      // kubectl with the merged file, its current context ours: it reaches the double's API server as kubernetes-admin
      assert.equal((await kubectl('get', '--raw', '/healthz', '--request-timeout=10s')).trim(), 'ok');
      const pods = await kubectl('-n', 'kube-system', 'get', 'pods', '-o', 'name', '--request-timeout=10s');
      assert.ok(pods.includes(`pod/kube-apiserver-${NODE_NAME}`), pods);
      assert.equal(await kubectl('config', 'view', '--context', 'fctx', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}'), 'dev');
    });

    await t.test('CoreDNS installed: short of ready replicas fails (exit 1), all ready is ok', async () => {
      const api = await admin(a);
      const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system' }, spec: { replicas: 2 } };
      const created = await api.create('/apis/apps/v1/namespaces/kube-system/deployments', dep);
      assert.equal(created.status, 201, created.text);
      // what the Deployment controller would report (the double runs none)
      const st = await api.patch('/apis/apps/v1/namespaces/kube-system/deployments/coredns/status', { status: { replicas: 2, readyReplicas: 1 } }, 'merge');
      assert.equal(st.status, 200, st.text);
      let s = await status(a);
      assert.equal(s.code, 1);
      assert.deepEqual(s.report.failed, ['coredns']);
      assert.equal(check(s.report, 'coredns').message, '1/2 replicas ready (Deployment kube-system/coredns)');
      assert.match(s.stderr, /^error: the control plane on this node is not healthy: failed: coredns$/m);
      const patched = await api.patch('/apis/apps/v1/namespaces/kube-system/deployments/coredns/status', { status: { readyReplicas: 2 } }, 'merge');
      assert.equal(patched.status, 200, patched.text);
      s = await status(a);
      assert.equal(s.code, 0, JSON.stringify(s.report.failed));
      assert.deepEqual(check(s.report, 'coredns').data, { installed: true, replicas: 2, readyReplicas: 2 });
    });

    await t.test('the Node NotReady: fails with the condition\'s reason', async () => {
      const api = await admin(a);
      const nodePath = `/api/v1/nodes/${NODE_NAME}`;
      const ready = (status: string, reason: string, message: string) => ({ status: { conditions: [{ type: 'Ready', status, reason, message }] } });
      assert.equal((await api.patch(nodePath, ready('False', 'KubeletNotReady', 'container runtime network not ready: NetworkReady=false'), 'merge')).status, 200);
      const s = await status(a);
      assert.equal(s.code, 1);
      assert.deepEqual(s.report.failed, [`node ${NODE_NAME}`]);
      assert.match(check(s.report, `node ${NODE_NAME}`).message, /^not Ready \(Ready=False, KubeletNotReady: container runtime network not ready: NetworkReady=false\); kubelet v1\.36\.5/);
      assert.equal((await api.patch(nodePath, ready('True', 'KubeletReady', 'kubelet is posting ready status'), 'merge')).status, 200);
      assert.equal((await status(a)).code, 0);
    });

    await t.test('kube-controller-manager never ready: its pod fails while its health endpoint answers', async () => {
      a.double.setFault('kube-controller-manager', { neverReady: true });
      const restore = touchManifest(a, 'kube-controller-manager', 'never ready');
      try {
        await a.double.waitFor('a new kube-controller-manager running, not ready', () => {
          const p = a.double.mirrorPods().find((x) => (x.metadata as { name: string }).name === `kube-controller-manager-${NODE_NAME}`);
          const cs = (p?.status as { containerStatuses?: { state: { running?: unknown } }[] } | undefined)?.containerStatuses?.[0];
          return Boolean(cs?.state.running) && !podState(a, 'kube-controller-manager').ready && podState(a, 'kube-controller-manager').containerID !== '';
        });
        const s = await status(a);
        assert.equal(s.code, 1);
        assert.deepEqual(s.report.failed, [pod('kube-controller-manager')]);
        assert.equal(check(s.report, 'kube-controller-manager').state, 'ok');
        assert.match(check(s.report, pod('kube-controller-manager')).message, /^not Ready \(phase Running\); container kube-controller-manager running, not ready$/);
      } finally {
        a.double.setFault('kube-controller-manager', undefined);
        restore();
      }
      await a.double.waitFor('kube-controller-manager Ready again', () => podState(a, 'kube-controller-manager').ready);
    });

    await t.test('kube-scheduler crash-looping: its health endpoint and its pod fail, with the restarts and the exit code', async () => {
      a.double.setFault('kube-scheduler', { crashLoop: { exitCode: 3 } });
      const restore = touchManifest(a, 'kube-scheduler', 'crash loop');
      try {
        await a.double.waitFor('kube-scheduler restarted', () => podState(a, 'kube-scheduler').restartCount >= 1);
        const s = await status(a);
        assert.equal(s.code, 1);
        assert.deepEqual(s.report.failed, ['kube-scheduler', pod('kube-scheduler')]);
        assert.match(check(s.report, 'kube-scheduler').message, new RegExp(`^https://127\\.0\\.0\\.1:${a.ports.scheduler}/livez: connect ECONNREFUSED`));
        const p = check(s.report, pod('kube-scheduler'));
        assert.match(p.message, /^not Ready \(phase Running\); container kube-scheduler (waiting \(CrashLoopBackOff\)|running), restarted \d+ times?, last termination: Error, exit code 3/);
        assert.ok((p.data.restarts as number) >= 1);
        assert.deepEqual((p.data.containers as { lastTermination: unknown }[])[0]?.lastTermination, { exitCode: 3, reason: 'Error' });
      } finally {
        a.double.setFault('kube-scheduler', undefined);
        restore();
      }
      await a.double.waitFor('kube-scheduler Ready again', () => podState(a, 'kube-scheduler').ready, 20_000);
    });

    await t.test('the API server gone, then hanging: exit 1, what needs it unknown, and status ends in about its probe timeout', async () => {
      const manifest = hostPath(a, '/etc/kubernetes/manifests/kube-apiserver.yaml');
      const aside = path.join(a.dir, 'kube-apiserver.yaml');
      renameSync(manifest, aside);
      const sockets = new Set<net.Socket>();
      const hang = net.createServer((s) => void sockets.add(s)); // accepts, never answers (not even TLS)
      try {
        await a.double.waitFor('the API server gone', () => a.double.apiEndpoint === undefined);
        let s = await status(a);
        t.diagnostic(`status -o json, API server down (connection refused): ${s.ms} ms`);
        assert.equal(s.code, 1);
        assert.deepEqual(s.report.failed, ['kube-apiserver', 'api']);
        assert.deepEqual(s.report.unknown, [...['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map(pod), `node ${NODE_NAME}`, 'coredns', 'versions']);
        assert.equal(check(s.report, 'kube-apiserver').message, 'its static pod manifest /etc/kubernetes/manifests/kube-apiserver.yaml does not exist');
        assert.deepEqual(check(s.report, 'kube-apiserver').data.manifest, { path: '/etc/kubernetes/manifests/kube-apiserver.yaml', present: false });
        assert.deepEqual(check(s.report, 'etcd').data.manifest, { path: '/etc/kubernetes/manifests/etcd.yaml', present: true });
        assert.match(check(s.report, 'api').message, /connect ECONNREFUSED/);

        await new Promise<void>((resolve, reject) => hang.listen({ host: '127.0.0.1', port: a.ports.apiserver }, resolve).once('error', reject));
        s = await status(a);
        t.diagnostic(`status -o json, API server hanging: ${s.ms} ms`);
        assert.equal(s.code, 1);
        assert.match(check(s.report, 'api').message, /timed out after 2000 ms/);
        // every probe at once, none longer than 2 s: the whole command (node start included) well under the 4 × 2 s of
        // four API reads made one after another
        assert.ok(s.ms < 7000, `status took ${s.ms} ms with a hanging API server`);
      } finally {
        for (const so of sockets) so.destroy();
        await new Promise<void>((resolve) => hang.close(() => resolve()));
        renameSync(aside, manifest);
      }
      await a.double.waitFor('the API server back', () => a.double.apiEndpoint !== undefined && podState(a, 'kube-apiserver').ready, 20_000);
      const again = await kb(a, 'status', '--output', 'json');
      const ev = jsonLines(again);
      assert.equal(again.code, 0, show(again));
      assert.deepEqual(ev.map((e) => e.type), ['result']);
      assert.equal((ev[0]?.data as { healthy: boolean }).healthy, true);
    });
  });
});
