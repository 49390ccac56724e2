/**
 * Files that exist already (kubeadm-reference §2.4, §3): reuse, wrong CA, missing SAN, key mismatch,
 * expired, key without certificate, external CA, and kubeconfigs with another CA or server URL.
 * Nothing is ever overwritten: every refusal leaves the bytes on disk as they were.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { parsePrivateKey } from '../../src/pki/keys.js';
import { readCertificate } from '../../src/pki/inspect.js';
import { issueCertificate } from '../../src/pki/sign.js';
import { keyUsageOf } from '../../src/pki/table.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { KDIR, PKI, phase, writeConfig, type ConfigOptions } from '../unit/pki/support.js';

async function fresh(t: TestContext, o: ConfigOptions = {}, withKubeconfigs = false) {
  const dir = tempDir(t, 'kubeboot-existing-');
  const root = path.join(dir, 'root');
  const config = writeConfig(dir, o);
  const a = await phase('certs', root, config);
  assert.equal(a.code, 0, a.stderr);
  if (withKubeconfigs) {
    const b = await phase('kubeconfig', root, config);
    assert.equal(b.code, 0, b.stderr);
  }
  return { dir, root, config, pki: path.join(root, PKI), kdir: path.join(root, KDIR) };
}

function snapshot(files: readonly string[]): string[] {
  return files.map((f) => readFileSync(f, 'utf8'));
}

test('a partly present PKI: valid files are reused, absent pairs generated', async (t) => {
  const { root, config, pki } = await fresh(t);
  rmSync(path.join(pki, 'front-proxy-client.crt'));
  rmSync(path.join(pki, 'front-proxy-client.key'));
  const kept = snapshot([path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')]);
  const r = await phase('certs', root, config);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[certs\] Using existing front-proxy-ca certificate authority\n\[certs\] Generating "front-proxy-client" certificate and key\n/);
  assert.match(r.stdout, /\[certs\] Using existing apiserver certificate and key on disk\n/);
  assert.deepEqual(snapshot([path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')]), kept);
  assert.match(r.stdout, /\[init\] 2 file\(s\) written, 20 unchanged/);
});

test('a certificate signed by another CA is an error naming the file', async (t) => {
  const a = await fresh(t);
  const b = await fresh(t);
  copyFileSync(path.join(b.pki, 'apiserver.crt'), path.join(a.pki, 'apiserver.crt'));
  copyFileSync(path.join(b.pki, 'apiserver.key'), path.join(a.pki, 'apiserver.key'));
  const before = snapshot([path.join(a.pki, 'apiserver.crt'), path.join(a.pki, 'apiserver.key')]);
  const r = await phase('certs', a.root, a.config);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /error: error execution phase certs\/apiserver: certificate apiserver \("\/etc\/kubernetes\/pki\/apiserver\.crt"\) is not signed by CA certificate ca \("\/etc\/kubernetes\/pki\/ca\.crt"\)/,
  );
  assert.match(r.stderr, /hint: .*kubeboot init phase certs apiserver/);
  assert.deepEqual(snapshot([path.join(a.pki, 'apiserver.crt'), path.join(a.pki, 'apiserver.key')]), before);
});

test('a certificate missing a configured SAN is an error listing the missing names', async (t) => {
  const a = await fresh(t);
  const config2 = writeConfig(a.dir, { cluster: 'apiServer:\n  certSANs: ["api.example.com", "203.0.113.5", "kubernetes"]\n' });
  const r = await phase('certs', a.root, config2);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /certificate apiserver \("\/etc\/kubernetes\/pki\/apiserver\.crt"\) is missing required SANs: DNS names \[api\.example\.com\] and IPs \[203\.0\.113\.5\]/,
  );
  assert.match(r.stderr, /hint: the configuration asks for names this certificate does not cover/);
});

test('a changed node name makes the existing apiserver certificate lack a SAN', async (t) => {
  const a = await fresh(t);
  const config2 = writeConfig(a.dir, { nodeName: 'cp2' });
  const r = await phase('certs', a.root, config2);
  assert.equal(r.code, 1);
  // apiserver comes first in the table, and it carries the node name as well
  assert.match(r.stderr, /certificate apiserver \(.*\) is missing required SANs: DNS names \[cp2\] and IPs \[\]/);
});

test('a key that does not match its certificate is an error', async (t) => {
  const a = await fresh(t);
  copyFileSync(path.join(a.pki, 'front-proxy-client.key'), path.join(a.pki, 'apiserver-kubelet-client.key'));
  const r = await phase('certs', a.root, a.config);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /the private key "\/etc\/kubernetes\/pki\/apiserver-kubelet-client\.key" does not match the certificate "\/etc\/kubernetes\/pki\/apiserver-kubelet-client\.crt"/,
  );
});

test('an expired certificate is an error that names the renew command', async (t) => {
  const a = await fresh(t);
  const caCert = await readCertificate(readFileSync(path.join(a.pki, 'ca.crt')));
  const caKey = parsePrivateKey(readFileSync(path.join(a.pki, 'ca.key')));
  const key = parsePrivateKey(readFileSync(path.join(a.pki, 'apiserver.key')));
  assert.ok(caKey && key);
  const old = await readCertificate(readFileSync(path.join(a.pki, 'apiserver.crt')));
  const { createPublicKey } = await import('node:crypto');
  const expired = await issueCertificate({
    plan: {
      name: 'apiserver',
      commonName: 'kube-apiserver',
      organization: [],
      isCA: false,
      keyUsage: keyUsageOf(false),
      extKeyUsage: ['serverAuth'],
      dnsNames: old.dnsNames,
      ips: old.ips,
      validityMs: 0,
    },
    validity: { notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
    publicKey: createPublicKey(key),
    signer: { caCertDer: caCert.der, caKey },
  });
  writeFileSync(path.join(a.pki, 'apiserver.crt'), expired.pem);
  const r = await phase('certs', a.root, a.config);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /certificate apiserver \("\/etc\/kubernetes\/pki\/apiserver\.crt"\) has expired: NotBefore: .* \+0000 UTC, NotAfter: .* \+0000 UTC/);
  assert.match(r.stderr, /hint: renew it with `kubeboot certs renew apiserver`/);
  assert.equal(readFileSync(path.join(a.pki, 'apiserver.crt'), 'utf8'), expired.pem);
});

test('a key without its certificate is never overwritten', async (t) => {
  const a = await fresh(t);
  rmSync(path.join(a.pki, 'etcd/peer.crt'));
  const key = readFileSync(path.join(a.pki, 'etcd/peer.key'), 'utf8');
  const r = await phase('certs', a.root, a.config);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /found the private key "\/etc\/kubernetes\/pki\/etcd\/peer\.key" but not its certificate "\/etc\/kubernetes\/pki\/etcd\/peer\.crt"/);
  assert.equal(readFileSync(path.join(a.pki, 'etcd/peer.key'), 'utf8'), key);
});

test('an unreadable sa.key is kubeadm\'s error', async (t) => {
  const a = await fresh(t);
  writeFileSync(path.join(a.pki, 'sa.key'), 'not a key\n');
  const r = await runCli(['init', 'phase', 'certs', 'sa', '--root', a.root, '--config', a.config], { env: cleanEnv() });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /file sa\.key existed but it could not be loaded properly/);
});

test('external CA: ca.crt without ca.key; user-provided files are used, missing ones are an error', async (t) => {
  const a = await fresh(t, {}, true);
  rmSync(path.join(a.pki, 'ca.key'));
  const r = await phase('certs', a.root, a.config);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[certs\] Using existing ca keyless certificate authority\n/);
  assert.match(r.stdout, /\[certs\] Using existing apiserver certificate and key on disk\n/);
  assert.match(r.stdout, /\[certs\] Using existing sa keys\n/);
  const k = await phase('kubeconfig', a.root, a.config);
  assert.equal(k.code, 0, k.stderr);
  for (const f of ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'controller-manager.conf', 'scheduler.conf']) {
    assert.ok(k.stdout.includes(`[kubeconfig] External CA mode: Using user provided ${f}\n`), k.stdout);
  }

  rmSync(path.join(a.kdir, 'scheduler.conf'));
  const k2 = await phase('kubeconfig', a.root, a.config);
  assert.equal(k2.code, 1);
  assert.match(k2.stderr, /invalid or incomplete external CA: the kubeconfig file "\/etc\/kubernetes\/scheduler\.conf" does not exist and cannot be made without the CA key "\/etc\/kubernetes\/pki\/ca\.key"/);

  rmSync(path.join(a.pki, 'apiserver-kubelet-client.crt'));
  rmSync(path.join(a.pki, 'apiserver-kubelet-client.key'));
  const r2 = await phase('certs', a.root, a.config);
  assert.equal(r2.code, 1);
  assert.match(
    r2.stderr,
    /invalid or incomplete external CA: certificate apiserver-kubelet-client \("\/etc\/kubernetes\/pki\/apiserver-kubelet-client\.crt"\) is missing and cannot be signed without the CA key "\/etc\/kubernetes\/pki\/ca\.key"/,
  );
});

test('a kubeconfig with another CA is an error; another server URL only a warning', async (t) => {
  const a = await fresh(t, {}, true);
  const b = await fresh(t, {}, true);
  copyFileSync(path.join(b.kdir, 'admin.conf'), path.join(a.kdir, 'admin.conf'));
  const foreign = readFileSync(path.join(a.kdir, 'admin.conf'), 'utf8');
  const r = await phase('kubeconfig', a.root, a.config);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /a kubeconfig file "\/etc\/kubernetes\/admin\.conf" exists already but has got the wrong CA cert/);
  assert.equal(readFileSync(path.join(a.kdir, 'admin.conf'), 'utf8'), foreign);

  rmSync(path.join(a.kdir, 'admin.conf'));
  const ok = await phase('kubeconfig', a.root, a.config);
  assert.equal(ok.code, 0, ok.stderr);
  const sched = path.join(a.kdir, 'scheduler.conf');
  const moved = readFileSync(sched, 'utf8').replace('server: https://192.0.2.10:6443', 'server: https://192.0.2.99:6443');
  writeFileSync(sched, moved);
  const w = await phase('kubeconfig', a.root, a.config);
  assert.equal(w.code, 0, w.stderr);
  assert.match(
    w.stderr,
    /a kubeconfig file "\/etc\/kubernetes\/scheduler\.conf" exists already but has an unexpected API Server URL: expected: https:\/\/192\.0\.2\.10:6443, got: https:\/\/192\.0\.2\.99:6443/,
  );
  assert.match(w.stdout, /\[kubeconfig\] Using existing kubeconfig file: "\/etc\/kubernetes\/scheduler\.conf"\n/);
  assert.equal(readFileSync(sched, 'utf8'), moved);
});
