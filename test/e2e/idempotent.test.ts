/**
 * `kubeboot init` run again with the same configuration converges: under --root, and against the kubelet + API server
 * test double (whose components hold their ports). A change that needs a new certificate identity is an error naming
 * the SAN and a command that fixes it — and that command works.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';
import { arrange } from '../double/harness.js';
import { PKI, cert, initRoot, jsonEvents, newNode, show, snapshot, withCluster } from '../unit/lifecycle/support.js';

const execFileP = promisify(execFile);

describe('init run again', () => {
  it('under --root: nothing changes, the summary says so, preflight calls the files kubeboot\'s own', async (t) => {
    const n = await newNode(t);
    const first = await initRoot(n);
    assert.equal(first.code, 0, show(first));
    const before = snapshot(n.root);
    const again = await initRoot(n);
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /^\[init\] Nothing changed: 34 file\(s\) already up to date/m);
    assert.match(again.stdout, /^\[preflight\] \[INFO FileAvailable--etc-kubernetes-manifests-kube-apiserver\.yaml\]: \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml already exists, owned by kubeboot/m);
    assert.match(again.stdout, /^\[certs\] Using existing ca certificate authority$/m);
    assert.match(again.stdout, /^\[kubeconfig\] Using existing kubeconfig file: "\/etc\/kubernetes\/admin\.conf"$/m);
    assert.doesNotMatch(again.stderr, /\[(WARNING|ERROR) (Port|FileAvailable|DirAvailable)/);
    assert.deepEqual(snapshot(n.root), before, 'every file byte for byte as it was');

    const j = await initRoot(n, '--output', 'json');
    assert.equal(j.code, 0, show(j));
    const ev = jsonEvents(j);
    const files = ev.filter((e) => e.type === 'file');
    assert.ok(files.length >= 34);
    assert.deepEqual([...new Set(files.map((e) => e.status))], ['unchanged']);
    for (const p of ['/etc/kubernetes/pki/ca.key', '/etc/kubernetes/pki/etcd/server.crt', '/etc/kubernetes/pki/sa.pub', '/etc/kubernetes/super-admin.conf', '/var/lib/kubelet/config.yaml']) {
      assert.ok(files.some((e) => e.path === p), `${p} reported unchanged`);
    }
    const result = ev.find((e) => e.type === 'result')?.data as { changed: boolean; written: number; unchanged: number };
    assert.deepEqual([result.changed, result.written], [false, 0]);
  });

  it('a re-run that would downgrade Kubernetes or etcd is refused before anything is written (exit 2); a changed flag is shown as a diff', async (t) => {
    const n = await newNode(t, 'kubernetesVersion: v1.36.5\n');
    const first = await initRoot(n);
    assert.equal(first.code, 0, show(first));
    const before = snapshot(n.root);
    const text = readFileSync(n.config, 'utf8');
    writeFileSync(n.config, text.replace('kubernetesVersion: v1.36.5', 'kubernetesVersion: v1.35.8'));
    const down = await initRoot(n);
    assert.equal(down.code, 2, show(down));
    assert.match(down.stderr, /\[ERROR KubernetesVersionDowngrade\]: refusing to downgrade the control plane from Kubernetes v1\.36\.5 to v1\.35\.8: \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml runs v1\.36\.5/);
    assert.match(down.stderr, /\[ERROR EtcdVersionDowngrade\]: refusing to downgrade etcd from 3\.6\.8-0 to 3\.6\.6-0/);
    assert.deepEqual(snapshot(n.root), before, 'nothing written');

    // a new scheduler flag: the re-run prints the change as a unified diff of the manifest, then writes it
    writeFileSync(n.config, text.replace('scheduler:\n  extraArgs:\n', 'scheduler:\n  extraArgs:\n    - name: v\n      value: "2"\n'));
    const changed = await initRoot(n);
    assert.equal(changed.code, 0, show(changed));
    assert.match(changed.stdout, /^\[control-plane\] kube-scheduler: the manifest "\/etc\/kubernetes\/manifests\/kube-scheduler\.yaml" changes:\n--- \/etc\/kubernetes\/manifests\/kube-scheduler\.yaml\tcurrent\n\+\+\+ \/etc\/kubernetes\/manifests\/kube-scheduler\.yaml\tnew\n@@ [^\n]+ @@\n(?: [^\n]*\n)*\+    - --v=2\n/m);
    assert.doesNotMatch(changed.stdout, /kube-apiserver: the manifest .* changes/);
  });

  it('a new SAN is an error naming it and a command that fixes it; after that command init converges again', async (t) => {
    const n = await newNode(t);
    const first = await initRoot(n);
    assert.equal(first.code, 0, show(first));
    const keep = ['ca.crt', 'ca.key', 'front-proxy-client.crt', 'etcd/server.crt'].map((f) => [f, readFileSync(n.at(`${PKI}/${f}`))] as const);
    writeFileSync(n.config, withCluster(readFileSync(n.config, 'utf8'), 'apiServer:\n  certSANs: ["api.example.test", "203.0.113.7"]\n'));
    const r = await initRoot(n);
    assert.equal(r.code, 1, show(r));
    assert.match(
      r.stderr,
      /^error: error execution phase certs\/apiserver: certificate apiserver \("\/etc\/kubernetes\/pki\/apiserver\.crt"\) is missing required SANs: DNS names \[api\.example\.test\] and IPs \[203\.0\.113\.7\]$/m,
    );
    const cmd = /move the pair aside with `([^`]+)`, then run this same kubeboot command again/.exec(r.stderr)?.[1];
    assert.ok(cmd, r.stderr);
    assert.ok(cmd.includes(`${n.root}/etc/kubernetes/tmp/kubeboot-certs-`), cmd);
    await execFileP('sh', ['-c', cmd]);
    const fixed = await initRoot(n);
    assert.equal(fixed.code, 0, show(fixed));
    assert.match(fixed.stdout, /\[certs\] Generating "apiserver" certificate and key/);
    const api = cert(n.at(`${PKI}/apiserver.crt`));
    assert.match(api.subjectAltName ?? '', /DNS:api\.example\.test/);
    assert.match(api.subjectAltName ?? '', /IP Address:203\.0\.113\.7/);
    assert.ok(api.verify(cert(n.at(`${PKI}/ca.crt`)).publicKey));
    for (const [f, bytes] of keep) assert.deepEqual(readFileSync(n.at(`${PKI}/${f}`)), bytes, `${f} kept`);
    const again = await initRoot(n);
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /^\[init\] Nothing changed: /m);
  });

  it('against the test double: the running components hold their ports, nothing is restarted, the wait passes', async (t) => {
    if (!requireTools(t, 'etcd', 'openssl')) return;
    const a = await arrange();
    t.after(() => a.dispose());
    const init = () => runCli(['init', '--root', a.root, '--config', a.config, '--wait-timeout', '60s'], { env: cleanEnv(a.env), timeoutMs: 120_000 });
    const first = await init();
    assert.equal(first.code, 0, show(first));
    const hashes = a.double.mirrorPods().map((p) => (p.metadata as { annotations: Record<string, string> }).annotations['kubernetes.io/config.hash']);
    const events = a.double.timeline.length;
    const again = await init();
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, new RegExp(`^\\[preflight\\] \\[INFO Port-${a.ports.apiserver}\\]: Port ${a.ports.apiserver} is in use by kube-apiserver, owned by kubeboot$`, 'm'));
    assert.match(again.stdout, new RegExp(`^\\[preflight\\] \\[INFO Port-${a.ports.etcdClient}\\]: Port ${a.ports.etcdClient} is in use by etcd, owned by kubeboot$`, 'm'));
    assert.match(again.stdout, /^\[preflight\] \[INFO DirAvailable--var-lib-etcd\]: /m);
    assert.match(again.stdout, /\[mirror-pods\] All mirror pods are Ready after /);
    assert.match(again.stdout, /^\[init\] Nothing changed: \d+ file\(s\) already up to date/m);
    assert.deepEqual(a.double.mirrorPods().map((p) => (p.metadata as { annotations: Record<string, string> }).annotations['kubernetes.io/config.hash']), hashes);
    const later = a.double.timeline.slice(events).map((e) => `${e.pod}: ${e.event}`);
    assert.ok(!later.some((e) => /manifest changed|manifest removed|pod created/.test(e)), later.join('\n'));
    assert.equal(a.double.mirrorPods().length, 4);
  });
});
