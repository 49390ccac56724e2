/**
 * `kubeboot kubeconfig` and `kubeboot status` as a user meets them, with the built CLI: a node under --root that
 * `init` set up with no kubelet (the files, the recorded configuration, every port on loopback and nothing listening),
 * $HOME and $KUBECONFIG pointing into a temp directory. Exit codes, error texts, files and modes, JSON output.
 */
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseKubeconfigDocument, type KubeconfigDocument } from '../../src/kube/kubeconfig.js';
import { toYaml } from '../../src/render/yaml.js';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { hasTool } from '../helpers/tools.js';
import { tempDir } from '../helpers/tmp.js';
import { initRoot, jsonEvents, newNode, show, type Node } from '../unit/lifecycle/support.js';

const FOREIGN = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Zm9yZWlnbg==
    server: https://10.1.2.3:6443
  name: foreign
contexts:
- context:
    cluster: foreign
    namespace: dev
    user: fuser
  name: fctx
current-context: fctx
kind: Config
preferences: {}
users:
- name: fuser
  user:
    token: abc.def
`;

let node: Node;
const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
});

function kb(args: readonly string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  return runCli(args, { env: cleanEnv({ HOME: '/nonexistent-home', ...env }), timeoutMs: 60_000, ...(cwd ? { cwd } : {}) });
}

const noStack = (r: CliResult) => assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace without -v');

before(async () => {
  node = await newNode({ after: (fn) => void cleanups.push(fn) });
  const r = await initRoot(node);
  assert.equal(r.code, 0, show(r));
});

describe('kubeboot kubeconfig', () => {
  it('prints admin.conf as it is; --output json is one result event holding it', async () => {
    const admin = readFileSync(node.at('etc/kubernetes/admin.conf'), 'utf8');
    const r = await kb(['kubeconfig', '--root', node.root]);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, admin);
    assert.equal(r.stderr, '');
    const j = await kb(['kubeconfig', '--root', node.root, '--output', 'json']);
    const ev = jsonEvents(j);
    assert.equal(ev.length, 1);
    assert.deepEqual({ ...(ev[0]?.data as Record<string, unknown>) }, {
      action: 'print',
      source: '/etc/kubernetes/admin.conf',
      server: `https://127.0.0.1:${node.ports.apiserver}`,
      context: 'kubernetes-admin@kubernetes',
      kubeconfig: admin,
    });
  });

  it('not a kubeboot node: exit 2 naming admin.conf; text and JSON; no stack trace', async (t) => {
    const r = await kb(['kubeconfig', '--root', tempDir(t)]);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /^error: \/etc\/kubernetes\/admin\.conf \(under .*\) does not exist: this node has no control plane set up by kubeboot init$/m);
    noStack(r);
    const j = await kb(['kubeconfig', '--root', tempDir(t), '--merge', path.join(tempDir(t), 'c'), '--output', 'json']);
    assert.equal(j.code, 2);
    assert.deepEqual(jsonEvents(j).map((e) => [e.type, e.exitCode]), [['error', 2]]);
  });

  it('bad flags: exit 3 naming the flag', async (t) => {
    const dir = tempDir(t);
    const both = await kb(['kubeconfig', '--root', node.root, '--file', path.join(dir, 'a'), '--merge', path.join(dir, 'b')]);
    assert.equal(both.code, 3);
    assert.match(both.stderr, /^error: --file and --merge cannot be given together/m);
    const ctx = await kb(['kubeconfig', '--root', node.root, '--merge', path.join(dir, 'b'), '--context', '']);
    assert.equal(ctx.code, 3);
    assert.match(ctx.stderr, /^error: --context: "" cannot name a context: it is empty$/m);
    const empty = await kb(['kubeconfig', '--root', node.root, '--file', '']);
    assert.equal(empty.code, 3);
    assert.match(empty.stderr, /^error: --file: empty path/m);
    noStack(empty);
  });

  it('--merge with no PATH and no $KUBECONFIG: ~/.kube/config is made (0600 in a 0700 directory), the context is kubeboot-kubernetes', async (t) => {
    const home = tempDir(t);
    const r = await kb(['kubeconfig', '--root', node.root, '--merge'], { HOME: home });
    assert.equal(r.code, 0, show(r));
    const file = path.join(home, '.kube', 'config');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.ok(r.stdout.includes(`[kubeconfig] Merged the cluster, user and context of /etc/kubernetes/admin.conf as "kubeboot-kubernetes" into "${file}" (the default kubeconfig, as $KUBECONFIG is not set), a new file (mode 0600)`), r.stdout);
    assert.ok(r.stdout.includes('[kubeconfig] To use it: kubectl get nodes'), r.stdout);
    const doc = parseKubeconfigDocument(readFileSync(file, 'utf8')) as KubeconfigDocument;
    assert.equal(doc['current-context'], 'kubeboot-kubernetes');
    assert.deepEqual((doc.clusters as { name: string; cluster: { server: string } }[]).map((c) => [c.name, c.cluster.server]), [['kubeboot-kubernetes', `https://127.0.0.1:${node.ports.apiserver}`]]);
  });

  it('--merge with no PATH writes the first file of $KUBECONFIG (relative to the current directory), keeps its mode and foreign entries, and says what it replaced', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'first'), FOREIGN);
    chmodSync(path.join(dir, 'first'), 0o640);
    const env = { KUBECONFIG: `first:${path.join(dir, 'second')}`, HOME: dir };
    const r = await kb(['kubeconfig', '--root', node.root, '--merge', '--output', 'json'], env, dir);
    assert.equal(r.code, 0, show(r));
    const ev = jsonEvents(r);
    const result = ev.find((e) => e.type === 'result')?.data as Record<string, unknown>;
    assert.deepEqual(result, {
      action: 'merge',
      source: '/etc/kubernetes/admin.conf',
      server: `https://127.0.0.1:${node.ports.apiserver}`,
      context: 'kubeboot-kubernetes',
      path: path.join(dir, 'first'),
      status: 'written',
      mode: '0640',
      added: ['cluster', 'user', 'context'],
      replaced: [],
      previousContext: 'fctx',
    });
    assert.ok(ev.some((e) => e.type === 'warning' && /accessible to others \(mode 0640\)/.test(String(e.message))));
    assert.equal(statSync(path.join(dir, 'first')).mode & 0o777, 0o640);
    assert.throws(() => statSync(path.join(dir, 'second')), /ENOENT/);
    // the foreign part of the file, byte for byte
    const doc = parseKubeconfigDocument(readFileSync(path.join(dir, 'first'), 'utf8')) as KubeconfigDocument;
    const back: KubeconfigDocument = { ...doc, 'current-context': 'fctx' };
    for (const l of ['clusters', 'users', 'contexts']) back[l] = (doc[l] as { name: string }[]).filter((e) => e.name !== 'kubeboot-kubernetes');
    assert.equal(toYaml(back), FOREIGN);
    // again, with the same name: the three entries are replaced, nothing else changes
    const again = await kb(['kubeconfig', '--root', node.root, '--merge'], env, dir);
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /already holds the cluster, user and context "kubeboot-kubernetes" of \/etc\/kubernetes\/admin\.conf, current; nothing changed/);
    // after another tool changed current-context: replaced, and said so
    writeFileSync(path.join(dir, 'first'), readFileSync(path.join(dir, 'first'), 'utf8').replace('current-context: kubeboot-kubernetes', 'current-context: fctx'));
    const third = await kb(['kubeconfig', '--root', node.root, '--merge'], env, dir);
    assert.ok(third.stdout.includes(`[kubeconfig] Replaced the cluster, user and context named "kubeboot-kubernetes" that were there: that name is kubeboot's`), third.stdout);
    assert.ok(third.stdout.includes('[kubeconfig] current-context is now "kubeboot-kubernetes" (it was "fctx")'), third.stdout);
  });

  it('--merge through a symlinked kubeconfig writes the file it points to; the link stays', async (t) => {
    const home = tempDir(t);
    mkdirSync(path.join(home, 'dotfiles'));
    mkdirSync(path.join(home, '.kube'));
    writeFileSync(path.join(home, 'dotfiles', 'kubeconfig'), FOREIGN, { mode: 0o600 });
    symlinkSync('../dotfiles/kubeconfig', path.join(home, '.kube', 'config'));
    const r = await kb(['kubeconfig', '--root', node.root, '--merge', '--context', 'ci'], { HOME: home });
    assert.equal(r.code, 0, show(r));
    assert.ok(lstatSync(path.join(home, '.kube', 'config')).isSymbolicLink());
    assert.equal(readlinkSync(path.join(home, '.kube', 'config')), '../dotfiles/kubeconfig');
    assert.match(readFileSync(path.join(home, 'dotfiles', 'kubeconfig'), 'utf8'), /^current-context: ci$/m);
  });

  it('--merge refuses a file that is not a kubeconfig (exit 3, naming it) and leaves it as it was', async (t) => {
    const dir = tempDir(t);
    const notes = path.join(dir, 'notes.yaml');
    writeFileSync(notes, 'apiVersion: apps/v1\nkind: Deployment\n');
    const r = await kb(['kubeconfig', '--root', node.root, '--merge', notes]);
    assert.equal(r.code, 3, show(r));
    assert.ok(r.stderr.includes(`error: --merge: cannot merge into "${notes}": it is not a kubeconfig: kind is "Deployment", not Config`), r.stderr);
    assert.equal(readFileSync(notes, 'utf8'), 'apiVersion: apps/v1\nkind: Deployment\n');
    noStack(r);
  });

  it('--file writes 0600; the same again is fine; a file with other contents is refused (exit 3) and kept; --context renames', async (t) => {
    const dir = tempDir(t);
    const out = path.join(dir, 'sub', 'admin.conf');
    const r = await kb(['kubeconfig', '--root', node.root, '--file', out]);
    assert.equal(r.code, 0, show(r));
    assert.equal(readFileSync(out, 'utf8'), readFileSync(node.at('etc/kubernetes/admin.conf'), 'utf8'));
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.ok(r.stdout.includes(`[kubeconfig] Wrote the admin kubeconfig of /etc/kubernetes/admin.conf to "${out}" (mode 0600)`), r.stdout);
    const same = await kb(['kubeconfig', '--root', node.root, '--file', out]);
    assert.equal(same.code, 0);
    assert.match(same.stdout, /already holds this kubeconfig; left as it is/);
    const other = path.join(dir, 'other');
    writeFileSync(other, FOREIGN);
    const refused = await kb(['kubeconfig', '--root', node.root, '--file', other]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /exists and holds something other than this kubeconfig; kubeboot does not overwrite it/);
    assert.match(refused.stderr, /^hint: merge into it instead with 'kubeboot kubeconfig --merge /m);
    assert.equal(readFileSync(other, 'utf8'), FOREIGN);
    const renamed = await kb(['kubeconfig', '--root', node.root, '--context', 'ci']);
    assert.equal(renamed.code, 0);
    const doc = parseKubeconfigDocument(renamed.stdout) as KubeconfigDocument;
    assert.equal(doc['current-context'], 'ci');
    assert.deepEqual(doc.contexts, [{ context: { cluster: 'ci', user: 'ci' }, name: 'ci' }]);
  });

  it('kubectl reads the merged file: both contexts, ours current', async (t) => {
    if (!hasTool('kubectl')) return t.skip('needs kubectl');
    const dir = tempDir(t);
    const file = path.join(dir, 'config');
    writeFileSync(file, FOREIGN, { mode: 0o600 });
    assert.equal((await kb(['kubeconfig', '--root', node.root, '--merge', file])).code, 0);
    const { execFileSync } = await import('node:child_process');
    const names = execFileSync('kubectl', ['--kubeconfig', file, 'config', 'get-contexts', '-o', 'name'], { encoding: 'utf8' });
    assert.deepEqual(names.trim().split('\n').sort(), ['fctx', 'kubeboot-kubernetes']);
    assert.equal(execFileSync('kubectl', ['--kubeconfig', file, 'config', 'current-context'], { encoding: 'utf8' }).trim(), 'kubeboot-kubernetes');
  });
});

describe('kubeboot status', () => {
  it('not set up by kubeboot: exit 2 (no recorded configuration; then no admin.conf)', async (t) => {
    const r = await kb(['status', '--root', tempDir(t)]);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /^error: this node was not set up by kubeboot: \/etc\/kubernetes\/kubeboot\/config\.yaml \(under .*\) does not exist$/m);
    assert.match(r.stderr, /^hint: run 'kubeboot init' first, or 'kubeboot status --config FILE'/m);
    noStack(r);
    const root = tempDir(t);
    mkdirSync(path.join(root, 'etc/kubernetes/kubeboot'), { recursive: true });
    writeFileSync(path.join(root, 'etc/kubernetes/kubeboot/config.yaml'), readFileSync(node.config));
    const j = await kb(['status', '--root', root, '--output', 'json']);
    assert.equal(j.code, 2, show(j));
    const ev = jsonEvents(j);
    assert.equal(ev.length, 1);
    assert.equal(ev[0]?.type, 'error');
    assert.match(String(ev[0]?.message), /^this node has no control plane set up by kubeboot: \/etc\/kubernetes\/admin\.conf \(under .*\) does not exist$/);
  });

  it('bad flags: -o with --output json, an unknown format (exit 3)', async () => {
    const r = await kb(['status', '--root', node.root, '-o', 'yaml', '--output', 'json']);
    assert.equal(r.code, 3);
    const o = await kb(['status', '--root', node.root, '-o', 'xml']);
    assert.equal(o.code, 3);
    assert.match(o.stderr, /-o: invalid value "xml": valid values are text, json, yaml/);
  });

  it('a node with nothing running: exit 1 at once, the kubelet, every component and the API server failed, the rest unknown; certificates still checked', async () => {
    const started = Date.now();
    const r = await kb(['status', '--root', node.root]);
    const took = Date.now() - started;
    assert.equal(r.code, 1, show(r));
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
      [
        'FAIL kubelet',
        'FAIL etcd',
        'FAIL kube-apiserver',
        'FAIL kube-controller-manager',
        'FAIL kube-scheduler',
        'FAIL api',
        'UNKNOWN pod',
        'UNKNOWN pod',
        'UNKNOWN pod',
        'UNKNOWN pod',
        'UNKNOWN node',
        'UNKNOWN coredns',
        'UNKNOWN versions',
        'ok certificates',
      ],
    );
    assert.ok(r.stdout.includes(`connect ECONNREFUSED 127.0.0.1:${node.ports.apiserver}`), r.stdout);
    assert.match(r.stderr, /^error: the control plane on this node is not healthy: failed: kubelet, etcd, kube-apiserver, kube-controller-manager, kube-scheduler, api; not checked: pod etcd-kb-e2e, /m);
    noStack(r);
    // connection refused everywhere: no probe waits for its timeout
    assert.ok(took < 10_000, `status took ${took} ms`);

    const j = await kb(['status', '--root', node.root, '-o', 'json']);
    assert.equal(j.code, 1);
    const doc = JSON.parse(j.stdout) as { healthy: boolean; node: string; configuration: string; failed: string[]; unknown: string[]; checks: { kind: string; name: string; state: string; data: Record<string, unknown> }[] };
    assert.equal(doc.healthy, false);
    assert.equal(doc.node, 'kb-e2e');
    assert.equal(doc.configuration, '/etc/kubernetes/kubeboot/config.yaml');
    assert.deepEqual(doc.failed, ['kubelet', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'api']);
    assert.deepEqual(doc.checks.map((c) => c.kind), ['kubelet', 'component', 'component', 'component', 'component', 'api', 'mirror-pod', 'mirror-pod', 'mirror-pod', 'mirror-pod', 'node', 'coredns', 'versions', 'certificates']);
    const y = await kb(['status', '--root', node.root, '-o', 'yaml']);
    assert.match(y.stdout, /^healthy: false$/m);
    const ev = jsonEvents(await kb(['status', '--root', node.root, '--output', 'json']));
    assert.deepEqual(ev.map((e) => e.type), ['result', 'error']);
    assert.equal((ev[0]?.data as { healthy: boolean }).healthy, false);
    assert.equal(ev[1]?.exitCode, 1);
  });
});
