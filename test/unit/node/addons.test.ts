/**
 * The addon phase's node layer (src/node/addons.ts) against a fake API server: what is created on a new cluster, that
 * a re-run changes nothing (also when the server added defaults), what a changed configuration updates, what kubeadm
 * keeps (a Corefile, a scaled CoreDNS), the errors kubeadm gives, and the dry-run twin's reads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { addon } from '../../../phases/init/addon.js';
import type { ConfigFlags } from '../../../src/config/load.js';
import { DryRunEffects } from '../../../src/effects/dryrun.js';
import { OperationError } from '../../../src/errors.js';
import { ApiClient, ensureClusterAdmins } from '../../../src/kube/api.js';
import { ensureCoreDNS, ensureKubeProxy } from '../../../src/node/addons.js';
import type { InitContext } from '../../../src/node/context.js';
import { OBJECT_TALLY } from '../../../src/node/objects.js';
import type { KubebootEvent } from '../../../src/workflow/events.js';
import type { Phase } from '../../../src/workflow/phase.js';
import { testContext, type TestContext } from '../../helpers/context.js';
import { FakeApiServer } from '../../helpers/fake-api.js';

type Obj = Record<string, any>;

const CREDS = { server: 'https://192.0.2.10:6443', ca: 'CA', cert: 'CERT', key: 'KEY', user: 'kubernetes-admin', cluster: 'kubernetes', insecure: false };
const CM = '/api/v1/namespaces/kube-system/configmaps';
const DEPLOY = '/apis/apps/v1/namespaces/kube-system/deployments';

interface Env extends TestContext {
  api: FakeApiServer;
  client: ApiClient;
}

function env(flags: ConfigFlags = {}, api = new FakeApiServer()): Env {
  const t = testContext({ 'pod-network-cidr': '10.244.0.0/16', ...flags });
  t.fx.http_ = api.handler;
  return { ...t, api, client: new ApiClient(t.fx, CREDS, '/etc/kubernetes/admin.conf') };
}

async function both(e: Env): Promise<void> {
  await ensureCoreDNS(e.ctx, e.client);
  await ensureKubeProxy(e.ctx, e.client);
}

const objectEvents = (events: readonly KubebootEvent[]) =>
  events.flatMap((e) => (e.type === 'object' ? [`${e.status} ${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`] : []));
const logs = (events: readonly KubebootEvent[]) => events.flatMap((e) => (e.type === 'log' ? [`[${e.tag}] ${e.message}`] : e.type === 'warning' ? [`WARNING ${e.message}`] : []));

/** What a real API server adds to what kubeboot sends (a few of its defaults). */
function serverDefaults(p: string, o: Obj): void {
  if (o.kind === 'Deployment' || o.kind === 'DaemonSet') {
    const spec = o.spec.template.spec;
    spec.restartPolicy ??= 'Always';
    spec.schedulerName ??= 'default-scheduler';
    for (const c of spec.containers) c.terminationMessagePath ??= '/dev/termination-log';
    if (o.kind === 'Deployment') o.spec.revisionHistoryLimit ??= 10;
  }
  if (o.kind === 'Service') {
    o.spec.type ??= 'ClusterIP';
    o.spec.ipFamilies ??= ['IPv4'];
    o.spec.clusterIPs ??= [o.spec.clusterIP];
  }
  void p;
}

describe('addons on a new cluster', () => {
  it("creates kubeadm's twelve objects in kubeadm's order, reports each, tallies them and says what kubeadm says", async () => {
    const e = env();
    await both(e);
    assert.deepEqual(objectEvents(e.events.events), [
      'created ConfigMap kube-system/coredns',
      'created ClusterRole system:coredns',
      'created ClusterRoleBinding system:coredns',
      'created ServiceAccount kube-system/coredns',
      'created Deployment kube-system/coredns',
      'created Service kube-system/kube-dns',
      'created ConfigMap kube-system/kube-proxy',
      'created DaemonSet kube-system/kube-proxy',
      'created ServiceAccount kube-system/kube-proxy',
      'created ClusterRoleBinding kubeadm:node-proxier',
      'created Role kube-system/kube-proxy',
      'created RoleBinding kube-system/kube-proxy',
    ]);
    assert.deepEqual([...(e.ctx.slots.get(OBJECT_TALLY) ?? new Map()).entries()], [['created', 12]]);
    assert.deepEqual(logs(e.events.events), ['[addons] Applied essential addon: CoreDNS', '[addons] Applied essential addon: kube-proxy']);
    // kubeadm first asks for the CoreDNS Deployment (its replicas) and the Corefile
    assert.deepEqual(e.api.calls.slice(0, 4), [`GET ${DEPLOY}?labelSelector=k8s-app%3Dkube-dns`, `GET ${CM}/coredns`, `GET ${CM}/coredns`, `POST ${CM}`]);
    assert.equal(e.api.get(`${DEPLOY}/coredns`)?.spec.replicas, 2);
    assert.equal(e.api.get('/api/v1/namespaces/kube-system/services/kube-dns')?.spec.clusterIP, '10.96.0.10');
    assert.equal(e.api.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/system:coredns')?.kind, 'ClusterRole');
  });
});

describe('addons on a cluster that has them', () => {
  it('a re-run with the same configuration changes nothing (server defaults do not count), and says so', async () => {
    const api = new FakeApiServer();
    api.defaulting = serverDefaults;
    await both(env({}, api));
    const before = api.calls.length;
    const again = env({}, api);
    await both(again);
    assert.deepEqual(objectEvents(again.events.events), [
      'retained ConfigMap kube-system/coredns',
      'unchanged ClusterRole system:coredns',
      'unchanged ClusterRoleBinding system:coredns',
      'unchanged ServiceAccount kube-system/coredns',
      'unchanged Deployment kube-system/coredns',
      'unchanged Service kube-system/kube-dns',
      'unchanged ConfigMap kube-system/kube-proxy',
      'unchanged DaemonSet kube-system/kube-proxy',
      'unchanged ServiceAccount kube-system/kube-proxy',
      'unchanged ClusterRoleBinding kubeadm:node-proxier',
      'unchanged Role kube-system/kube-proxy',
      'unchanged RoleBinding kube-system/kube-proxy',
    ]);
    assert.ok(api.calls.slice(before).every((c) => c.startsWith('GET ')), 'only reads');
    assert.deepEqual([...(again.ctx.slots.get(OBJECT_TALLY) ?? new Map()).entries()].sort(), [['retained', 1], ['unchanged', 11]]);
    assert.ok(!logs(again.events.events).some((l) => l.startsWith('WARNING')));
  });

  it('a changed configuration updates what it changes (images, the kube-proxy configuration) and keeps the rest', async () => {
    const api = new FakeApiServer();
    api.defaulting = serverDefaults;
    await both(env({}, api));
    const e = env({ 'image-repository': 'my.registry.example.com/k8s', 'pod-network-cidr': '10.200.0.0/16' }, api);
    await both(e);
    const changed = objectEvents(e.events.events).filter((l) => !l.startsWith('unchanged'));
    assert.deepEqual(changed, ['retained ConfigMap kube-system/coredns', 'updated Deployment kube-system/coredns', 'updated ConfigMap kube-system/kube-proxy', 'updated DaemonSet kube-system/kube-proxy']);
    const dep = api.get(`${DEPLOY}/coredns`) as Obj;
    assert.equal(dep.spec.template.spec.containers[0].image, 'my.registry.example.com/k8s/coredns:v1.14.2');
    assert.equal(dep.spec.revisionHistoryLimit, 10, "an update keeps the server's fields");
    assert.match(api.get(`${CM}/kube-proxy`)?.data['config.conf'], /^clusterCIDR: 10\.200\.0\.0\/16$/m);
    assert.equal(api.get('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy')?.spec.template.spec.containers[0].image, 'my.registry.example.com/k8s/kube-proxy:v1.36.5');
  });

  it('an existing Corefile is kept (as kubeadm keeps it); when it is not the one for this configuration, a warning says how to replace it', async () => {
    const api = new FakeApiServer();
    await ensureCoreDNS(env({}, api).ctx, env({}, api).client);
    const e = env({ 'service-dns-domain': 'corp.example.com' }, api);
    await ensureCoreDNS(e.ctx, e.client);
    assert.match(api.get(`${CM}/coredns`)?.data.Corefile, /kubernetes cluster\.local in-addr\.arpa/);
    const w = logs(e.events.events).filter((l) => l.startsWith('WARNING'));
    assert.equal(w.length, 1);
    assert.match(w[0] as string, /kept the existing Corefile of ConfigMap kube-system\/coredns.*cluster domain "corp\.example\.com".*kubectl -n kube-system delete configmap coredns/);
  });

  it('the replicas of the existing CoreDNS Deployment are kept', async () => {
    const api = new FakeApiServer();
    await ensureCoreDNS(env({}, api).ctx, env({}, api).client);
    (api.get(`${DEPLOY}/coredns`) as Obj).spec.replicas = 3;
    const e = env({}, api);
    await ensureCoreDNS(e.ctx, e.client);
    assert.equal(api.get(`${DEPLOY}/coredns`)?.spec.replicas, 3);
    assert.ok(objectEvents(e.events.events).includes('unchanged Deployment kube-system/coredns'));
  });

  it("kubeadm's errors: two CoreDNS Deployments; a coredns ConfigMap without a Corefile; a refused request names the object", async () => {
    const two = env();
    two.api.seed(`${DEPLOY}/coredns`, { kind: 'Deployment', metadata: { name: 'coredns', labels: { 'k8s-app': 'kube-dns' } }, spec: { replicas: 2 } });
    two.api.seed(`${DEPLOY}/other-dns`, { kind: 'Deployment', metadata: { name: 'other-dns', labels: { 'k8s-app': 'kube-dns' } }, spec: { replicas: 1 } });
    await assert.rejects(ensureCoreDNS(two.ctx, two.client), (err: OperationError) => err instanceof OperationError && /multiple DNS addon deployments found: coredns, other-dns/.test(err.message));

    const empty = env();
    empty.api.seed(`${CM}/coredns`, { kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { other: 'x' } });
    await assert.rejects(ensureCoreDNS(empty.ctx, empty.client), (err: OperationError) => /unable to find the CoreDNS Corefile data/.test(err.message) && /delete configmap coredns/.test(err.hint ?? ''));

    const refused = env();
    refused.api.failWith = 403;
    await assert.rejects(ensureKubeProxy(refused.ctx, refused.client), (err: OperationError) => /reading ConfigMap kube-system\/kube-proxy with \/etc\/kubernetes\/admin\.conf: 403/.test(err.message));
  });
});

describe("the addons' patch targets (patches.directory)", () => {
  function patchDir(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'kubeboot-addon-patches-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return dir;
  }

  it("corednsdeployment patches CoreDNS's Deployment (kubeadm's messages); kubeproxydaemonset is a target from 1.37 on", async (t) => {
    const dir = patchDir(t, {
      'corednsdeployment+merge.yaml': 'spec:\n  template:\n    metadata:\n      annotations:\n        patched: "yes"\n',
      'kubeproxydaemonset.yaml': 'metadata:\n  labels:\n    patched: "yes"\n',
    });
    const e = env({ patches: dir });
    await both(e);
    assert.equal(e.api.get(`${DEPLOY}/coredns`)?.spec.template.metadata.annotations.patched, 'yes');
    assert.equal(e.api.get('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy')?.metadata.labels.patched, undefined);
    const l = logs(e.events.events);
    assert.ok(l.includes('[patches] Applied patch of type "application/merge-patch+json" to target "corednsdeployment"'), l.join('\n'));
    assert.ok(l.includes('[patches] Ignoring the patches for target "kubeproxydaemonset": kubeadm 1.36 does not patch kube-proxy\'s DaemonSet (kubeadm 1.37 does)'));

    const e137 = env({ patches: dir, 'kubernetes-version': 'v1.37.1' });
    await both(e137);
    assert.equal(e137.api.get('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy')?.metadata.labels.patched, 'yes');
    assert.ok(logs(e137.events.events).includes('[patches] Applied patch of type "application/strategic-merge-patch+json" to target "kubeproxydaemonset"'));
  });

  it('a patch that does not apply stops the addon before any object is written, naming the file', async (t) => {
    const dir = patchDir(t, { 'corednsdeployment+json.json': '[{"op": "remove", "path": "/spec/nothing"}]' });
    const e = env({ patches: dir });
    await assert.rejects(ensureCoreDNS(e.ctx, e.client), (err: OperationError) => /could not apply patches to the CoreDNS Deployment: could not apply patch file ".*corednsdeployment\+json\.json"/.test(err.message));
    assert.ok(e.api.calls.every((c) => c.startsWith('GET ')), 'nothing was written');
  });
});

describe('the addon phase', () => {
  /** The context with the fake server behind ctx.client(). */
  function phaseContext(e: Env): InitContext {
    const access = { client: e.client, superAdmin: async () => undefined, ensureClusterAdmins: (ms: number) => ensureClusterAdmins(e.client, async () => undefined, ms) };
    return { ...e.ctx, client: async () => access };
  }
  const sub = (name: string) => addon.phases?.find((p) => p.name === name) as Phase<InitContext>;

  it("has kubeadm's sub-phases and flags; makes sure kubeadm:cluster-admins exists before the first object", async () => {
    assert.deepEqual(addon.phases?.map((p) => p.name), ['coredns', 'kube-proxy']);
    assert.deepEqual(sub('coredns').flags, ['config', 'kubernetes-version', 'image-repository', 'dry-run', 'feature-gates', 'service-dns-domain', 'service-cidr']);
    assert.deepEqual(sub('kube-proxy').flags, ['config', 'kubernetes-version', 'image-repository', 'dry-run', 'apiserver-advertise-address', 'control-plane-endpoint', 'apiserver-bind-port', 'pod-network-cidr']);
    const e = env();
    await sub('kube-proxy').run?.(phaseContext(e));
    assert.deepEqual(e.api.calls.slice(0, 2), ['GET /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm%3Acluster-admins', 'POST /apis/rbac.authorization.k8s.io/v1/clusterrolebindings']);
    assert.ok(e.api.get('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy'));
  });

  it('no API server: the phase says what it needs (exit 1, with a hint), before any object', async () => {
    const e = env();
    e.api.unreachable = true;
    await assert.rejects(sub('coredns').run?.(phaseContext(e)) as Promise<void>, (err: OperationError) =>
      err instanceof OperationError && /admin\.conf: the API server at https:\/\/192\.0\.2\.10:6443 does not answer \(ECONNREFUSED\)/.test(err.message) && /--skip-phases addon/.test(err.hint ?? ''),
    );
  });

  it('dns.disabled / proxy.disabled skip the sub-phase', async () => {
    const { buildSpec, parseConfigText } = await import('../../../src/config/load.js');
    const { TEST_HOST } = await import('../../helpers/host.js');
    const parsed = await parseConfigText('apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nproxy:\n  disabled: true\n', 'c.yaml');
    const off = { ...env().ctx, spec: buildSpec(parsed, {}, TEST_HOST, 'c.yaml').spec };
    assert.equal(await sub('kube-proxy').runIf?.(off), false);
    assert.equal(await sub('coredns').runIf?.(off), true);
  });
});

describe('the dry-run twin reads an unreachable API server as empty', () => {
  it('a GET marked absentWhenUnreachable answers 404 (once asked, the server is not asked again); writes are recorded; other GETs fail as before', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kubeboot-addons-dry-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const fx = new DryRunEffects('', path.join(dir, 'out'));
    // port 9 on loopback: nothing listens (connection refused at once)
    const client = new ApiClient(fx, { ...CREDS, server: 'https://127.0.0.1:9', ca: undefined, cert: '', key: '' }, 'admin.conf');
    const e = testContext({ 'pod-network-cidr': '10.244.0.0/16' }, { dryRun: true });
    const ctx: InitContext = { ...e.ctx, fx };
    await ensureKubeProxy(ctx, client);
    assert.deepEqual(objectEvents(e.events.events).map((l) => l.split(' ')[0]), Array(6).fill('created'));
    assert.equal(fx.records.filter((r) => r.action === 'http' && r.detail?.startsWith('POST ')).length, 6);
    assert.ok(fx.records.some((r) => r.detail?.includes('not reachable (ECONNREFUSED); taken as not found')), JSON.stringify(fx.records.slice(0, 3)));
    assert.equal(fx.records.filter((r) => r.detail?.includes('not reachable')).length, 6, 'each read is recorded');
    // the dry run prints what would be sent, and words the phase's line for a dry run
    const l = logs(e.events.events);
    assert.ok(l.includes('[dryrun] Would create ConfigMap kube-system/kube-proxy'), l.join('\n'));
    // the object itself is in the recorded request (init prints it at the end of the run)
    const cm = fx.records.find((r) => r.detail === 'POST https://127.0.0.1:9/api/v1/namespaces/kube-system/configmaps' && r.body?.includes('"name":"kube-proxy"'));
    assert.ok(cm && /"config\.conf":"apiVersion: kubeproxy\.config\.k8s\.io\/v1alpha1/.test(cm.body ?? ''), JSON.stringify(fx.records.map((r) => r.detail)));
    assert.equal(l.at(-1), '[addons] Would apply essential addon: kube-proxy');
    await assert.rejects(client.get('/api/v1/namespaces/kube-system/pods/x'), /ECONNREFUSED/);
    // a server that is there but cannot be talked to (here: a broken client key) is an error, not "nothing there"
    const broken = new ApiClient(new DryRunEffects('', path.join(dir, 'out2')), { ...CREDS, server: 'https://127.0.0.1:9' }, 'admin.conf');
    await assert.rejects(broken.get('/api/v1/namespaces/kube-system/configmaps/x', undefined, { absentWhenUnreachable: true }), /PEM|key/i);
  });
});
