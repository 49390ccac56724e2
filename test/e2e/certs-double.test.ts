/**
 * `kubeboot certs renew … --restart` against the kubelet + API server test double: the components that read the
 * renewed files are restarted through `kubeboot restart`'s path (src/rollout.ts restartComponents) and serve the new
 * certificate afterwards.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { describe, it } from 'node:test';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';
import { arrange, NODE_NAME } from '../double/harness.js';
import { jsonEvents, show } from '../unit/lifecycle/support.js';

/** The certificate the server on 127.0.0.1:port presents (no verification: we compare it byte for byte). */
function servedCert(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate();
      s.destroy();
      resolve(c.fingerprint256);
    });
    s.once('error', reject);
  });
}

describe('certs renew --restart against the test double', () => {
  it('renews apiserver, restarts kube-apiserver only, and the API server serves the new certificate', async (t) => {
    if (!requireTools(t, 'etcd', 'openssl')) return;
    const a = await arrange();
    t.after(() => a.dispose());
    const env = cleanEnv(a.env);
    const init = await runCli(['init', '--root', a.root, '--config', a.config, '--wait-timeout', '60s'], { env, timeoutMs: 120_000 });
    assert.equal(init.code, 0, show(init));
    const crt = path.join(a.root, 'etc/kubernetes/pki/apiserver.crt');
    const oldFp = new X509Certificate(readFileSync(crt)).fingerprint256;
    assert.equal(await servedCert(a.ports.apiserver), oldFp);
    const hash = (pod: string) =>
      (a.double.mirrorPods().find((p) => (p.metadata as { name: string }).name === `${pod}-${NODE_NAME}`)?.metadata as { annotations: Record<string, string> }).annotations['kubernetes.io/config.hash'];
    const before = Object.fromEntries(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => [c, hash(c)]));

    const r = await runCli(['certs', 'renew', 'apiserver', '--restart', '--wait-timeout', '60s', '--root', a.root, '--output', 'json'], { env, timeoutMs: 120_000 });
    assert.equal(r.code, 0, show(r));
    const ev = jsonEvents(r);
    assert.ok(ev.some((e) => e.type === 'log' && e.message === 'certificate for serving the Kubernetes API renewed'));
    const result = ev.find((e) => e.type === 'result')?.data as { restartNeeded: string[]; restarted: string[] };
    assert.deepEqual(result.restartNeeded, ['kube-apiserver']);
    assert.deepEqual(result.restarted, ['kube-apiserver']);
    const newFp = new X509Certificate(readFileSync(crt)).fingerprint256;
    assert.notEqual(newFp, oldFp);
    assert.equal(await servedCert(a.ports.apiserver), newFp, 'the restarted kube-apiserver serves the renewed certificate');
    assert.notEqual(hash('kube-apiserver'), before['kube-apiserver']);
    for (const c of ['etcd', 'kube-controller-manager', 'kube-scheduler']) assert.equal(hash(c), before[c], `${c} was not restarted`);
    const ledger = JSON.parse(readFileSync(path.join(a.root, 'etc/kubernetes/kubeboot/files.json'), 'utf8')) as { files: Record<string, unknown> };
    assert.ok(ledger.files['/etc/kubernetes/pki/apiserver.crt']);
  });
});
