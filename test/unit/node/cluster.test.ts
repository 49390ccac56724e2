/**
 * init's phases after the wait (src/node/cluster.ts) against an in-memory API server: what each one creates, that a
 * second run changes nothing, what it updates when the configuration changed, and how it fails. The objects' field
 * by field agreement with kubeadm is the oracle's (test/oracle/init-dry-run.test.ts) and the real API server's.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createDecipheriv, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it, type TestContext as NodeTestContext } from 'node:test';
import type { ConfigFlags } from '../../../src/config/load.js';
import type { HttpRequest, HttpResponse } from '../../../src/effects/types.js';
import { ApiClient } from '../../../src/kube/api.js';
import {
  CERTIFICATE_KEY,
  TOKENS,
  bootstrapToken,
  caPublicKeyPin,
  enableClientCertRotation,
  markControlPlane,
  showJoinCommand,
  uploadCerts,
  uploadKubeadmConfig,
  uploadKubeletConfig,
  JOIN,
} from '../../../src/node/cluster.js';
import type { InitContext, InitOptions } from '../../../src/node/context.js';
import { OBJECT_TALLY } from '../../../src/node/objects.js';
import { bootstrapTokenSecret, markedNode, uploadedClusterConfiguration } from '../../../src/render/cluster.js';
import { testContext } from '../../helpers/context.js';
import type { FakeEffects } from '../../helpers/fake-effects.js';
import { tempDir } from '../../helpers/tmp.js';

const SERVER = 'https://192.0.2.10:6443';
type Obj = Record<string, any>;

/** A small API server: objects by path; create (409 when present), get, replace (resourceVersion checked), patch. */
class FakeApi {
  readonly objects = new Map<string, Obj>();
  readonly calls: string[] = [];
  /** answer ECONNREFUSED to the first N requests */
  refuse = 0;
  private rv = 1;

  handle = (req: HttpRequest): HttpResponse => {
    const method = req.method ?? 'GET';
    const p = decodeURIComponent(req.url.slice(SERVER.length));
    this.calls.push(`${method} ${p}`);
    if (this.refuse > 0) {
      this.refuse--;
      throw Object.assign(new Error('connect ECONNREFUSED 192.0.2.10:6443'), { code: 'ECONNREFUSED' });
    }
    const json = (status: number, body: unknown): HttpResponse => ({ status, body: JSON.stringify(body), headers: {} });
    const notFound = () => json(404, { kind: 'Status', reason: 'NotFound', message: `${p} not found` });
    if (method === 'GET') {
      const o = this.objects.get(p);
      return o ? json(200, o) : notFound();
    }
    if (method === 'POST') {
      const o = JSON.parse(req.body as string) as Obj;
      const at = `${p}/${o.metadata.name}`;
      if (this.objects.has(at)) return json(409, { kind: 'Status', reason: 'AlreadyExists' });
      const stored = { ...o, metadata: { ...o.metadata, uid: randomUUID(), resourceVersion: String(this.rv++) } };
      this.objects.set(at, stored);
      return json(201, stored);
    }
    if (method === 'PUT') {
      const o = JSON.parse(req.body as string) as Obj;
      const cur = this.objects.get(p);
      if (!cur) return notFound();
      if (o.metadata.resourceVersion !== cur.metadata.resourceVersion) return json(409, { kind: 'Status', reason: 'Conflict' });
      const stored = { ...o, metadata: { ...o.metadata, resourceVersion: String(this.rv++) } };
      this.objects.set(p, stored);
      return json(200, stored);
    }
    if (method === 'PATCH') {
      const cur = this.objects.get(p);
      if (!cur) return notFound();
      const patch = JSON.parse(req.body as string) as Obj;
      // what mark-control-plane sends: labels merged, the taint list given whole
      const next = structuredClone(cur);
      next.metadata.labels = { ...(cur.metadata.labels ?? {}), ...(patch.metadata?.labels ?? {}) };
      if (patch.spec?.taints) next.spec = { ...(cur.spec ?? {}), taints: patch.spec.taints };
      next.metadata.resourceVersion = String(this.rv++);
      this.objects.set(p, next);
      return json(200, next);
    }
    throw new Error(`unexpected ${method} ${p}`);
  };

  writes(): string[] {
    return this.calls.filter((c) => !c.startsWith('GET '));
  }
}

let caPem: string | undefined;
/** A real CA certificate (openssl) for admin.conf, cluster-info and the discovery hash. */
function ca(t: NodeTestContext): string {
  if (caPem) return caPem;
  const dir = tempDir(t, 'kubeboot-cluster-ca-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=kubernetes', '-days', '1', '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.crt')], { stdio: 'ignore' });
  caPem = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
  return caPem;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Setup {
  ctx: InitContext;
  fx: FakeEffects;
  api: FakeApi;
  events: ReturnType<typeof testContext>['events'];
}

function setup(t: NodeTestContext, flags: ConfigFlags = {}, opts: Partial<InitOptions> = {}, api = new FakeApi()): Setup {
  const base = testContext({ 'apiserver-advertise-address': '192.0.2.10', 'node-name': 'cp1', ...flags }, opts);
  const { fx } = base;
  const pem = ca(t);
  fx.files.set(
    '/etc/kubernetes/admin.conf',
    {
      data: Buffer.from(
        `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${b64(pem)}
    server: ${SERVER}
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${b64(pem)}
    client-key-data: ${b64('not a key')}
`,
      ),
      mode: 0o600,
    },
  );
  fx.http_ = api.handle;
  const client = new ApiClient(fx, { server: SERVER, ca: pem, cert: pem, key: 'k', user: 'kubernetes-admin', cluster: 'kubernetes', insecure: false }, '/etc/kubernetes/admin.conf');
  const ctx: InitContext = { ...base.ctx, client: async () => ({ client, superAdmin: async () => undefined, ensureClusterAdmins: async () => 'exists' as never }) };
  return { ctx, fx, api, events: base.events };
}

async function postWait(ctx: InitContext): Promise<void> {
  await uploadKubeadmConfig(ctx);
  await uploadKubeletConfig(ctx);
  await uploadCerts(ctx);
  await bootstrapToken(ctx);
}

const tally = (ctx: InitContext) => Object.fromEntries(ctx.slots.get(OBJECT_TALLY) ?? new Map());

describe('upload-config, upload-certs and bootstrap-token', () => {
  it('create every object on an empty cluster, and a second run changes nothing', async (t) => {
    const api = new FakeApi();
    const first = setup(t, { token: 'abcdef.0123456789abcdef' }, {}, api);
    await postWait(first.ctx);
    const names = [...api.objects.keys()].sort();
    for (const want of [
      '/api/v1/namespaces/kube-system/configmaps/kubeadm-config',
      '/api/v1/namespaces/kube-system/configmaps/kubelet-config',
      '/api/v1/namespaces/kube-public/configmaps/cluster-info',
      '/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:apiserver-kubelet-client',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/kubeadm:get-nodes',
      '/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/rolebindings/kubeadm:bootstrap-signer-clusterinfo',
    ]) {
      assert.ok(names.includes(want), `${want} was not created: ${names.join('\n')}`);
    }
    assert.equal(names.length, 16, names.join('\n'));
    assert.deepEqual(tally(first.ctx), { created: 16 });
    // without --upload-certs nothing is uploaded, and the phase says so
    assert.ok(first.events.events.some((e) => e.type === 'log' && /Skipping phase\. Please see --upload-certs/.test(String(e.message))));

    api.calls.length = 0;
    const second = setup(t, { token: 'abcdef.0123456789abcdef' }, {}, api);
    second.fx.clock += 3_600_000; // an hour later: the token's expiration, recomputed from its TTL, moved
    await postWait(second.ctx);
    assert.deepEqual(api.writes(), [], 'a second run wrote to the API server');
    assert.deepEqual(tally(second.ctx), { unchanged: 16 });
  });

  it('update the uploaded configuration when the cluster configuration changed, and only that', async (t) => {
    const api = new FakeApi();
    await postWait(setup(t, { token: 'abcdef.0123456789abcdef' }, {}, api).ctx);
    const before = api.objects.get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
    api.calls.length = 0;
    const again = setup(t, { token: 'abcdef.0123456789abcdef', 'service-dns-domain': 'corp.test' }, {}, api);
    await postWait(again.ctx);
    // kubeadm-config, kubelet-config (clusterDomain) are PUT with the existing resourceVersion
    assert.deepEqual(api.writes(), ['PUT /api/v1/namespaces/kube-system/configmaps/kubeadm-config', 'PUT /api/v1/namespaces/kube-system/configmaps/kubelet-config']);
    const after = api.objects.get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config')!;
    assert.match(after.data.ClusterConfiguration, /dnsDomain: corp\.test/);
    assert.equal(after.metadata.uid, before!.metadata.uid, 'the object was replaced, not recreated');
    assert.deepEqual(tally(again.ctx), { updated: 2, unchanged: 14 });
  });

  it('retry while the API server refuses connections, and fail naming the call when it never answers', async (t) => {
    const api = new FakeApi();
    api.refuse = 3;
    const s = setup(t, {}, {}, api);
    await uploadKubeadmConfig(s.ctx);
    assert.ok(api.objects.has('/api/v1/namespaces/kube-system/configmaps/kubeadm-config'));

    const dead = new FakeApi();
    dead.refuse = Number.MAX_SAFE_INTEGER;
    const d = setup(t, {}, {}, dead);
    await assert.rejects(uploadKubeadmConfig(d.ctx), (e: Error) => {
      assert.match(e.message, /ConfigMap kubeadm-config: the API server did not answer within \d+s: .*ECONNREFUSED/);
      return true;
    });
  });

  it('upload the control-plane certificates encrypted with the certificate key, owned by a two-hour token', async (t) => {
    const key = 'ab'.repeat(32);
    const s = setup(t, { 'certificate-key': key }, { uploadCerts: true });
    const files: Record<string, string> = {
      'ca.crt': '/etc/kubernetes/pki/ca.crt',
      'ca.key': '/etc/kubernetes/pki/ca.key',
      'sa.key': '/etc/kubernetes/pki/sa.key',
      'etcd-ca.key': '/etc/kubernetes/pki/etcd/ca.key',
    };
    for (const [k, p] of Object.entries(files)) s.fx.files.set(p, { data: Buffer.from(`contents of ${k}`), mode: 0o600 });
    await uploadCerts(s.ctx);
    assert.equal(s.ctx.slots.get(CERTIFICATE_KEY), key);
    const secret = s.api.objects.get('/api/v1/namespaces/kube-system/secrets/kubeadm-certs')!;
    for (const [k] of Object.entries(files)) {
      const raw = Buffer.from(secret.data[k], 'base64');
      const d = createDecipheriv('aes-256-gcm', Buffer.from(key, 'hex'), raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(raw.length - 16));
      assert.equal(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString(), `contents of ${k}`);
    }
    // the files that are not there are carried empty, as kubeadm carries them
    assert.equal(secret.data['front-proxy-ca.key'], '');
    const owner = secret.metadata.ownerReferences[0];
    const token = s.api.objects.get(`/api/v1/namespaces/kube-system/secrets/${owner.name}`)!;
    assert.equal(owner.uid, token.metadata.uid);
    const expiration = Buffer.from(token.data.expiration, 'base64').toString();
    assert.equal(Date.parse(expiration) - s.fx.clock, 2 * 3_600_000);
    assert.ok(s.events.events.some((e) => e.type === 'log' && String(e.message).includes(`Using certificate key:\n${key}`)));

    // --skip-certificate-key-print: the key is used but not printed
    const quiet = setup(t, { 'certificate-key': key }, { uploadCerts: true, skipCertificateKeyPrint: true });
    await uploadCerts(quiet.ctx);
    assert.ok(!quiet.events.events.some((e) => String((e as { message?: unknown }).message ?? '').includes(key)));
  });
});

describe('bootstrap tokens', () => {
  it('reuse the token the previous init recorded while its Secret exists; make a new one when it is gone', async (t) => {
    const api = new FakeApi();
    const first = setup(t, {}, {}, api);
    await bootstrapToken(first.ctx);
    const [token] = first.ctx.slots.get(TOKENS)!;
    assert.match(token!, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);

    api.calls.length = 0;
    const again = setup(t, {}, { recordedTokens: [token!] }, api);
    await bootstrapToken(again.ctx);
    assert.deepEqual(again.ctx.slots.get(TOKENS), [token]);
    assert.deepEqual(api.writes(), []);

    api.objects.delete(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${token!.split('.')[0]}`);
    const third = setup(t, {}, { recordedTokens: [token!] }, api);
    await bootstrapToken(third.ctx);
    const [next] = third.ctx.slots.get(TOKENS)!;
    assert.notEqual(next, token);
    assert.ok(api.objects.has(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${next!.split('.')[0]}`));
  });

  it("write kubeadm's token Secret: expiration from the TTL, usages, groups, no empty description", () => {
    const now = new Date('2026-03-01T10:00:00.250Z');
    const s = bootstrapTokenSecret(
      { token: 'abcdef.0123456789abcdef', description: '', ttlMs: 90 * 60_000, expires: undefined, usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token', 'x:y'] },
      now,
    ) as Obj;
    const data = Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    assert.deepEqual(data, {
      'token-id': 'abcdef',
      'token-secret': '0123456789abcdef',
      expiration: '2026-03-01T11:30:00Z',
      'usage-bootstrap-signing': 'true',
      'usage-bootstrap-authentication': 'true',
      'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token,x:y',
    });
    assert.equal(s.type, 'bootstrap.kubernetes.io/token');
    // ttl 0: never expires
    const forever = bootstrapTokenSecret({ token: 'abcdef.0123456789abcdef', description: 'd', ttlMs: 0, expires: undefined, usages: [], groups: [] }, now) as Obj;
    assert.deepEqual(Object.keys(forever.data as object).sort(), ['description', 'token-id', 'token-secret']);
  });

  it('print the token unless --skip-token-print, and show the join command with the CA hash openssl computes', async (t) => {
    const s = setup(t, { token: 'abcdef.0123456789abcdef' });
    await bootstrapToken(s.ctx);
    await showJoinCommand(s.ctx);
    const logs = s.events.events.filter((e) => e.type === 'log').map((e) => String(e.message));
    assert.ok(logs.includes('Using token: abcdef.0123456789abcdef'));
    const dir = tempDir(t, 'kubeboot-pin-');
    const caFile = path.join(dir, 'ca.crt');
    (await import('node:fs')).writeFileSync(caFile, ca(t));
    const der = execFileSync('sh', ['-c', `openssl x509 -pubkey -noout -in ${caFile} | openssl pkey -pubin -outform der | sha256sum`], { encoding: 'utf8' });
    const pin = `sha256:${der.split(' ')[0]}`;
    assert.equal(await caPublicKeyPin(ca(t)), pin);
    const [join] = s.ctx.slots.get(JOIN)!;
    assert.equal(join!.worker, `kubeadm join 192.0.2.10:6443 --token abcdef.0123456789abcdef \\\n\t--discovery-token-ca-cert-hash ${pin} `);
    assert.ok(logs.some((l) => l.includes(join!.worker)));

    const quiet = setup(t, { token: 'abcdef.0123456789abcdef' }, { skipTokenPrint: true });
    await bootstrapToken(quiet.ctx);
    await showJoinCommand(quiet.ctx);
    const text = quiet.events.events.map((e) => String((e as { message?: unknown }).message ?? '')).join('\n');
    assert.ok(!text.includes('0123456789abcdef'), text);
    assert.ok(text.includes('--token <value withheld>'));
  });
});

describe('mark-control-plane', () => {
  const nodePath = '/api/v1/nodes/cp1';
  const registered = (extra: Obj = {}): Obj => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'cp1', resourceVersion: '1', labels: { 'kubernetes.io/hostname': 'cp1', ...(extra.labels ?? {}) } },
    spec: { taints: extra.taints ?? [] },
  });

  it("labels and taints the node, keeps the node's other taints, and does nothing the second time", async (t) => {
    const api = new FakeApi();
    api.objects.set(nodePath, registered({ taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] }));
    const s = setup(t, {}, {}, api);
    await markControlPlane(s.ctx);
    const node = api.objects.get(nodePath)!;
    assert.deepEqual(node.metadata.labels, {
      'kubernetes.io/hostname': 'cp1',
      'node-role.kubernetes.io/control-plane': '',
      'node.kubernetes.io/exclude-from-external-load-balancers': '',
    });
    assert.deepEqual(node.spec.taints, [
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
    ]);
    api.calls.length = 0;
    const again = setup(t, {}, {}, api);
    await markControlPlane(again.ctx);
    assert.deepEqual(api.writes(), []);
    assert.deepEqual(tally(again.ctx), { unchanged: 1 });
  });

  it('waits for the kubelet to register the node, and says what is missing when it never does', async (t) => {
    const api = new FakeApi();
    const s = setup(t, {}, {}, api);
    let gets = 0;
    const handle = api.handle;
    s.fx.http_ = (req) => {
      if ((req.method ?? 'GET') === 'GET' && req.url.endsWith(nodePath) && ++gets === 4) api.objects.set(nodePath, registered());
      return handle(req);
    };
    await markControlPlane(s.ctx);
    assert.equal(gets, 4);
    assert.ok(api.objects.get(nodePath)!.metadata.labels['node-role.kubernetes.io/control-plane'] === '');

    const never = setup(t, {}, {}, new FakeApi());
    await assert.rejects(markControlPlane(never.ctx), /error marking the node cp1 as control-plane: the node "cp1" is not registered yet/);
  });

  it('computes the marked node as kubeadm does: configured taints first, duplicates not repeated', () => {
    const cp = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
    assert.equal(markedNode({ labels: { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }, taints: [cp] }, [cp]), undefined);
    const m = markedNode({ labels: {}, taints: [{ key: 'a', effect: 'NoExecute' }, cp] }, [cp]);
    assert.deepEqual(m?.taints, [cp, { key: 'a', effect: 'NoExecute' }]);
  });
});

describe('kubelet-finalize', () => {
  it('points kubelet.conf at the rotatable client certificate and restarts the kubelet, once', async (t) => {
    const s = setup(t);
    const conf = '/etc/kubernetes/kubelet.conf';
    s.fx.files.set(conf, {
      data: Buffer.from(
        `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: ${b64(ca(t))}\n    server: ${SERVER}\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: system:node:cp1\n  name: system:node:cp1@kubernetes\ncurrent-context: system:node:cp1@kubernetes\nusers:\n- name: system:node:cp1\n  user:\n    client-certificate-data: ${b64('c')}\n    client-key-data: ${b64('k')}\n`,
      ),
      mode: 0o600,
    });
    // no rotatable certificate yet: nothing to do
    await enableClientCertRotation(s.ctx);
    assert.deepEqual(s.fx.writes, []);
    s.fx.files.set('/var/lib/kubelet/pki/kubelet-client-current.pem', { data: Buffer.from('pem'), mode: 0o600 });
    s.fx.onPath.add('systemctl');
    s.fx.exec_.systemctl = (args) => ({ exitCode: 0, stdout: args[0] === 'list-unit-files' ? 'kubelet.service enabled enabled\n' : '', stderr: '' });
    await enableClientCertRotation(s.ctx);
    const text = s.fx.files.get(conf)!.data.toString();
    assert.match(text, /client-certificate: \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem\n {4}client-key: \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem/);
    assert.doesNotMatch(text, /client-key-data/);
    assert.equal(s.fx.files.get(conf)!.mode, 0o600);
    assert.ok(s.fx.execCalls.some((c) => /systemctl restart kubelet/.test(c)), s.fx.execCalls.join('\n'));
    const restarts = s.fx.execCalls.length;
    await enableClientCertRotation(s.ctx);
    assert.equal(s.fx.execCalls.length, restarts, 'a second run restarted the kubelet again');
  });
});

describe('the uploaded ClusterConfiguration', () => {
  it('leaves out what Go omits when empty', (t) => {
    const { ctx } = setup(t);
    const text = uploadedClusterConfiguration(ctx.spec);
    assert.doesNotMatch(text, /controlPlaneEndpoint|featureGates|podSubnet|certSANs|: ""/);
    assert.match(text, /^kind: ClusterConfiguration$/m);
    assert.match(text, /^kubernetesVersion: v1\.\d+\.\d+$/m);
  });
});
