import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { restartAdvice } from '../../../src/cli/certs.js';
import { expirationTables, kubeadmDate, shortHumanDuration, tabwrite, type CertificateExpirationInfo } from '../../../src/pki/expiration.js';
import { RENEW_NAMES, andList, caRows, componentsFor, renewItems } from '../../../src/pki/items.js';
import { askYesNo } from '../../../src/cli/prompt.js';
import { initPaths } from '../../../src/node/reset.js';
import { ensureCA, ensureLeaf } from '../../../src/pki/certs.js';
import { intentPath, recoverPair, writePair } from '../../../src/pki/intent.js';
import { certRow } from '../../../src/pki/table.js';
import { buildSpec } from '../../../src/config/load.js';
import { LEDGER, LedgerTrackingEffects, readLedger, removeStaleTempFiles } from '../../../src/node/state.js';
import { testContext } from '../../helpers/context.js';
import { FakeEffects } from '../../helpers/fake-effects.js';
import { TEST_HOST } from '../../helpers/host.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const H = 3600_000;
const D = 24 * H;

describe('check-expiration formatting', () => {
  it('residual time in apimachinery HumanDuration form (what kubeadm check-expiration prints)', () => {
    const M = 60_000;
    assert.equal(shortHumanDuration(-5000), '<invalid>');
    assert.equal(shortHumanDuration(-500), '0s');
    assert.equal(shortHumanDuration(59_999), '59s');
    assert.equal(shortHumanDuration(60_000), '60s');
    assert.equal(shortHumanDuration(2 * M), '2m');
    assert.equal(shortHumanDuration(2 * M + 30_000), '2m30s');
    assert.equal(shortHumanDuration(59 * M), '59m');
    assert.equal(shortHumanDuration(179 * M), '179m');
    assert.equal(shortHumanDuration(3 * H + 5 * M), '3h5m');
    assert.equal(shortHumanDuration(47 * H + 59 * M), '47h');
    assert.equal(shortHumanDuration(48 * H), '2d');
    assert.equal(shortHumanDuration(2 * D + 5 * H), '2d5h');
    assert.equal(shortHumanDuration(364 * D + 23 * H), '364d');
    assert.equal(shortHumanDuration(730 * D - 1000), '729d');
    assert.equal(shortHumanDuration(730 * D), '2y');
    assert.equal(shortHumanDuration(4 * 365 * D + 364 * D + 12 * H), '4y364d');
    assert.equal(shortHumanDuration(3650 * D - 10 * M), '9y');
  });

  it("dates in Go's Jan 02, 2006 15:04 MST layout (UTC)", () => {
    assert.equal(kubeadmDate(new Date('2027-03-05T07:09:59Z')), 'Mar 05, 2027 07:09 UTC');
    assert.equal(kubeadmDate(new Date('2036-12-31T23:59:00Z')), 'Dec 31, 2036 23:59 UTC');
  });

  it("tabwriter: minwidth 10, padding 3, blocks end at an empty line, the last cell is not padded", () => {
    assert.equal(tabwrite(['A\tBB\tlast', 'CCCC\tD\tx']), 'A         BB        last\nCCCC      D         x\n');
    assert.equal(tabwrite(['averyveryverylongname\tx', 'b\ty', '', 'c\tz']), `averyveryverylongname   x\nb${' '.repeat(23)}y\n\nc         z\n`);
  });

  it("kubeadm's two tables, missing rows, yes/no padded to 8", () => {
    const info: CertificateExpirationInfo = {
      kind: 'CertificateExpirationInfo',
      apiVersion: 'output.kubeadm.k8s.io/v1alpha3',
      certificates: [
        { name: 'admin.conf', expirationDate: '2027-01-01T00:00:00Z', residualTime: 364 * 86400, externallyManaged: false, caName: 'ca', missing: false },
        { name: 'apiserver', expirationDate: null, residualTime: 0, externallyManaged: false, missing: true },
      ],
      certificateAuthorities: [{ name: 'ca', expirationDate: '2036-01-01T00:00:00Z', residualTime: 3649 * 86400, externallyManaged: true, missing: false }],
    };
    assert.equal(
      expirationTables(info),
      [
        'CERTIFICATE           EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED',
        'admin.conf            Jan 01, 2027 00:00 UTC   364d            ca                      no      ',
        `!MISSING! apiserver${' '.repeat(22 - 19 + 25 + 16 + 24)}`,
        '',
        'CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED',
        'ca                      Jan 01, 2036 00:00 UTC   9y              yes     ',
        '',
      ].join('\n'),
    );
  });
});

describe('renewable items', () => {
  it("kubeadm's names, sorted; never a CA, never kubelet.conf; external etcd drops the etcd certificates", () => {
    assert.deepEqual(RENEW_NAMES, [
      'admin.conf',
      'apiserver',
      'apiserver-etcd-client',
      'apiserver-kubelet-client',
      'controller-manager.conf',
      'etcd-healthcheck-client',
      'etcd-peer',
      'etcd-server',
      'front-proxy-client',
      'scheduler.conf',
      'super-admin.conf',
    ]);
    const ext = buildSpec(
      {
        apiVersion: 'kubeadm.k8s.io/v1beta4',
        init: { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'InitConfiguration' },
        cluster: { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'ClusterConfiguration', etcd: { external: { endpoints: ['https://10.0.0.1:2379'], caFile: '/e/ca.crt', certFile: '/e/c.crt', keyFile: '/e/c.key' } } },
        kubelet: undefined,
      } as never,
      {},
      TEST_HOST,
      'x',
    ).spec;
    assert.deepEqual(renewItems(ext).map((i) => i.name), RENEW_NAMES.filter((n) => !n.startsWith('etcd-') && n !== 'apiserver-etcd-client'));
    assert.deepEqual(caRows(ext).map((r) => r.name), ['ca', 'front-proxy-ca']);
    assert.deepEqual(caRows().map((r) => r.name), ['ca', 'etcd-ca', 'front-proxy-ca']);
  });

  it('the components that read renewed files, in restart order, and the advice text', () => {
    assert.deepEqual(componentsFor(['admin.conf', 'super-admin.conf']), []);
    assert.deepEqual(componentsFor(['scheduler.conf', 'etcd-peer', 'front-proxy-client']), ['etcd', 'kube-apiserver', 'kube-scheduler']);
    assert.deepEqual(componentsFor(RENEW_NAMES), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    assert.deepEqual(restartAdvice(RENEW_NAMES, true), [
      'Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates.',
    ]);
    assert.deepEqual(restartAdvice(['apiserver'], false), ['You must restart the kube-apiserver, so that it uses the new certificates.']);
    assert.match(restartAdvice(['admin.conf'], false)[0] ?? '', /nothing needs a restart/);
    assert.equal(andList(['a', 'b', 'c']), 'a, b and c');
  });

  it('the paths init writes (what marks a node another tool set up)', () => {
    const t = testContext();
    const paths = initPaths(t.ctx.spec);
    for (const p of ['/etc/kubernetes/manifests/etcd.yaml', '/etc/kubernetes/admin.conf', '/etc/kubernetes/pki/etcd/ca.key', '/etc/kubernetes/pki/sa.pub', '/var/lib/kubelet/config.yaml']) {
      assert.ok(paths.includes(p), p);
    }
  });
});

describe('pair intent records (crash consistency)', () => {
  const K = '/etc/kubernetes/pki/ca.key';
  const C = '/etc/kubernetes/pki/ca.crt';
  const write = (fx: FakeEffects) => (p: string, c: string, m: number) => fx.writeFileAtomic(p, c, m);

  it('a complete write leaves no record', async () => {
    const fx = new FakeEffects();
    await writePair(fx, 'ca', { path: K, content: 'KEY', mode: 0o600 }, { path: C, content: 'CRT', mode: 0o644 }, write(fx));
    assert.equal(fx.files.get(K)?.data.toString(), 'KEY');
    assert.equal(fx.files.get(C)?.mode, 0o644);
    assert.equal(fx.files.has(intentPath('ca')), false);
    assert.deepEqual(fx.writes, [intentPath('ca'), K, C]);
  });

  async function killedAfterKey(fx: FakeEffects, previousCert?: string): Promise<void> {
    if (previousCert !== undefined) fx.files.set(C, { data: Buffer.from(previousCert), mode: 0o644 });
    let n = 0;
    await assert.rejects(
      writePair(fx, 'ca', { path: K, content: 'KEY', mode: 0o600 }, { path: C, content: 'CRT', mode: 0o644 }, async (p, c, m) => {
        if (n++ === 1) throw new Error('SIGKILL');
        return fx.writeFileAtomic(p, c, m);
      }),
      /SIGKILL/,
    );
  }

  it('killed between key and certificate: the re-run writes the certificate from the record', async () => {
    const fx = new FakeEffects();
    await killedAfterKey(fx);
    assert.equal(fx.files.has(C), false);
    assert.ok(fx.files.has(intentPath('ca')));
    const r = await recoverPair(fx, 'ca', { key: K, cert: C }, write(fx));
    assert.deepEqual(r, { outcome: 'completed', path: C });
    assert.equal(fx.files.get(C)?.data.toString(), 'CRT');
    assert.equal(fx.files.get(C)?.mode, 0o644);
    assert.equal(fx.files.has(intentPath('ca')), false);
  });

  it('a renewal killed between key and certificate: the old certificate is replaced by the recorded one', async () => {
    const fx = new FakeEffects();
    await killedAfterKey(fx, 'OLD');
    assert.equal(fx.files.get(C)?.data.toString(), 'OLD');
    assert.equal((await recoverPair(fx, 'ca', { key: K, cert: C }, write(fx))).outcome, 'completed');
    assert.equal(fx.files.get(C)?.data.toString(), 'CRT');
  });

  it('a certificate someone else put there is never overwritten: the record is dropped', async () => {
    const fx = new FakeEffects();
    await killedAfterKey(fx);
    fx.files.set(C, { data: Buffer.from('USER'), mode: 0o644 });
    assert.equal((await recoverPair(fx, 'ca', { key: K, cert: C }, write(fx))).outcome, 'stale');
    assert.equal(fx.files.get(C)?.data.toString(), 'USER');
    assert.equal(fx.files.has(intentPath('ca')), false);
  });

  it('killed before the key: the record is stale; a key that is not the recorded one is left alone', async () => {
    const fx = new FakeEffects();
    await writePair(fx, 'ca', { path: K, content: 'KEY', mode: 0o600 }, { path: C, content: 'CRT', mode: 0o644 }, async () => {
      throw new Error('SIGKILL');
    }).catch(() => undefined);
    fx.files.set(K, { data: Buffer.from('OTHER KEY'), mode: 0o600 });
    assert.equal((await recoverPair(fx, 'ca', { key: K, cert: C }, write(fx))).outcome, 'stale');
    assert.equal(fx.files.has(C), false);
    assert.equal(fx.files.get(K)?.data.toString(), 'OTHER KEY');
  });

  it('killed after both halves: the record is removed, nothing written', async () => {
    const fx = new FakeEffects();
    fx.files.set(K, { data: Buffer.from('KEY'), mode: 0o600 });
    fx.files.set(C, { data: Buffer.from('CRT'), mode: 0o644 });
    const rec = { kind: 'KubebootPairIntent', version: 1, pair: 'ca', key: { path: K, sha256: sha('KEY'), mode: 0o600 }, cert: { path: C, sha256: sha('CRT'), mode: 0o644, pem: 'CRT', previousSha256: null } };
    fx.files.set(intentPath('ca'), { data: Buffer.from(JSON.stringify(rec)), mode: 0o600 });
    assert.equal((await recoverPair(fx, 'ca', { key: K, cert: C }, write(fx))).outcome, 'complete');
    assert.equal(fx.writes.length, 0);
    // a record for other paths (another --cert-dir) is not this pair's business
    fx.files.set(intentPath('ca'), { data: Buffer.from(JSON.stringify(rec)), mode: 0o600 });
    assert.equal((await recoverPair(fx, 'ca', { key: '/other/ca.key', cert: '/other/ca.crt' }, write(fx))).outcome, 'none');
  });

  it('the certs phase completes a half-written CA and reuses it; a lone key without a record is still refused', async () => {
    const t = testContext();
    await ensureCA(t.ctx, certRow('ca'));
    const key = t.fx.files.get(K);
    const crt = t.fx.files.get(C);
    assert.ok(key && crt);
    // the state after a kill between the two writes
    t.fx.files.delete(C);
    const rec = { kind: 'KubebootPairIntent', version: 1, pair: 'ca', key: { path: K, sha256: createHash('sha256').update(key.data).digest('hex'), mode: 0o600 }, cert: { path: C, sha256: createHash('sha256').update(crt.data).digest('hex'), mode: 0o644, pem: crt.data.toString(), previousSha256: null } };
    t.fx.files.set(intentPath('ca'), { data: Buffer.from(JSON.stringify(rec)), mode: 0o600 });
    const again = testContext();
    for (const [p, f] of t.fx.files) again.fx.files.set(p, f);
    await ensureCA(again.ctx, certRow('ca'));
    assert.deepEqual(again.fx.files.get(C)?.data, crt.data);
    const logs = again.events.events.filter((e) => e.type === 'log').map((e) => (e as { message: string }).message);
    assert.ok(logs.some((m) => m.startsWith('Completed the "ca" pair an interrupted kubeboot run left half-written')), logs.join('\n'));
    assert.ok(logs.includes('Using existing ca certificate authority'));
    await ensureLeaf(again.ctx, certRow('apiserver'));

    const lone = testContext();
    lone.fx.files.set(K, key);
    await assert.rejects(ensureCA(lone.ctx, certRow('ca')), /found the private key "\/etc\/kubernetes\/pki\/ca.key" but not its certificate/);
  });
});

describe('the ledger is written before the files', () => {
  it('records a path before its first write, not for identical bytes or state files', async () => {
    const inner = new FakeEffects();
    inner.files.set('/etc/kubernetes/user.conf', { data: Buffer.from('same'), mode: 0o600 });
    let phase = 'certs/ca';
    const fx = new LedgerTrackingEffects(inner, () => phase);
    await fx.writeFileAtomic('/etc/kubernetes/pki/ca.key', 'k', 0o600);
    assert.deepEqual(inner.writes.slice(0, 2), [LEDGER, '/etc/kubernetes/pki/ca.key'], 'ledger first');
    phase = 'kubeconfig/admin';
    await fx.writeFileAtomic('/etc/kubernetes/user.conf', 'same', 0o600);
    await fx.writeFileAtomic('/etc/kubernetes/kubeboot/intent-ca.json', '{}', 0o600);
    await fx.writeFileAtomic('/etc/kubernetes/pki/ca.key', 'k2', 0o600);
    const l = await readLedger(inner);
    assert.deepEqual(Object.keys(l.files), ['/etc/kubernetes/pki/ca.key']);
    assert.equal(l.files['/etc/kubernetes/pki/ca.key']?.by, 'certs/ca');
  });

  it("stale temp files: only kubeboot's .<name>.<12 hex>.tmp pattern is removed", async () => {
    const fx = new FakeEffects();
    for (const n of ['.ca.key.0123456789ab.tmp', '.x.tmp', 'ca.key.0123456789ab.tmp', '.ca.key.0123456789abc.tmp', 'ca.key']) {
      fx.files.set(`/etc/kubernetes/pki/${n}`, { data: Buffer.from('x'), mode: 0o600 });
    }
    assert.deepEqual(await removeStaleTempFiles(fx, ['/etc/kubernetes/pki', '/nowhere']), ['/etc/kubernetes/pki/.ca.key.0123456789ab.tmp']);
    assert.equal(fx.files.size, 4);
  });
});

describe('the reset question', () => {
  const ask = async (input: string | undefined) => {
    const i = new PassThrough();
    const o = new PassThrough();
    let shown = '';
    o.on('data', (d: Buffer) => (shown += d.toString()));
    const p = askYesNo(i, o, '[reset] Are you sure you want to proceed? [y/N]: ');
    if (input !== undefined) i.write(input);
    i.end();
    const r = await p;
    assert.equal(shown, '[reset] Are you sure you want to proceed? [y/N]: ');
    return r;
  };
  it('only y or yes proceeds; anything else, an empty line or end of input is no', async () => {
    assert.equal(await ask('y\n'), true);
    assert.equal(await ask('YES\n'), true);
    assert.equal(await ask('n\n'), false);
    assert.equal(await ask('\n'), false);
    assert.equal(await ask('yep\n'), false);
    assert.equal(await ask(undefined), false);
  });
});
