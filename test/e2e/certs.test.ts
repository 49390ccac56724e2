/**
 * The built CLI's `certs check-expiration` and `certs renew` on a node set up by `kubeboot init --root`.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { CAS, KUBECONFIGS, LEAVES, PKI, cert, cli, initRoot, jsonEvents, keyMatches, kubeconfigCert, modeOf, modulus, newNode, show, type Node } from '../unit/lifecycle/support.js';

const DAY = 86_400_000;

async function setUp(t: { after: (fn: () => void) => void }, clusterExtra = ''): Promise<Node> {
  const n = await newNode(t, clusterExtra);
  const r = await initRoot(n);
  assert.equal(r.code, 0, show(r));
  return n;
}

function expiration(n: Node, ...extra: string[]) {
  return cli(['certs', 'check-expiration', '--root', n.root, ...extra]);
}

interface Entry {
  name: string;
  expirationDate: string | null;
  residualTime: number;
  externallyManaged: boolean;
  caName?: string;
  missing: boolean;
  unreadable?: string;
}
interface Info {
  kind: string;
  apiVersion: string;
  certificates: Entry[];
  certificateAuthorities: Entry[];
}

describe('certs check-expiration', () => {
  it("kubeadm's two tables from the recorded configuration; -o json / -o yaml / --output json carry the same data", async (t) => {
    const n = await setUp(t);
    const r = await expiration(n);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^\[check-expiration\] Reading the configuration from what kubeboot init recorded in \/etc\/kubernetes\/kubeboot\/config\.yaml\n\n/);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => l.startsWith('CERTIFICATE '));
    assert.equal(lines[head], 'CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED');
    const rows = lines.slice(head + 1, head + 12);
    assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]), [
      'admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf', 'etcd-healthcheck-client',
      'etcd-peer', 'etcd-server', 'front-proxy-client', 'scheduler.conf', 'super-admin.conf',
    ]);
    const api = cert(n.at(`${PKI}/apiserver.crt`));
    const exp = new Date(api.validTo);
    const mon = exp.toUTCString().slice(8, 11);
    const date = `${mon} ${String(exp.getUTCDate()).padStart(2, '0')}, ${exp.getUTCFullYear()} ${String(exp.getUTCHours()).padStart(2, '0')}:${String(exp.getUTCMinutes()).padStart(2, '0')} UTC`;
    assert.ok(rows.includes(`apiserver                  ${date}   364d            ca                      no      `), rows.join('\n'));
    assert.match(rows.find((l) => l.startsWith('etcd-peer')) ?? '', /^etcd-peer\s+\w{3} \d\d, \d{4} \d\d:\d\d UTC\s+364d\s+etcd-ca\s+no {6}$/);
    assert.equal(lines[head + 12], '');
    assert.equal(lines[head + 13], 'CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED');
    assert.deepEqual(lines.slice(head + 14, head + 17).map((l) => l.replace(/\w{3} \d\d, \d{4} \d\d:\d\d UTC/, 'DATE')), [
      'ca                      DATE   9y              no      ',
      'etcd-ca                 DATE   9y              no      ',
      'front-proxy-ca          DATE   9y              no      ',
    ]);
    assert.equal(r.stderr, '', 'nothing expires soon: no warning');

    const j = await expiration(n, '-o', 'json');
    assert.equal(j.code, 0, show(j));
    assert.match(j.stdout, /^\{\n {4}"kind": "CertificateExpirationInfo",\n {4}"apiVersion": "output\.kubeadm\.k8s\.io\/v1alpha3",/);
    const info = JSON.parse(j.stdout) as Info;
    assert.equal(info.certificates.length, 11);
    const a = info.certificates.find((c) => c.name === 'apiserver');
    assert.deepEqual(Object.keys(a ?? {}), ['name', 'expirationDate', 'residualTime', 'externallyManaged', 'caName', 'missing']);
    assert.equal(a?.expirationDate, new Date(api.validTo).toISOString().replace('.000', ''));
    assert.ok(Math.abs((a?.residualTime ?? 0) - (exp.getTime() - Date.now()) / 1000) < 120);
    assert.deepEqual(info.certificateAuthorities.map((c) => [c.name, c.caName, c.externallyManaged, c.missing]), [
      ['ca', undefined, false, false],
      ['etcd-ca', undefined, false, false],
      ['front-proxy-ca', undefined, false, false],
    ]);

    const y = await expiration(n, '-o', 'yaml');
    assert.equal(y.code, 0, show(y));
    assert.match(y.stdout, /^apiVersion: output\.kubeadm\.k8s\.io\/v1alpha3\ncertificateAuthorities:\n/);
    const fromYaml = yaml.load(y.stdout) as Info;
    assert.deepEqual({ ...fromYaml, certificates: fromYaml.certificates.map((c) => ({ ...c, residualTime: 0 })), certificateAuthorities: fromYaml.certificateAuthorities.map((c) => ({ ...c, residualTime: 0 })) }, {
      ...info,
      certificates: info.certificates.map((c) => ({ ...c, residualTime: 0 })),
      certificateAuthorities: info.certificateAuthorities.map((c) => ({ ...c, residualTime: 0 })),
    });

    const g = await expiration(n, '--output', 'json');
    assert.equal(g.code, 0, show(g));
    const ev = jsonEvents(g);
    const result = ev.find((e) => e.type === 'result');
    assert.equal(result?.command, 'certs check-expiration');
    assert.equal((result?.data as Info).kind, 'CertificateExpirationInfo');
    assert.equal((result?.data as Info).certificates.length, 11);

    const bad = await expiration(n, '-o', 'table');
    assert.equal(bad.code, 3, show(bad));
    assert.match(bad.stderr, /error: -o: invalid value "table": valid values are text, json, yaml/);

    // --output json promises only JSON lines on stdout: -o yaml (or text) beside it is refused
    for (const f of ['yaml', 'text']) {
      const mixed = await expiration(n, '--output', 'json', '-o', f);
      assert.equal(mixed.code, 3, show(mixed));
      assert.ok(mixed.stdout.split('\n').filter(Boolean).every((l) => (JSON.parse(l) as { type: string }).type === 'error'), mixed.stdout);
      assert.match(mixed.stderr, new RegExp(`error: -o ${f} cannot be combined with --output json`));
    }
  });

  it('a certificate file that is there but unreadable is not "missing": the row says !UNREADABLE!, the error names each file and why, exit 1 (text, -o json|yaml, --output json)', async (t) => {
    const n = await setUp(t);
    writeFileSync(n.at(`${PKI}/apiserver.crt`), 'garbage\n');
    // a CA cut short, and a kubeconfig whose embedded client certificate is not one
    writeFileSync(n.at(`${PKI}/front-proxy-ca.crt`), readFileSync(n.at(`${PKI}/front-proxy-ca.crt`), 'utf8').slice(0, 300));
    const conf = n.at('etc/kubernetes/scheduler.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/client-certificate-data: \S+/, `client-certificate-data: ${Buffer.from('not a certificate').toString('base64')}`));
    const problems = [
      /^\t"\/etc\/kubernetes\/pki\/apiserver\.crt": not a valid certificate: .+$/m,
      /^\t"\/etc\/kubernetes\/pki\/front-proxy-ca\.crt": not a valid certificate: .+$/m,
      /^\t"\/etc\/kubernetes\/scheduler\.conf": its client certificate is not valid: .+$/m,
    ];

    const r = await expiration(n);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /^!UNREADABLE! apiserver {3}/m);
    assert.match(r.stdout, /^!UNREADABLE! scheduler\.conf/m);
    assert.match(r.stdout, /^!UNREADABLE! front-proxy-ca/m);
    assert.doesNotMatch(r.stdout, /MISSING/);
    assert.match(r.stdout, /^etcd-peer\s+\w{3} \d\d, \d{4}/m, 'the readable ones are all listed');
    assert.match(r.stderr, /^error: 3 certificate files could not be read, so their expiration is unknown$/m);
    for (const p of problems) assert.match(r.stderr, p);
    assert.match(r.stderr, /^hint: /m);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');

    for (const format of ['json', 'yaml']) {
      const d = await expiration(n, '-o', format);
      assert.equal(d.code, 1, show(d));
      const info = (format === 'json' ? JSON.parse(d.stdout) : yaml.load(d.stdout)) as Info;
      const api = info.certificates.find((c) => c.name === 'apiserver');
      assert.equal(api?.missing, false, 'the file is there');
      assert.equal(api?.expirationDate, null);
      assert.match(api?.unreadable ?? '', /^\/etc\/kubernetes\/pki\/apiserver\.crt: not a valid certificate: /);
      // entries that were read are kubeadm's, without the addition
      assert.deepEqual(Object.keys(info.certificates.find((c) => c.name === 'etcd-peer') ?? {}).sort(), ['caName', 'expirationDate', 'externallyManaged', 'missing', 'name', 'residualTime']);
      for (const p of problems) assert.match(d.stderr, p);
    }

    const j = await expiration(n, '--output', 'json');
    assert.equal(j.code, 1, show(j));
    const ev = jsonEvents(j);
    assert.deepEqual(ev.slice(-2).map((e) => e.type), ['result', 'error']);
    const err = ev.at(-1) as { exitCode?: number; issues?: string[] };
    assert.equal(err.exitCode, 1);
    assert.equal(err.issues?.length, 3);

    // a file kubeboot may not read is unreadable too (as root, a directory in its place)
    rmSync(n.at(`${PKI}/apiserver.crt`));
    mkdirSync(n.at(`${PKI}/apiserver.crt`));
    const dir = await expiration(n);
    assert.equal(dir.code, 1, show(dir));
    assert.match(dir.stderr, /^\t"\/etc\/kubernetes\/pki\/apiserver\.crt": it is a directory$/m);
  });

  it('a short validity (certificateValidityPeriod: 240h) is warned about; missing items are marked; an external CA is externally managed', async (t) => {
    const n = await setUp(t, 'certificateValidityPeriod: 240h\n');
    rmSync(n.at(`${PKI}/front-proxy-client.crt`));
    rmSync(n.at('etc/kubernetes/scheduler.conf'));
    const r = await expiration(n);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^apiserver\s+\w{3} \d\d, \d{4} \d\d:\d\d UTC\s+9d\s+ca\s+no/m);
    assert.match(r.stdout, /^!MISSING! front-proxy-client {4}/m);
    assert.match(r.stdout, /^!MISSING! scheduler\.conf {8}/m);
    assert.match(r.stderr, /^\[check-expiration\] WARNING: the certificate apiserver expires in 9d \(\w{3} \d\d, \d{4} \d\d:\d\d UTC\); renew it with 'kubeboot certs renew apiserver'$/m);
    assert.equal((r.stderr.match(/expires in 9d/g) ?? []).length, 9, r.stderr);
    assert.doesNotMatch(r.stderr, /certificate authority ca expires/);

    // external CA: ca.key is not on this node
    renameSync(n.at(`${PKI}/ca.key`), path.join(n.dir, 'ca.key'));
    const j = await expiration(n, '-o', 'json');
    assert.equal(j.code, 0, show(j));
    const info = JSON.parse(j.stdout) as Info;
    const by = (name: string) => info.certificates.find((c) => c.name === name);
    assert.equal(by('apiserver')?.externallyManaged, true);
    assert.equal(by('admin.conf')?.externallyManaged, true);
    assert.equal(by('etcd-server')?.externallyManaged, false);
    assert.deepEqual(by('front-proxy-client'), { name: 'front-proxy-client', expirationDate: null, residualTime: 0, externallyManaged: false, missing: true });
    assert.equal(info.certificateAuthorities.find((c) => c.name === 'ca')?.externallyManaged, true);
    assert.match(j.stderr, /WARNING: the certificate apiserver expires in 9d .*signed by an external CA \(ca\): renew it with that CA/);
    assert.doesNotMatch(j.stdout, /WARNING/, '-o json keeps stdout a JSON document');
  });

  it('--config wins over the recorded configuration; --cert-dir over both', async (t) => {
    const n = await setUp(t);
    const other = path.join(n.dir, 'otherpki');
    const r = await expiration(n, '--cert-dir', other, '-o', 'json');
    assert.equal(r.code, 0, show(r));
    const info = JSON.parse(r.stdout) as Info;
    assert.deepEqual(info.certificates.filter((c) => c.missing).map((c) => c.name), [
      'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client',
    ]);
    assert.ok(info.certificateAuthorities.every((c) => c.missing));
    const c = await expiration(n, '--config', n.config);
    assert.equal(c.code, 0, show(c));
    assert.doesNotMatch(c.stdout, /Reading the configuration/, 'with --config kubeadm prints the tables only');
    const cj = await expiration(n, '--config', n.config, '--output', 'json');
    assert.match(cj.stdout, /Reading the configuration from the configuration file .*config\.yaml/);
  });
});

describe('certs renew', () => {
  it('renew all: new keys, same identity, new validity, signed by the CA; CAs, sa and kubelet.conf untouched; modes kept; ledger updated', async (t) => {
    const n = await setUp(t);
    const before = new Map<string, X509Certificate>();
    for (const [b] of LEAVES) before.set(b, cert(n.at(`${PKI}/${b}.crt`)));
    const kcBefore = new Map(KUBECONFIGS.map((f) => [f, kubeconfigCert(n.at(`etc/kubernetes/${f}`))]));
    const untouched = [...CAS.flatMap((c) => [`${PKI}/${c}.crt`, `${PKI}/${c}.key`]), `${PKI}/sa.key`, `${PKI}/sa.pub`, 'etc/kubernetes/kubelet.conf'].map((f) => [f, readFileSync(n.at(f))] as const);
    const started = Date.now();
    const r = await cli(['certs', 'renew', 'all', '--root', n.root]);
    const ended = Date.now();
    assert.equal(r.code, 0, show(r));
    t.diagnostic(`renew all took ${ended - started} ms`);
    for (const line of [
      'certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself renewed',
      'certificate for serving the Kubernetes API renewed',
      'certificate for serving etcd renewed',
      'certificate embedded in the kubeconfig file for the super-admin renewed',
      '',
      'Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates.',
    ]) assert.ok(r.stdout.split('\n').includes(line), `missing line ${JSON.stringify(line)}\n${show(r)}`);
    assert.match(r.stdout, /To do that now: kubeboot certs renew all --restart/);

    const cas = new Map<string, X509Certificate>(CAS.map((c) => [c, cert(n.at(`${PKI}/${c}.crt`))]));
    for (const [b, caName] of LEAVES) {
      const old = before.get(b) as X509Certificate;
      const now = cert(n.at(`${PKI}/${b}.crt`));
      assert.notEqual(modulus(now), modulus(old), `${b}: a new key`);
      assert.ok(keyMatches(now, readFileSync(n.at(`${PKI}/${b}.key`))), `${b}: the key on disk is the certificate's`);
      assert.equal(now.subject, old.subject, b);
      assert.equal(now.subjectAltName, old.subjectAltName, b);
      assert.deepEqual(now.keyUsage, old.keyUsage, b);
      assert.notEqual(now.serialNumber, old.serialNumber);
      const nb = new Date(now.validFrom).getTime();
      const na = new Date(now.validTo).getTime();
      assert.ok(nb >= started - 5 * 60_000 - 2000 && nb <= ended - 5 * 60_000 + 1000, `${b}: NotBefore = now − 5 min (${now.validFrom})`);
      assert.ok(Math.abs(na - nb - (365 * DAY + 5 * 60_000)) < 2000, `${b}: NotAfter = now + 8760h`);
      assert.ok(now.verify((cas.get(caName) as X509Certificate).publicKey), `${b} verifies against ${caName}`);
      assert.equal(modeOf(n.at(`${PKI}/${b}.crt`)), 0o644);
      assert.equal(modeOf(n.at(`${PKI}/${b}.key`)), 0o600);
    }
    for (const f of KUBECONFIGS.filter((x) => x !== 'kubelet.conf')) {
      const old = kcBefore.get(f)!;
      const now = kubeconfigCert(n.at(`etc/kubernetes/${f}`));
      assert.notEqual(modulus(now.cert), modulus(old.cert), `${f}: a new key`);
      assert.ok(keyMatches(now.cert, now.keyPem), f);
      assert.equal(now.cert.subject, old.cert.subject, f);
      assert.ok(now.cert.verify((cas.get('ca') as X509Certificate).publicKey), f);
      assert.equal(now.caPem.trim(), readFileSync(n.at(`${PKI}/ca.crt`), 'utf8').trim());
      assert.equal(modeOf(n.at(`etc/kubernetes/${f}`)), 0o600);
    }
    for (const [f, bytes] of untouched) assert.deepEqual(readFileSync(n.at(f)), bytes, `${f} untouched`);
    // EKUs, SANs and subject as kubeboot's reader sees them (Node's X509Certificate has no EKU accessor)
    const { readCertificate } = await import('../../src/pki/inspect.js');
    for (const [b] of LEAVES) {
      const now = await readCertificate(readFileSync(n.at(`${PKI}/${b}.crt`)));
      const old = await readCertificate((before.get(b) as X509Certificate).toString());
      assert.deepEqual(now.extKeyUsage, old.extKeyUsage, b);
      assert.deepEqual([now.dnsNames, now.ips], [old.dnsNames, old.ips], b);
      assert.deepEqual(now.subject, old.subject, b);
    }
    const ledger = JSON.parse(readFileSync(n.at('etc/kubernetes/kubeboot/files.json'), 'utf8')) as { files: Record<string, unknown> };
    assert.ok(ledger.files['/etc/kubernetes/pki/apiserver.crt']);
    assert.deepEqual(
      (await import('node:fs')).readdirSync(n.at('etc/kubernetes/kubeboot')).filter((x) => x.startsWith('intent-')),
      [],
      'no intent record left',
    );
    // check-expiration sees the renewed certificates
    const e = await expiration(n, '-o', 'json');
    const info = JSON.parse(e.stdout) as Info;
    assert.equal(info.certificates.find((c) => c.name === 'apiserver')?.expirationDate, new Date(cert(n.at(`${PKI}/apiserver.crt`)).validTo).toISOString().replace('.000', ''));
  });

  it('one item; the components that read it; missing and external CA are reported, not renewed', async (t) => {
    const n = await setUp(t);
    const s = await cli(['certs', 'renew', 'scheduler.conf', '--root', n.root, '--output', 'json']);
    assert.equal(s.code, 0, show(s));
    const res = jsonEvents(s).find((e) => e.type === 'result');
    assert.deepEqual((res?.data as { restartNeeded: string[] }).restartNeeded, ['kube-scheduler']);
    assert.deepEqual((res?.data as { renewed: { files: string[] }[] }).renewed[0]?.files, ['/etc/kubernetes/scheduler.conf']);

    const a = await cli(['certs', 'renew', 'admin.conf', '--root', n.root]);
    assert.equal(a.code, 0, show(a));
    assert.match(a.stdout, /No control-plane component reads the renewed file \(admin\.conf\); nothing needs a restart\./);

    rmSync(n.at(`${PKI}/front-proxy-client.crt`));
    const m = await cli(['certs', 'renew', 'front-proxy-client', '--root', n.root]);
    assert.equal(m.code, 0, show(m));
    assert.match(m.stdout, /^MISSING! certificate for the front proxy client$/m);
    assert.doesNotMatch(m.stdout, /renewed/);

    const caKey = n.at(`${PKI}/ca.key`);
    const apiBefore = readFileSync(n.at(`${PKI}/apiserver.crt`));
    renameSync(caKey, path.join(n.dir, 'ca.key'));
    const x = await cli(['certs', 'renew', 'all', '--root', n.root, '--output', 'json']);
    assert.equal(x.code, 0, show(x));
    const xr = jsonEvents(x).find((e) => e.type === 'result')?.data as { renewed: { name: string }[]; external: string[]; missing: string[] };
    assert.ok(jsonEvents(x).some((e) => e.type === 'log' && e.message === "Detected external ca, certificate for serving the Kubernetes API can't be renewed"));
    assert.deepEqual(xr.external, ['admin.conf', 'apiserver', 'apiserver-kubelet-client', 'controller-manager.conf', 'scheduler.conf', 'super-admin.conf']);
    assert.deepEqual(xr.missing, ['front-proxy-client']);
    assert.deepEqual(xr.renewed.map((r) => r.name), ['apiserver-etcd-client', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server']);
    assert.deepEqual(readFileSync(n.at(`${PKI}/apiserver.crt`)), apiBefore);
    assert.ok(statSync(n.at(`${PKI}/etcd/server.crt`)).mtimeMs > statSync(n.at(`${PKI}/apiserver.crt`)).mtimeMs);

    const u = await cli(['certs', 'renew', 'kubelet.conf', '--root', n.root]);
    assert.equal(u.code, 3, show(u));
  });
});
