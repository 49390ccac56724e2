/**
 * The test double's own contract, on files a real `init` wrote (run without the wait): TLS with kubeboot's certs and
 * CA, the cluster-admins authorization rule, the static pod path semantics (change → restart, removal → stop,
 * dot-files ignored), mirror pod fields, and watch.
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { kubeconfigCredentials as parseKubeconfig, type ClientCredentials } from '../../src/kube/kubeconfig.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';
import { arrange, NODE_NAME } from '../double/harness.js';

interface Res {
  status: number;
  body: string;
}

function request(url: string, c: Partial<ClientCredentials>, method = 'GET', body?: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const r = https.request(url, { method, ca: c.ca, cert: c.cert, key: c.key, agent: false, timeout: 5000, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    r.on('error', reject);
    r.on('timeout', () => r.destroy(new Error('timeout')));
    if (body) r.write(body);
    r.end();
  });
}

const binding = JSON.stringify({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'kubeadm:cluster-admins' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kubeadm:cluster-admins' }],
});

describe('the kubelet + API server test double', () => {
  it('serves kubeboot\'s PKI over TLS, authorizes by group, follows the static pod path', async (t) => {
    if (!requireTools(t, 'etcd', 'openssl')) return;
    const a = await arrange();
    t.after(() => a.dispose());
    const r = await runCli(['init', '--root', a.root, '--config', a.config, '--skip-phases', 'wait-control-plane,addon'], { env: cleanEnv(), timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const pods = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => `${c}-${NODE_NAME}`);
    await a.double.waitFor('four Ready pods', () => a.double.allReadyAt(4) !== undefined, 30_000);

    const k = path.join(a.root, 'etc/kubernetes');
    const load = (f: string) => parseKubeconfig(readFileSync(path.join(k, f), 'utf8'), f, async (p) => readFileSync(path.join(a.root, p), 'utf8'));
    const admin = await load('admin.conf');
    const superAdmin = await load('super-admin.conf');
    const ca = admin.ca as string;
    const api = `https://127.0.0.1:${a.ports.apiserver}`;
    const podsUrl = `${api}/api/v1/namespaces/kube-system/pods`;

    // health without a client certificate; the API needs one
    assert.equal((await request(`${api}/livez`, { ca })).status, 200);
    assert.equal((await request(podsUrl, { ca })).status, 401);
    // O=kubeadm:cluster-admins: 403 until the binding exists; O=system:masters: everything
    const denied = await request(podsUrl, admin);
    assert.equal(denied.status, 403);
    assert.match(denied.body, /User \\"kubernetes-admin\\" cannot list resource \\"pods\\"/);
    assert.equal((await request(podsUrl, superAdmin)).status, 200);
    assert.equal((await request(`${api}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`, admin, 'POST', binding)).status, 403);
    assert.equal((await request(`${api}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`, superAdmin, 'POST', binding)).status, 201);
    assert.equal((await request(`${api}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`, superAdmin, 'POST', binding)).status, 409);
    const list = await request(podsUrl, admin);
    assert.equal(list.status, 200);
    const items = (JSON.parse(list.body) as { items: Record<string, any>[] }).items;
    assert.deepEqual(items.map((p) => p.metadata.name), pods);
    for (const p of items) {
      assert.equal(p.metadata.annotations['kubernetes.io/config.source'], 'file');
      assert.equal(p.metadata.annotations['kubernetes.io/config.mirror'], p.metadata.annotations['kubernetes.io/config.hash']);
      assert.ok(p.metadata.annotations['kubernetes.io/config.seen']);
      assert.equal(p.spec.nodeName, NODE_NAME);
      const cs = p.status.containerStatuses[0];
      assert.match(cs.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
      assert.equal(cs.ready, true);
      assert.equal(cs.started, true);
      assert.equal(cs.restartCount, 0);
      assert.ok(cs.state.running.startedAt);
    }

    // a client certificate from another CA is not an identity
    const foreign = { ...admin, ca, cert: readFileSync(path.join(a.root, 'etc/kubernetes/pki/etcd/healthcheck-client.crt'), 'utf8'), key: readFileSync(path.join(a.root, 'etc/kubernetes/pki/etcd/healthcheck-client.key'), 'utf8') };
    const f = await request(podsUrl, foreign).catch((e: Error) => ({ status: -1, body: e.message }));
    assert.ok(f.status === 401 || f.status === -1, `foreign CA refused (${f.status})`);

    // etcd really runs: its /health through the metrics URL from the manifest
    const health = await fetch(`http://127.0.0.1:${a.ports.etcdMetrics}/health`);
    assert.match(await health.text(), /"health":\s*"true"/);

    // a changed manifest restarts its pod (new hash, new uid); a dot-file is ignored; a removed one stops its pod
    const sched = path.join(a.root, 'etc/kubernetes/manifests/kube-scheduler.yaml');
    const before = items.find((p) => p.metadata.name === pods[3]);
    writeFileSync(path.join(a.root, 'etc/kubernetes/manifests/.kube-scheduler.yaml.swp'), 'not: a pod\n');
    writeFileSync(`${sched}.new`, `${readFileSync(sched, 'utf8')}# changed\n`);
    renameSync(`${sched}.new`, sched);
    await a.double.waitFor('the scheduler pod to be replaced', () => {
      const p = a.double.mirrorPods().find((x) => (x.metadata as any).name === pods[3]) as any;
      return p !== undefined && p.metadata.uid !== before?.metadata.uid;
    });
    const after = a.double.mirrorPods().find((x) => (x.metadata as any).name === pods[3]) as any;
    assert.notEqual(after.metadata.annotations['kubernetes.io/config.hash'], before?.metadata.annotations['kubernetes.io/config.hash']);
    assert.equal(a.double.mirrorPods().length, 4, 'the dot-file is not a pod');

    // watch: the current pods arrive as ADDED, a removal as DELETED
    const events: string[] = [];
    const watching = new Promise<void>((resolve, reject) => {
      const req = https.request(`${podsUrl}?watch=1&timeoutSeconds=5`, { ca, cert: admin.cert, key: admin.key, agent: false }, (res) => {
        let buf = '';
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop() ?? '';
          for (const l of lines) {
            const e = JSON.parse(l) as { type: string; object: { metadata: { name: string } } };
            events.push(`${e.type} ${e.object.metadata.name}`);
            if (e.type === 'DELETED') {
              req.destroy();
              resolve();
            }
          }
        });
        res.on('end', () => resolve());
      });
      req.on('error', (e) => (events.some((x) => x.startsWith('DELETED')) ? resolve() : reject(e)));
      req.end();
    });
    await a.double.waitFor('the watch to start', () => events.length >= 4);
    rmSync(sched);
    await watching;
    assert.ok(events.includes(`DELETED ${pods[3]}`), events.join(', '));
    await a.double.waitFor('the scheduler pod to go', () => a.double.mirrorPods().length === 3);
    rmSync(path.join(a.root, 'etc/kubernetes/manifests/.kube-scheduler.yaml.swp'));
  });
});
