/**
 * `kubeboot reset` under --root: the question (and its refusal without a terminal), --dry-run, removal of exactly the
 * ledger's files plus kubeboot's own temp/backup directories and state, and the files it did not create left in place.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cli, initRoot, jsonEvents, modeOf, newNode, show, snapshot, tree } from '../unit/lifecycle/support.js';
import { AFTER_WAIT } from '../helpers/paths.js';

describe('reset under --root', () => {
  it('asks (refuses without a terminal), --dry-run changes nothing, --force removes only what kubeboot created', async (t) => {
    const n = await newNode(t);
    const first = await initRoot(n);
    assert.equal(first.code, 0, show(first));
    // files kubeboot did not create, in the directories it cleans
    writeFileSync(n.at('etc/kubernetes/pki/user-ca-bundle.pem'), 'mine');
    writeFileSync(n.at('etc/kubernetes/manifests/my-sidecar.yaml'), 'apiVersion: v1\nkind: Pod\n');
    writeFileSync(n.at('etc/kubernetes/my-notes.txt'), 'mine');
    // what kubeboot's other commands and an interrupted write leave: a backup directory and a temp file
    mkdirSync(n.at('etc/kubernetes/tmp/kubeboot-backup-manifests-2026-01-01-00-00-00'), { recursive: true });
    writeFileSync(n.at('etc/kubernetes/tmp/kubeboot-backup-manifests-2026-01-01-00-00-00/etcd.yaml'), 'x');
    mkdirSync(n.at('etc/kubernetes/tmp/someone-else'), { recursive: true });
    writeFileSync(n.at('etc/kubernetes/manifests/.etcd.yaml.a1b2c3d4e5f6.tmp'), 'half');
    // etcd's data (no etcd ran under this root; the directory is the configuration's)
    mkdirSync(n.at('var/lib/etcd/member/snap'), { recursive: true });
    writeFileSync(n.at('var/lib/etcd/member/snap/db'), 'data');

    const before = snapshot(n.root);
    const q = await cli(['reset', '--root', n.root]);
    assert.equal(q.code, 3, show(q));
    assert.match(q.stderr, /^error: refusing to reset without confirmation: standard input is not a terminal/m);
    assert.match(q.stderr, /^hint: pass --force \(-f\)/m);
    assert.deepEqual(snapshot(n.root), before);

    const d = await cli(['reset', '--root', n.root, '--dry-run']);
    assert.equal(d.code, 0, show(d));
    assert.deepEqual(snapshot(n.root), before, '--dry-run changes nothing');
    for (const line of [
      '[reset] Would remove the static Pod manifest "/etc/kubernetes/manifests/kube-apiserver.yaml"',
      '[reset] Would remove "/etc/kubernetes/pki/ca.key"',
      '[reset] Would remove "/var/lib/kubelet/config.yaml"',
      '[reset] Would remove etcd data "/var/lib/etcd/member"',
      '[reset] Would remove kubeboot\'s backup/temporary directory "/etc/kubernetes/tmp/kubeboot-backup-manifests-2026-01-01-00-00-00"',
      '[reset] Would remove the stale temporary file "/etc/kubernetes/manifests/.etcd.yaml.a1b2c3d4e5f6.tmp"',
      // under --root no kubelet of this host runs these files: the dry run says so, as the real run does
      '[reset] Not stopping the kubelet: the files are under --root "' + n.root + '", not this host\'s kubelet',
    ]) assert.ok(d.stdout.split('\n').includes(line), `missing ${line}\n${d.stdout}`);
    assert.doesNotMatch(d.stdout, /Would remove "\/etc\/kubernetes\/pki\/user-ca-bundle\.pem"/);
    // what it would remove is not also listed as left
    const leftLines = d.stdout.slice(d.stdout.indexOf('did not create:')).split('\n').filter((l) => l.startsWith('\t'));
    assert.deepEqual(leftLines, ['\t/etc/kubernetes/manifests/my-sidecar.yaml', '\t/etc/kubernetes/my-notes.txt', '\t/etc/kubernetes/pki/user-ca-bundle.pem', '\t/etc/kubernetes/tmp/someone-else/'], d.stdout);

    const r = await cli(['reset', '--root', n.root, '--force', '--output', 'json']);
    assert.equal(r.code, 0, show(r));
    const ev = jsonEvents(r);
    const result = ev.find((e) => e.type === 'result')?.data as { removed: string[]; left: string[]; manualCleanup: string[]; etcdDataDir: string };
    assert.deepEqual(result.left, [
      '/etc/kubernetes/manifests/my-sidecar.yaml',
      '/etc/kubernetes/my-notes.txt',
      '/etc/kubernetes/pki/user-ca-bundle.pem',
      '/etc/kubernetes/tmp/someone-else/',
    ]);
    for (const p of ['/etc/kubernetes/pki/ca.key', '/etc/kubernetes/admin.conf', '/etc/kubernetes/manifests/etcd.yaml', '/var/lib/kubelet/kubeadm-flags.env', '/var/lib/etcd/member', '/etc/kubernetes/kubeboot/']) {
      assert.ok(result.removed.includes(p), `removed ${p}`);
    }
    assert.equal(result.etcdDataDir, '/var/lib/etcd');
    assert.ok(result.manualCleanup.some((m) => m.includes('/etc/cni/net.d')));
    assert.ok(ev.some((e) => e.type === 'file' && e.path === '/etc/kubernetes/pki/ca.crt' && e.status === 'removed'));
    assert.ok(ev.some((e) => e.type === 'log' && e.message === 'The reset process does not perform cleanup of CNI plugin configuration, network filtering rules and kubeconfig files.'));
    assert.deepEqual(tree(n.root), [
      'etc/kubernetes/manifests/my-sidecar.yaml',
      'etc/kubernetes/my-notes.txt',
      'etc/kubernetes/pki/user-ca-bundle.pem',
    ]);
    assert.ok(existsSync(n.at('var/lib/etcd')), 'the etcd data directory itself stays (its contents go)');
    assert.ok(existsSync(n.at('etc/kubernetes/tmp/someone-else')));

    // again: nothing of kubeboot's is left
    const again = await cli(['reset', '--root', n.root, '-f']);
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /\[reset\] Nothing to reset: there is no ledger \/etc\/kubernetes\/kubeboot\/files\.json/);
    assert.match(again.stdout, /\t\/etc\/kubernetes\/pki\/user-ca-bundle\.pem/);
  });

  it('a kubelet file kubeboot did not write: init keeps a copy and says so, a re-run does not, reset puts it back', async (t) => {
    const n = await newNode(t);
    mkdirSync(n.at('var/lib/kubelet'), { recursive: true });
    writeFileSync(n.at('var/lib/kubelet/config.yaml'), '# the operator\'s own kubelet configuration\n', { mode: 0o640 });
    chmodSync(n.at('var/lib/kubelet/config.yaml'), 0o640);
    const first = await initRoot(n, '--output', 'json');
    assert.equal(first.code, 0, show(first));
    const warning = jsonEvents(first).find((e) => e.type === 'warning' && String(e.message).includes('/var/lib/kubelet/config.yaml'));
    const copy = /kept as "([^"]+)"/.exec(String(warning?.message))?.[1];
    assert.match(copy ?? '', /^\/etc\/kubernetes\/tmp\/kubeboot-replaced-\d{4}(-\d\d){5}\/var\/lib\/kubelet\/config\.yaml$/, show(first));
    assert.equal(readFileSync(n.at((copy as string).slice(1)), 'utf8'), '# the operator\'s own kubelet configuration\n');
    assert.equal(modeOf(n.at((copy as string).slice(1))), 0o640, 'the copy keeps the mode');
    assert.match(readFileSync(n.at('var/lib/kubelet/config.yaml'), 'utf8'), /^apiVersion: kubelet\.config\.k8s\.io\/v1beta1$/m);
    // only the file that was there is copied (the other two kubelet files did not exist)
    assert.deepEqual(tree(n.at('etc/kubernetes/tmp')), [(copy as string).replace('/etc/kubernetes/tmp/', '')]);

    // a re-run: the file is kubeboot's now (its ledger), nothing more is copied
    const again = await initRoot(n);
    assert.equal(again.code, 0, show(again));
    assert.doesNotMatch(again.stderr, /was not written by kubeboot/);
    assert.equal(tree(n.at('etc/kubernetes/tmp')).length, 1);

    const dry = await cli(['reset', '--root', n.root, '--dry-run']);
    assert.equal(dry.code, 0, show(dry));
    assert.ok(dry.stdout.includes(`[reset] Would put back "/var/lib/kubelet/config.yaml" as it was before kubeboot init replaced it (from "${copy}")`), dry.stdout);
    const r = await cli(['reset', '--root', n.root, '-f', '--output', 'json']);
    assert.equal(r.code, 0, show(r));
    const result = jsonEvents(r).find((e) => e.type === 'result')?.data as { restored: string[]; left: string[] };
    assert.deepEqual(result.restored, ['/var/lib/kubelet/config.yaml']);
    assert.deepEqual(result.left, []);
    assert.equal(readFileSync(n.at('var/lib/kubelet/config.yaml'), 'utf8'), '# the operator\'s own kubelet configuration\n');
    assert.equal(modeOf(n.at('var/lib/kubelet/config.yaml')), 0o640);
    assert.deepEqual(tree(n.root), ['var/lib/kubelet/config.yaml'], 'the node is as it was before init');
  });

  it('a manifest kubeboot did not write (FileAvailable ignored) is kept outside the static pod path and put back by reset', async (t) => {
    const n = await newNode(t);
    const mine = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-scheduler\n  namespace: kube-system\n# the operator\'s own\n';
    mkdirSync(n.at('etc/kubernetes/manifests'), { recursive: true });
    writeFileSync(n.at('etc/kubernetes/manifests/kube-scheduler.yaml'), mine, { mode: 0o600 });
    const first = await initRoot(n, '--ignore-preflight-errors', 'FileAvailable--etc-kubernetes-manifests-kube-scheduler.yaml');
    assert.equal(first.code, 0, show(first));
    const copy = /\[control-plane\] "\/etc\/kubernetes\/manifests\/kube-scheduler\.yaml" was not written by kubeboot: it is replaced, and the previous file is kept as "([^"]+)"/.exec(first.stderr)?.[1];
    assert.match(copy ?? '', /^\/etc\/kubernetes\/tmp\/kubeboot-replaced-[\d-]+\/etc\/kubernetes\/manifests\/kube-scheduler\.yaml$/, show(first));
    assert.equal(readFileSync(n.at((copy as string).slice(1)), 'utf8'), mine);
    assert.doesNotMatch(readFileSync(n.at('etc/kubernetes/manifests/kube-scheduler.yaml'), 'utf8'), /operator's own/);
    // nothing but kubeboot's four manifests in the static pod path
    assert.deepEqual(tree(n.at('etc/kubernetes/manifests')), ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']);
    const r = await cli(['reset', '--root', n.root, '-f']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /\[reset\] Put back "\/etc\/kubernetes\/manifests\/kube-scheduler\.yaml" as it was before kubeboot init replaced it/);
    assert.deepEqual(tree(n.root), ['etc/kubernetes/manifests/kube-scheduler.yaml']);
    assert.equal(readFileSync(n.at('etc/kubernetes/manifests/kube-scheduler.yaml'), 'utf8'), mine);
  });

  it('a corrupt ledger stops reset and init before they change anything (exit 2, no stack trace)', async (t) => {
    const n = await newNode(t);
    const first = await initRoot(n);
    assert.equal(first.code, 0, show(first));
    writeFileSync(n.at('etc/kubernetes/kubeboot/files.json'), 'garbage\n');
    const before = snapshot(n.root);
    for (const args of [['reset', '--root', n.root, '-f'], ['init', '--root', n.root, '--config', n.config, '--skip-phases', `wait-control-plane,${AFTER_WAIT}`, '--ignore-preflight-errors', 'all']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /\/etc\/kubernetes\/kubeboot\/files\.json is not a kubeboot file ledger/);
      assert.match(r.stderr, /^hint: .*move the file away/m);
      assert.doesNotMatch(r.stderr, /\n\s+at |this is a bug/);
      assert.deepEqual(snapshot(n.root), before, `${args[0]} changed nothing`);
    }
  });

  it('text output ends with what was removed, what is left, and kubeadm\'s 1.33+ closing text', async (t) => {
    const n = await newNode(t);
    assert.equal((await initRoot(n)).code, 0);
    writeFileSync(n.at('etc/kubernetes/manifests/extra.yaml'), 'x');
    const r = await cli(['reset', '--root', n.root, '-f']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^\[reset\] Not stopping the kubelet: the files are under --root /m);
    assert.match(r.stdout, /^\[reset\] Deleting files: \[\/etc\/kubernetes\/admin\.conf .*\/var\/lib\/kubelet\/kubeadm-flags\.env.*\]$/m);
    assert.match(r.stdout, /^\[reset\] Removed kubeboot's state directory "\/etc\/kubernetes\/kubeboot"/m);
    assert.ok(
      r.stdout.endsWith(
        [
          '[reset] Left 1 file(s) kubeboot did not create:',
          '\t/etc/kubernetes/manifests/extra.yaml',
          '',
          'The reset process does not perform cleanup of CNI plugin configuration, network filtering rules and kubeconfig files.',
          'For information on how to perform this cleanup manually, please see: https://k8s.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/',
          'Left for you to clean up: CNI configuration in /etc/cni/net.d; iptables / nftables / IPVS rules (iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X; ipvsadm --clear); $HOME/.kube/config.',
          '',
        ].join('\n'),
      ),
      r.stdout,
    );
  });

  it('a node kubeboot did not set up (kubeadm\'s files, no ledger) is refused with exit 2 and nothing is removed', async (t) => {
    const n = await newNode(t);
    assert.equal((await initRoot(n)).code, 0);
    // what a kubeadm node looks like to kubeboot: the same files, no ledger
    const { rmSync } = await import('node:fs');
    rmSync(n.at('etc/kubernetes/kubeboot'), { recursive: true });
    const before = snapshot(n.root);
    const r = await cli(['reset', '--root', n.root, '-f']);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /^error: this node was not set up by kubeboot: there is no ledger \/etc\/kubernetes\/kubeboot\/files\.json/m);
    assert.match(r.stderr, /^\tfound: \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml$/m);
    assert.match(r.stderr, /^hint: .*kubeadm reset/m);
    assert.deepEqual(snapshot(n.root), before);
  });

  it("the kubelet's client certificates signed by the cluster's CA go (a second init's kubelet would present them); one another CA signed stays", async (t) => {
    const n = await newNode(t);
    assert.equal((await initRoot(n)).code, 0);
    const { execFileSync } = await import('node:child_process');
    const { symlinkSync, readdirSync } = await import('node:fs');
    const pki = n.at('var/lib/kubelet/pki');
    mkdirSync(pki, { recursive: true });
    // what the kubelet writes after its client certificate is approved: a dated file and the current link
    const clientCert = (signer: { cert: string; key: string }, out: string) => {
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/O=system:nodes/CN=system:node:kb', '-keyout', `${out}.key`, '-out', `${out}.csr`], { stdio: 'ignore' });
      execFileSync('openssl', ['x509', '-req', '-in', `${out}.csr`, '-CA', signer.cert, '-CAkey', signer.key, '-set_serial', '7', '-days', '1', '-out', `${out}.crt`], { stdio: 'ignore' });
      writeFileSync(out, readFileSync(`${out}.crt`, 'utf8') + readFileSync(`${out}.key`, 'utf8'));
    };
    const work = n.at('work');
    mkdirSync(work);
    const ours = `${pki}/kubelet-client-2026-12-02-04-00-00.pem`;
    clientCert({ cert: n.at('etc/kubernetes/pki/ca.crt'), key: n.at('etc/kubernetes/pki/ca.key') }, `${work}/ours.pem`);
    writeFileSync(ours, readFileSync(`${work}/ours.pem`));
    symlinkSync('kubelet-client-2026-12-02-04-00-00.pem', `${pki}/kubelet-client-current.pem`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=another-ca', '-days', '1', '-keyout', `${work}/other-ca.key`, '-out', `${work}/other-ca.crt`], { stdio: 'ignore' });
    clientCert({ cert: `${work}/other-ca.crt`, key: `${work}/other-ca.key` }, `${work}/theirs.pem`);
    writeFileSync(`${pki}/kubelet-client-2020-01-01-00-00-00.pem`, readFileSync(`${work}/theirs.pem`));

    const r = await cli(['reset', '--root', n.root, '--force']);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(readdirSync(pki), ['kubelet-client-2020-01-01-00-00-00.pem'], "only the other CA's certificate stays");
    assert.match(r.stdout, /Deleting the kubelet's client certificates of this cluster \(issued by \/etc\/kubernetes\/pki\/ca\.crt\): \[\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem \/var\/lib\/kubelet\/pki\/kubelet-client-2026-12-02-04-00-00\.pem\]/);
    assert.match(r.stdout, /^\t\/var\/lib\/kubelet\/pki\/$/m, 'the directory with it is listed as left');
  });
});
