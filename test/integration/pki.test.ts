/**
 * `init phase certs all` through the built CLI, every certificate checked with the real openssl:
 * chain (verify -CAfile), subject, SANs, key usage, extended key usage, basic constraints, validity;
 * plus file modes, PEM types, kubeadm's messages and a second run that reuses everything.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';
import { tempDir } from '../helpers/tmp.js';
import { PKI, phase, writeConfig } from '../unit/pki/support.js';

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

interface Expect {
  base: string;
  ca: string;
  subject: string;
  isCA: boolean;
  eku: string | undefined;
  sans: string | undefined;
  validityHours: number;
}

const LEAF_KU = 'Digital Signature, Key Encipherment';
const CA_KU = 'Digital Signature, Key Encipherment, Certificate Sign';

const EXPECT: Expect[] = [
  { base: 'ca', ca: 'ca', subject: 'CN = kubernetes', isCA: true, eku: undefined, sans: 'DNS:kubernetes', validityHours: 87600 },
  {
    base: 'apiserver',
    ca: 'ca',
    subject: 'CN = kube-apiserver',
    isCA: false,
    eku: 'TLS Web Server Authentication',
    sans: 'DNS:cp1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:192.0.2.10',
    validityHours: 8760,
  },
  {
    base: 'apiserver-kubelet-client',
    ca: 'ca',
    subject: 'CN = kube-apiserver-kubelet-client',
    isCA: false,
    eku: 'TLS Web Client Authentication',
    sans: undefined,
    validityHours: 8760,
  },
  { base: 'front-proxy-ca', ca: 'front-proxy-ca', subject: 'CN = front-proxy-ca', isCA: true, eku: undefined, sans: 'DNS:front-proxy-ca', validityHours: 87600 },
  { base: 'front-proxy-client', ca: 'front-proxy-ca', subject: 'CN = front-proxy-client', isCA: false, eku: 'TLS Web Client Authentication', sans: undefined, validityHours: 8760 },
  { base: 'etcd/ca', ca: 'etcd/ca', subject: 'CN = etcd-ca', isCA: true, eku: undefined, sans: 'DNS:etcd-ca', validityHours: 87600 },
  {
    base: 'etcd/server',
    ca: 'etcd/ca',
    subject: 'CN = cp1',
    isCA: false,
    eku: 'TLS Web Server Authentication, TLS Web Client Authentication',
    sans: 'DNS:cp1, DNS:localhost, IP Address:192.0.2.10, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    validityHours: 8760,
  },
  {
    base: 'etcd/peer',
    ca: 'etcd/ca',
    subject: 'CN = cp1',
    isCA: false,
    eku: 'TLS Web Server Authentication, TLS Web Client Authentication',
    sans: 'DNS:cp1, DNS:localhost, IP Address:192.0.2.10, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    validityHours: 8760,
  },
  { base: 'etcd/healthcheck-client', ca: 'etcd/ca', subject: 'CN = kube-etcd-healthcheck-client', isCA: false, eku: 'TLS Web Client Authentication', sans: undefined, validityHours: 8760 },
  { base: 'apiserver-etcd-client', ca: 'etcd/ca', subject: 'CN = kube-apiserver-etcd-client', isCA: false, eku: 'TLS Web Client Authentication', sans: undefined, validityHours: 8760 },
];

/** The value line that follows an extension header in `openssl x509 -text`. */
function extValue(text: string, header: string): string | undefined {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim().startsWith(header));
  return i < 0 ? undefined : lines[i + 1]?.trim();
}

test('certs all: every certificate passes openssl verify and carries kubeadm\'s fields', async (t) => {
  if (!requireTools(t, 'openssl')) return;
  const dir = tempDir(t, 'kubeboot-pki-');
  const root = path.join(dir, 'root');
  const config = writeConfig(dir);
  const before = Date.now();
  const r = await phase('certs', root, config);
  const after = Date.now();
  assert.equal(r.code, 0, r.stderr);
  const pki = path.join(root, PKI);

  const starts = new Set<number>();
  for (const e of EXPECT) {
    const crt = path.join(pki, `${e.base}.crt`);
    const key = path.join(pki, `${e.base}.key`);
    assert.equal(openssl(['verify', '-CAfile', path.join(pki, `${e.ca}.crt`), crt]).trim(), `${crt}: OK`);
    const text = openssl(['x509', '-noout', '-text', '-in', crt]);
    assert.match(text, new RegExp(`Subject: ${e.subject.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`), `${e.base} subject`);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /X509v3 Key Usage: critical/);
    assert.equal(extValue(text, 'X509v3 Key Usage'), e.isCA ? CA_KU : LEAF_KU, `${e.base} key usage`);
    assert.equal(extValue(text, 'X509v3 Basic Constraints'), e.isCA ? 'CA:TRUE' : 'CA:FALSE', `${e.base} basic constraints`);
    assert.equal(extValue(text, 'X509v3 Extended Key Usage'), e.eku, `${e.base} EKU`);
    assert.equal(extValue(text, 'X509v3 Subject Alternative Name'), e.sans, `${e.base} SANs`);
    assert.equal(text.includes('X509v3 Subject Key Identifier'), e.isCA, `${e.base}: SKID only on CAs`);
    assert.equal(text.includes('X509v3 Authority Key Identifier'), !e.isCA, `${e.base}: AKID only on signed certificates`);

    const dates = openssl(['x509', '-noout', '-startdate', '-enddate', '-serial', '-in', crt]);
    const nb = Date.parse((/notBefore=(.*)/.exec(dates)?.[1] ?? '').trim());
    const na = Date.parse((/notAfter=(.*)/.exec(dates)?.[1] ?? '').trim());
    const start = nb + 5 * 60_000;
    starts.add(start);
    assert.ok(start >= Math.floor(before / 1000) * 1000 && start <= after, `${e.base}: NotBefore is the run's start − 5 min`);
    assert.equal(na - start, e.validityHours * 3_600_000, `${e.base}: validity`);
    const serial = BigInt(`0x${(/serial=([0-9A-F]+)/.exec(dates)?.[1] ?? '0')}`);
    assert.ok(serial >= 1n && serial < (1n << 63n) - 1n, `${e.base}: serial ${serial} in [1, 2^63−1)`);

    assert.equal(statSync(crt).mode & 0o777, 0o644, `${e.base}.crt mode`);
    assert.equal(statSync(key).mode & 0o777, 0o600, `${e.base}.key mode`);
    assert.match(readFileSync(key, 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.match(readFileSync(crt, 'utf8'), /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
    // the key belongs to the certificate
    const certMod = openssl(['x509', '-noout', '-modulus', '-in', crt]);
    const keyMod = openssl(['rsa', '-noout', '-modulus', '-in', key]);
    assert.equal(certMod, keyMod, `${e.base}: key matches`);
  }
  assert.equal(starts.size, 1, 'one start time for the whole run');

  const sa = path.join(pki, 'sa.key');
  const pub = path.join(pki, 'sa.pub');
  assert.match(readFileSync(sa, 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----\n/);
  assert.match(readFileSync(pub, 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/);
  assert.equal(statSync(sa).mode & 0o777, 0o600);
  assert.equal(statSync(pub).mode & 0o777, 0o600);
  assert.equal(openssl(['rsa', '-in', sa, '-pubout']).trim(), readFileSync(pub, 'utf8').trim());

  assert.equal(
    r.stdout
      .split('\n')
      .filter((l) => l.startsWith('[certs]'))
      .join('\n'),
    [
      '[certs] Using certificateDir folder "/etc/kubernetes/pki"',
      '[certs] Generating "ca" certificate and key',
      '[certs] Generating "apiserver" certificate and key',
      '[certs] apiserver serving cert is signed for DNS names [cp1 kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local] and IPs [10.96.0.1 192.0.2.10]',
      '[certs] Generating "apiserver-kubelet-client" certificate and key',
      '[certs] Generating "front-proxy-ca" certificate and key',
      '[certs] Generating "front-proxy-client" certificate and key',
      '[certs] Generating "etcd/ca" certificate and key',
      '[certs] Generating "etcd/server" certificate and key',
      '[certs] etcd/server serving cert is signed for DNS names [cp1 localhost] and IPs [192.0.2.10 127.0.0.1 ::1]',
      '[certs] Generating "etcd/peer" certificate and key',
      '[certs] etcd/peer serving cert is signed for DNS names [cp1 localhost] and IPs [192.0.2.10 127.0.0.1 ::1]',
      '[certs] Generating "etcd/healthcheck-client" certificate and key',
      '[certs] Generating "apiserver-etcd-client" certificate and key',
      '[certs] Generating "sa" key and public key',
    ].join('\n'),
  );

  // a second run reuses every file and writes nothing
  const snapshot = EXPECT.map((e) => readFileSync(path.join(pki, `${e.base}.crt`), 'utf8'));
  const again = await phase('certs', root, config);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /\[certs\] Using existing ca certificate authority\n/);
  assert.match(again.stdout, /\[certs\] Using existing apiserver certificate and key on disk\n/);
  assert.match(again.stdout, /\[certs\] Using existing etcd\/server certificate and key on disk\n/);
  assert.match(again.stdout, /\[certs\] Using the existing "sa" key\n/);
  assert.doesNotMatch(again.stdout, /Generating/);
  assert.deepEqual(
    EXPECT.map((e) => readFileSync(path.join(pki, `${e.base}.crt`), 'utf8')),
    snapshot,
  );
});

test('certs with external etcd skip the etcd CA and its four certificates with kubeadm\'s messages', async (t) => {
  const dir = tempDir(t, 'kubeboot-pki-');
  const root = path.join(dir, 'root');
  const config = writeConfig(dir, {
    cluster: 'etcd:\n  external:\n    endpoints: ["https://192.0.2.50:2379"]\n',
  });
  const r = await phase('certs', root, config);
  assert.equal(r.code, 0, r.stderr);
  for (const line of [
    '[certs] External etcd mode: Skipping etcd/ca certificate authority generation',
    '[certs] External etcd mode: Skipping etcd/server certificate generation',
    '[certs] External etcd mode: Skipping etcd/peer certificate generation',
    '[certs] External etcd mode: Skipping etcd/healthcheck-client certificate generation',
    '[certs] External etcd mode: Skipping apiserver-etcd-client certificate generation',
  ]) {
    assert.ok(r.stdout.includes(`${line}\n`), `missing: ${line}\n${r.stdout}`);
  }
  assert.throws(() => statSync(path.join(root, PKI, 'etcd')), /ENOENT/);
  assert.throws(() => statSync(path.join(root, PKI, 'apiserver-etcd-client.crt')), /ENOENT/);
  assert.ok(statSync(path.join(root, PKI, 'apiserver.crt')).isFile());
});

test('certs apiserver alone (no parent phase) needs the CA first and says so', async (t) => {
  const dir = tempDir(t, 'kubeboot-pki-');
  const root = path.join(dir, 'root');
  const config = writeConfig(dir);
  const r2 = await runCli(['init', 'phase', 'certs', 'apiserver', '--root', root, '--config', config], { env: cleanEnv() });
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /couldn't load CA certificate ca: "\/etc\/kubernetes\/pki\/ca\.crt" does not exist/);
  assert.match(r2.stderr, /hint: run `kubeboot init phase certs ca` first/);
  const ca = await runCli(['init', 'phase', 'certs', 'ca', '--root', root, '--config', config], { env: cleanEnv() });
  assert.equal(ca.code, 0, ca.stderr);
  const r3 = await runCli(['init', 'phase', 'certs', 'apiserver', '--root', root, '--config', config], { env: cleanEnv() });
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stdout, /\[certs\] Generating "apiserver" certificate and key\n/);
  assert.doesNotMatch(r3.stdout, /Using certificateDir folder/);
});
