/**
 * `kubeboot kubeconfig`'s node layer (src/node/kubeconfig-export.ts) and the kubeconfig document functions under it
 * (src/kube/kubeconfig.ts) on the fake effects: merging keeps every foreign entry byte for byte, replaces only
 * kubeboot's name, keeps the file's mode, refuses what is not a kubeconfig without touching it; --file never
 * overwrites other contents; a missing admin.conf is "not a kubeboot node" (exit 2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitCode, KubebootError } from '../../../src/errors.js';
import { currentContextEntries, mergeKubeconfig, parseKubeconfigDocument, type KubeconfigDocument } from '../../../src/kube/kubeconfig.js';
import {
  ADMIN_CONF,
  contextNameProblem,
  defaultContextName,
  exportedEntries,
  mergeKubeconfigFile,
  readAdminKubeconfig,
  renderEntries,
  writeKubeconfigFile,
} from '../../../src/node/kubeconfig-export.js';
import { toYaml } from '../../../src/render/yaml.js';
import { FakeEffects } from '../../helpers/fake-effects.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** admin.conf as kubeboot writes it (the PEM blobs shortened: nothing here checks them). */
const ADMIN = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64('-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n')}
    server: https://192.0.2.10:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
kind: Config
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${b64('-----BEGIN CERTIFICATE-----\nadmin\n-----END CERTIFICATE-----\n')}
    client-key-data: ${b64('-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\n')}
`;

/** A kubeconfig as kubectl (1.32) and minikube write one: foreign entries, extensions, an exec user, preferences. */
const FOREIGN = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Zm9yZWlnbg==
    extensions:
    - extension:
        last-update: Mon, 01 Jan 2026 10:00:00 UTC
        provider: minikube.sigs.k8s.io
        version: v1.32.0
      name: cluster_info
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
- name: execuser
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - a
      - b c
      command: /bin/gettoken
      env:
      - name: FOO
        value: "yes"
      provideClusterInfo: false
- name: fuser
  user:
    token: abc.def
`;

function adminNode(text = ADMIN): FakeEffects {
  const fx = new FakeEffects();
  fx.files.set(ADMIN_CONF, { data: Buffer.from(text), mode: 0o600 });
  return fx;
}

async function entries(name?: string) {
  const node = adminNode();
  const admin = await readAdminKubeconfig(node);
  return exportedEntries(node, admin, name ?? defaultContextName(admin));
}

/** The document without the entries of `name` and with current-context put back: what the user had. */
function without(doc: KubeconfigDocument, name: string, current: string): KubeconfigDocument {
  const out: KubeconfigDocument = { ...doc, 'current-context': current };
  for (const list of ['clusters', 'users', 'contexts']) out[list] = (doc[list] as { name: string }[]).filter((e) => e.name !== name);
  return out;
}

const exitCode = (code: number, text?: RegExp) => (err: unknown) => err instanceof KubebootError && err.exitCode === code && (text === undefined || text.test(err.message));

describe('kubeconfig documents', () => {
  it('the serializer writes a kubectl-written kubeconfig back byte for byte (what makes merging safe)', () => {
    const doc = parseKubeconfigDocument(FOREIGN);
    assert.equal(typeof doc, 'object');
    assert.equal(toYaml(doc), FOREIGN);
  });

  it('merge: foreign entries and fields stay byte for byte, ours go last, current-context is ours', async () => {
    const e = await entries();
    const doc = parseKubeconfigDocument(FOREIGN) as KubeconfigDocument;
    const m = mergeKubeconfig(doc, e);
    assert.deepEqual(m.added, ['cluster', 'user', 'context']);
    assert.deepEqual(m.replaced, []);
    assert.equal(m.previousContext, 'fctx');
    const text = toYaml(m.doc);
    // what the user had, exactly, once our three entries are taken out again
    assert.equal(toYaml(without(m.doc, 'kubeboot-kubernetes', 'fctx')), FOREIGN);
    // each foreign block is in the new text as it was
    for (const block of [
      '- context:\n    cluster: foreign\n    namespace: dev\n    user: fuser\n  name: fctx\n',
      '- name: fuser\n  user:\n    token: abc.def\n',
      '    extensions:\n    - extension:\n        last-update: Mon, 01 Jan 2026 10:00:00 UTC\n',
    ]) {
      assert.ok(text.includes(block), `missing:\n${block}\nin:\n${text}`);
    }
    assert.match(text, /^current-context: kubeboot-kubernetes$/m);
    assert.match(text, /^preferences: \{\}$/m);
    assert.match(text, /- context:\n {4}cluster: kubeboot-kubernetes\n {4}user: kubeboot-kubernetes\n {2}name: kubeboot-kubernetes\n/);
    assert.match(text, /- cluster:\n {4}certificate-authority-data: \S+\n {4}server: https:\/\/192\.0\.2\.10:6443\n {2}name: kubeboot-kubernetes\n/);
  });

  it('merge: entries of our name are replaced where they stand (duplicates dropped); others keep their place', async () => {
    const e = await entries();
    const stale = parseKubeconfigDocument(
      `apiVersion: v1
clusters:
- cluster:
    server: https://old:6443
  name: kubeboot-kubernetes
- cluster:
    server: https://a:6443
  name: a
- cluster:
    server: https://older:6443
  name: kubeboot-kubernetes
contexts:
- context:
    cluster: a
    user: a
  name: a
current-context: a
kind: Config
users:
- name: kubeboot-kubernetes
  user:
    token: stale
`,
    ) as KubeconfigDocument;
    const m = mergeKubeconfig(stale, e);
    assert.deepEqual(m.replaced, ['cluster', 'user']);
    assert.deepEqual(m.added, ['context']);
    const clusters = m.doc.clusters as { name: string; cluster: { server: string } }[];
    assert.deepEqual(clusters.map((c) => `${c.name} ${c.cluster.server}`), ['kubeboot-kubernetes https://192.0.2.10:6443', 'a https://a:6443']);
    assert.deepEqual((m.doc.users as { name: string; user: Record<string, unknown> }[])[0]?.user.token, undefined);
    assert.deepEqual((m.doc.contexts as { name: string }[]).map((c) => c.name), ['a', 'kubeboot-kubernetes']);
  });

  it('what is not a kubeconfig is named; an empty file is an empty kubeconfig', () => {
    assert.deepEqual(parseKubeconfigDocument(''), {});
    assert.deepEqual(parseKubeconfigDocument('# nothing yet\n'), {});
    assert.equal(parseKubeconfigDocument('- a\n- b\n'), 'it is not a kubeconfig (not a YAML mapping)');
    assert.equal(parseKubeconfigDocument('kind: Pod\n'), 'it is not a kubeconfig: kind is "Pod", not Config');
    assert.equal(parseKubeconfigDocument('apiVersion: v2\n'), 'apiVersion is "v2"; kubeconfig files are v1');
    assert.equal(parseKubeconfigDocument('clusters: {}\n'), 'clusters is not a list');
    assert.equal(parseKubeconfigDocument('users:\n- user: {}\n'), 'users[0] has no name');
    assert.equal(parseKubeconfigDocument('contexts:\n- name: x\n  context: 3\n'), 'contexts[0] ("x"): context is not a mapping');
    assert.match(parseKubeconfigDocument('a: [\n') as string, /^it is not valid YAML: /);
  });

  it('the current context whole, renamed: fields kubeboot does not know come along', () => {
    const doc = parseKubeconfigDocument(ADMIN.replace('    server: https://192.0.2.10:6443\n', '    server: https://192.0.2.10:6443\n    tls-server-name: kubernetes\n')) as KubeconfigDocument;
    const e = currentContextEntries(doc, 'ci');
    assert.ok(typeof e === 'object');
    assert.equal(e.cluster['tls-server-name'], 'kubernetes');
    assert.deepEqual(e.context, { cluster: 'ci', user: 'ci' });
    assert.equal(currentContextEntries({}, 'ci'), 'it has no current-context');
  });

  it('a context name must be a name', () => {
    assert.equal(contextNameProblem('kubeboot-ci'), undefined);
    assert.equal(contextNameProblem('admin@ci'), undefined);
    assert.equal(contextNameProblem(''), 'it is empty');
    assert.equal(contextNameProblem(' x'), 'it starts or ends with a blank');
    assert.equal(contextNameProblem('a\nb'), 'it holds a control character');
  });
});

describe('kubeconfig files on the fake effects', () => {
  it('admin.conf missing: not a node kubeboot set up (exit 2); broken: exit 1 naming the file', async () => {
    await assert.rejects(readAdminKubeconfig(new FakeEffects()), exitCode(ExitCode.preflight, /\/etc\/kubernetes\/admin\.conf.* does not exist/));
    await assert.rejects(readAdminKubeconfig(adminNode('apiVersion: v1\nkind: Config\n')), exitCode(ExitCode.phase, /^\/etc\/kubernetes\/admin\.conf.* is not a usable kubeconfig: it has no current-context$/));
  });

  it('--merge into a file that is not there: created 0600 in a new 0700 directory', async () => {
    const user = new FakeEffects();
    const r = await mergeKubeconfigFile(user, '/home/u/.kube/config', await entries());
    assert.equal(r.created, true);
    assert.equal(r.status, 'written');
    assert.equal(user.dirs.get('/home/u/.kube'), 0o700);
    assert.equal(user.files.get('/home/u/.kube/config')?.mode, 0o600);
    const text = user.files.get('/home/u/.kube/config')?.data.toString() ?? '';
    assert.equal(text, renderEntries(await entries()));
    assert.match(text, /^current-context: kubeboot-kubernetes$/m);
  });

  it('--merge into an existing kubeconfig: the file keeps its mode (with a warning when others may read it) and its foreign entries; a second merge changes nothing', async () => {
    const user = new FakeEffects();
    user.files.set('/k/config', { data: Buffer.from(FOREIGN), mode: 0o644 });
    const r = await mergeKubeconfigFile(user, '/k/config', await entries('ci'));
    assert.equal(r.created, false);
    assert.equal(r.mode, 0o644);
    assert.equal(user.files.get('/k/config')?.mode, 0o644);
    assert.deepEqual(r.warnings, ['"/k/config" is accessible to others (mode 0644) and now holds the cluster-admin credentials of context "ci"; kubeboot kept its mode: chmod 600 /k/config']);
    const after = parseKubeconfigDocument(user.files.get('/k/config')?.data.toString() ?? '') as KubeconfigDocument;
    assert.equal(toYaml(without(after, 'ci', 'fctx')), FOREIGN);
    const again = await mergeKubeconfigFile(user, '/k/config', await entries('ci'));
    assert.equal(again.status, 'unchanged');
    assert.deepEqual(again.replaced, ['cluster', 'user', 'context']);
  });

  it('--merge refuses what is not a kubeconfig, a directory, and another owner is said', async () => {
    const user = new FakeEffects();
    user.files.set('/k/notes', { data: Buffer.from('shopping:\n- milk\nkind: List\n'), mode: 0o600 });
    await assert.rejects(mergeKubeconfigFile(user, '/k/notes', await entries()), exitCode(ExitCode.config, /^--merge: cannot merge into "\/k\/notes": it is not a kubeconfig: kind is "List", not Config$/));
    assert.equal(user.files.get('/k/notes')?.data.toString(), 'shopping:\n- milk\nkind: List\n');
    assert.deepEqual(user.writes, []);
    user.dirs.set('/k/dir', 0o755);
    await assert.rejects(mergeKubeconfigFile(user, '/k/dir', await entries()), exitCode(ExitCode.config, /"\/k\/dir" is a directory/));
    // the owner: the fake effects do not know owners; a stat that does says so
    const owned = new FakeEffects();
    owned.files.set('/k/config', { data: Buffer.from(FOREIGN), mode: 0o600 });
    const stat = owned.stat.bind(owned);
    owned.stat = async (p: string) => {
      const s = await stat(p);
      return s && p === '/k/config' ? { ...s, uid: 1000 } : s;
    };
    const r = await mergeKubeconfigFile(owned, '/k/config', await entries(), { uid: 0 });
    assert.deepEqual(r.warnings, ['"/k/config" belonged to uid 1000; written again by uid 0, it now belongs to uid 0: chown 1000 /k/config']);
  });

  it('--file: written 0600; the same bytes again are left alone; other contents are refused and kept', async () => {
    const user = new FakeEffects();
    const w = await writeKubeconfigFile(user, '/out/admin.conf', ADMIN);
    assert.deepEqual([w.status, user.files.get('/out/admin.conf')?.mode], ['written', 0o600]);
    user.files.get('/out/admin.conf')!.mode = 0o644;
    assert.equal((await writeKubeconfigFile(user, '/out/admin.conf', ADMIN)).status, 'unchanged');
    assert.equal(user.files.get('/out/admin.conf')?.mode, 0o600);
    user.files.set('/out/other', { data: Buffer.from(FOREIGN), mode: 0o600 });
    await assert.rejects(
      writeKubeconfigFile(user, '/out/other', ADMIN),
      exitCode(ExitCode.config, /^--file: "\/out\/other" exists and holds something other than this kubeconfig; kubeboot does not overwrite it$/),
    );
    assert.equal(user.files.get('/out/other')?.data.toString(), FOREIGN);
  });

  it('files admin.conf refers to are embedded (an external CA setup may use them)', async () => {
    const node = adminNode(
      ADMIN.replace(/certificate-authority-data: \S+/, 'certificate-authority: pki/ca.crt').replace(/client-key-data: \S+/, 'client-key: /srv/admin.key'),
    );
    node.files.set('/etc/kubernetes/pki/ca.crt', { data: Buffer.from('CA PEM'), mode: 0o644 });
    node.files.set('/srv/admin.key', { data: Buffer.from('KEY PEM'), mode: 0o600 });
    const e = await exportedEntries(node, await readAdminKubeconfig(node), 'x');
    assert.deepEqual(e.cluster, { 'certificate-authority-data': b64('CA PEM'), server: 'https://192.0.2.10:6443' });
    assert.equal(e.user['client-key-data'], b64('KEY PEM'));
    assert.equal(e.user['client-key'], undefined);
    node.files.delete('/srv/admin.key');
    await assert.rejects(exportedEntries(node, await readAdminKubeconfig(node), 'x'), /client-key \/srv\/admin\.key does not exist/);
  });
});
