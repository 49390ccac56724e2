/** `kubeboot reset --force` against the kubelet + API server test double: it waits until the control-plane pods are gone. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';
import { arrange } from '../double/harness.js';
import { show, tree } from '../unit/lifecycle/support.js';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('reset against the test double', () => {
  it('removes the manifests, waits for the pods to be gone, then removes the rest', async (t) => {
    if (!requireTools(t, 'etcd', 'openssl')) return;
    const a = await arrange();
    t.after(() => a.dispose());
    const init = await runCli(['init', '--root', a.root, '--config', a.config, '--wait-timeout', '60s'], { env: cleanEnv(a.env), timeoutMs: 120_000 });
    assert.equal(init.code, 0, show(init));
    assert.equal(a.double.mirrorPods().length, 4);
    assert.ok(await listening(a.ports.etcdClient), 'etcd runs');
    assert.ok(readdirSync(path.join(a.root, 'var/lib/etcd')).length > 0, 'etcd wrote its data');

    const r = await runCli(['reset', '--root', a.root, '--force'], { env: cleanEnv(a.env), timeoutMs: 90_000 });
    assert.equal(r.code, 0, show(r));
    // the moment reset reports the pods gone, they are gone (checked right after it returns)
    assert.deepEqual(a.double.mirrorPods(), []);
    assert.equal(await listening(a.ports.apiserver), false);
    assert.equal(await listening(a.ports.etcdClient), false);
    const out = r.stdout;
    const order = [
      '[reset] Removing the static Pod manifests of kube-controller-manager, kube-scheduler',
      '[reset] Waiting for the kubelet to stop the pods of kube-controller-manager, kube-scheduler (up to 4m0s)',
      '[reset] The pods of kube-controller-manager, kube-scheduler are gone after',
      '[reset] Removing the static Pod manifests of kube-apiserver, etcd',
      '[reset] Waiting for the kubelet to stop the pods of kube-apiserver, etcd (up to 4m0s)',
      '[reset] The pods of kube-apiserver, etcd are gone after',
      '[reset] Not stopping the kubelet: the files are under --root',
      '[reset] Deleted contents of the etcd data directory: /var/lib/etcd',
      '[reset] Deleting files: [',
      '[reset] Removed kubeboot\'s state directory "/etc/kubernetes/kubeboot"',
    ];
    let at = -1;
    for (const line of order) {
      const i = out.indexOf(line, at + 1);
      assert.ok(i > at, `"${line}" comes next\n${out}`);
      at = i;
    }
    const timeline = a.double.timeline.map((e) => `${e.pod}: ${e.event}`);
    assert.ok(timeline.some((e) => /^kube-apiserver-.*: manifest removed: stopping the pod$/.test(e)), timeline.join('\n'));
    assert.deepEqual(readdirSync(path.join(a.root, 'var/lib/etcd')), []);
    assert.deepEqual(tree(a.root), [], 'kubeboot created every file under this root');
  });
});
