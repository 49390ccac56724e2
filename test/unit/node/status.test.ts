/**
 * `kubeboot status`'s checks (src/node/status.ts) on the fake effects: a node whose PKI, kubeconfigs and manifests the
 * real init phases wrote (ECDSA keys, for speed), and a fake kubelet, components and API server behind fx.http. What
 * each check finds, how a failure turns the node unhealthy, what cannot be checked when the API server is down, that
 * every probe is in flight at once with a short timeout, and the text it prints.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certs } from '../../../phases/init/certs.js';
import { controlPlane } from '../../../phases/init/control-plane.js';
import { etcd } from '../../../phases/init/etcd.js';
import { kubeconfig } from '../../../phases/init/kubeconfig.js';
import { loadConfig } from '../../../src/config/load.js';
import type { HttpRequest, HttpResponse } from '../../../src/effects/types.js';
import { ExitCode, KubebootError } from '../../../src/errors.js';
import { nodeContext, type NodeContext } from '../../../src/node/context.js';
import { certificatesCheckOf, nodeStatus, problemSummary, statusText, STATUS_TIMEOUT_MS, versionsCheck, type NodeStatusReport } from '../../../src/node/status.js';
import type { CertificateExpirationInfo, ExpirationEntry } from '../../../src/pki/expiration.js';
import { Output } from '../../../src/workflow/events.js';
import { MemoryReporter } from '../../../src/workflow/reporters.js';
import { runWorkflow } from '../../../src/workflow/run.js';
import { FakeEffects } from '../../helpers/fake-effects.js';
import { TEST_HOST } from '../../helpers/host.js';

const CONFIG = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp1
  criSocket: unix:///var/run/containerd/containerd.sock
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
encryptionAlgorithm: ECDSA-P256
`;

const API = 'https://192.0.2.10:6443';
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const HEALTH: Record<string, string> = {
  kubelet: 'http://127.0.0.1:10248/healthz',
  etcd: 'http://127.0.0.1:2381/health',
  'kube-apiserver': `${API}/livez`,
  'kube-controller-manager': 'https://127.0.0.1:10257/healthz',
  'kube-scheduler': 'https://127.0.0.1:10259/livez',
};

type Obj = Record<string, unknown>;

function mirrorPod(component: string, o: { ready?: boolean; restarts?: number; waiting?: string; lastExit?: number } = {}): Obj {
  const ready = o.ready ?? true;
  return {
    metadata: { name: `${component}-cp1`, namespace: 'kube-system', annotations: { 'kubernetes.io/config.mirror': 'h1', 'kubernetes.io/config.hash': 'h1' } },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: component,
          ready,
          started: o.waiting === undefined,
          restartCount: o.restarts ?? 0,
          state: o.waiting !== undefined ? { waiting: { reason: o.waiting } } : { running: { startedAt: '2026-01-01T00:00:00Z' } },
          lastState: o.lastExit !== undefined ? { terminated: { exitCode: o.lastExit, reason: 'Error' } } : {},
        },
      ],
    },
  };
}

/** The fake node behind fx.http: answers per URL, and what each request asked for. */
class FakeNode {
  readonly requests: HttpRequest[] = [];
  /** URLs (or URL prefixes) that refuse the connection */
  refused = new Set<string>();
  health: Record<string, number> = {};
  pods: Obj[] = COMPONENTS.map((c) => mirrorPod(c));
  podsStatus = 200;
  node: Obj | undefined = {
    metadata: { name: 'cp1' },
    spec: { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
    status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.36.5' } },
  };
  coredns: Obj | undefined;
  version = 'v1.36.5';
  versionStatus = 200;
  /** every request waits until this many are in flight (0: no waiting) */
  barrier = 0;
  private waiting: (() => void)[] = [];

  handle = async (req: HttpRequest): Promise<HttpResponse> => {
    this.requests.push(req);
    if (this.barrier > 0) {
      await new Promise<void>((resolve, reject) => {
        // a status that sends its probes one after another never releases the barrier: fail instead of hanging
        const timer = setTimeout(() => reject(new Error(`only ${this.requests.length} request(s) in flight, expected ${this.barrier}`)), 2000);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
        if (this.waiting.length >= this.barrier) for (const w of this.waiting.splice(0)) w();
      });
    }
    const json = (status: number, body: unknown): HttpResponse => ({ status, body: JSON.stringify(body), headers: {} });
    for (const r of this.refused) {
      if (req.url.startsWith(r)) throw Object.assign(new Error(`connect ECONNREFUSED ${new URL(req.url).host}`), { code: 'ECONNREFUSED' });
    }
    for (const [name, url] of Object.entries(HEALTH)) if (req.url === url) return { status: this.health[name] ?? 200, body: 'ok', headers: {} };
    const path = req.url.startsWith(API) ? req.url.slice(API.length) : undefined;
    if (path === '/version') return this.versionStatus === 200 ? json(200, { gitVersion: this.version }) : json(this.versionStatus, { kind: 'Status', message: 'Unauthorized' });
    if (path === '/api/v1/namespaces/kube-system/pods') return this.podsStatus === 200 ? json(200, { items: this.pods }) : json(this.podsStatus, { kind: 'Status', message: 'pods is forbidden: User "kubernetes-admin" cannot list resource "pods"' });
    if (path === '/api/v1/nodes/cp1') return this.node ? json(200, this.node) : json(404, { kind: 'Status', message: 'nodes "cp1" not found' });
    if (path === '/apis/apps/v1/namespaces/kube-system/deployments/coredns') return this.coredns ? json(200, this.coredns) : json(404, { kind: 'Status', message: 'not found' });
    throw new Error(`unexpected request ${req.url}`);
  };
}

let base: FakeEffects | undefined;
/** A node as init's certs, kubeconfig, etcd and control-plane phases leave it (made once, copied per test). */
async function setup(fakeNode = new FakeNode()): Promise<{ ctx: NodeContext; fx: FakeEffects; node: FakeNode }> {
  const spec = (await loadConfig({ path: 'config.yaml', text: CONFIG }, {}, TEST_HOST)).spec;
  const make = (fx: FakeEffects) =>
    nodeContext({ spec, host: TEST_HOST, fx, out: new Output(new MemoryReporter()), options: { dryRun: false, root: '', verbose: false, waitTimeoutMs: undefined } });
  if (!base) {
    base = new FakeEffects();
    const ctx = make(base);
    await runWorkflow({ tree: [certs, kubeconfig, etcd, controlPlane], ctx: { ...ctx, options: { ...ctx.options, ignorePreflightErrors: new Set<string>(), waitFor: ['all'] } }, skip: [] });
  }
  const fx = new FakeEffects();
  for (const [p, f] of base.files) fx.files.set(p, { data: f.data, mode: f.mode });
  fx.http_ = fakeNode.handle;
  return { ctx: make(fx), fx, node: fakeNode };
}

const run = (ctx: NodeContext) => nodeStatus(ctx, { configuration: '/etc/kubernetes/kubeboot/config.yaml', kubebootVersion: '0.1.0' });
const byName = (r: NodeStatusReport, name: string) => {
  const c = r.checks.find((x) => x.name === name);
  assert.ok(c, `no check named ${name} in ${r.checks.map((x) => x.name).join(', ')}`);
  return c;
};

describe('kubeboot status on the fake node', () => {
  it('healthy: every check ok, in a fixed order; every probe in flight at once, none longer than 2 s', async () => {
    const { ctx, node } = await setup();
    node.barrier = 9; // the kubelet, 4 components, /version, pods, node, coredns: all at once
    const r = await run(ctx);
    assert.equal(r.healthy, true, statusText(r));
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.unknown, []);
    assert.deepEqual(
      r.checks.map((c) => `${c.state} ${c.name}`),
      [
        'ok kubelet',
        'ok etcd',
        'ok kube-apiserver',
        'ok kube-controller-manager',
        'ok kube-scheduler',
        'ok api',
        'ok pod etcd-cp1',
        'ok pod kube-apiserver-cp1',
        'ok pod kube-controller-manager-cp1',
        'ok pod kube-scheduler-cp1',
        'ok node cp1',
        'ok coredns',
        'ok versions',
        'ok certificates',
      ],
    );
    assert.equal(node.requests.length, 9);
    for (const q of node.requests) assert.ok(q.timeoutMs !== undefined && q.timeoutMs <= STATUS_TIMEOUT_MS, `${q.url}: timeout ${q.timeoutMs}`);
    assert.equal(byName(r, 'coredns').message, 'not installed (there is no Deployment kube-system/coredns)');
    assert.deepEqual(byName(r, 'coredns').data, { installed: false, replicas: null, readyReplicas: null });
    assert.equal(byName(r, 'node cp1').message, 'Ready; kubelet v1.36.5; taints node-role.kubernetes.io/control-plane:NoSchedule');
    assert.deepEqual(byName(r, 'versions').data, { kubeboot: '0.1.0', configured: 'v1.36.5', apiServer: 'v1.36.5', kubelet: 'v1.36.5' });
    // the certificates init just made: a year for the leaves (the kubeconfigs' client certificates come first by name)
    assert.match(byName(r, 'certificates').message, /^nearest expiry: admin\.conf in 365d \(Jan 01, 2027 00:00 UTC\)$/);
    assert.equal(byName(r, 'kube-apiserver').message, `${API}/livez answers ok`);
  });

  it('the API server down: its health and the api check fail; what needs it is unknown, not failed; the rest is still checked', async () => {
    const { ctx, node } = await setup();
    node.refused.add(API);
    const r = await run(ctx);
    assert.equal(r.healthy, false);
    assert.deepEqual(r.failed, ['kube-apiserver', 'api']);
    assert.deepEqual(r.unknown, ['pod etcd-cp1', 'pod kube-apiserver-cp1', 'pod kube-controller-manager-cp1', 'pod kube-scheduler-cp1', 'node cp1', 'coredns', 'versions']);
    assert.equal(byName(r, 'api').message, `${API}: connect ECONNREFUSED 192.0.2.10:6443`);
    assert.equal(byName(r, 'pod etcd-cp1').message, 'not checked: no answer from the API server (see api)');
    assert.equal(byName(r, 'versions').state, 'unknown');
    assert.equal(byName(r, 'kubelet').state, 'ok');
    assert.equal(byName(r, 'certificates').state, 'ok');
    assert.equal(
      problemSummary(r),
      'failed: kube-apiserver, api; not checked: pod etcd-cp1, pod kube-apiserver-cp1, pod kube-controller-manager-cp1, pod kube-scheduler-cp1, node cp1, coredns, versions',
    );
  });

  it('a crash-looping scheduler: its health endpoint and its mirror pod fail, with the restarts and the last exit', async () => {
    const { ctx, node } = await setup();
    node.refused.add(HEALTH['kube-scheduler'] as string);
    node.pods = COMPONENTS.map((c) => (c === 'kube-scheduler' ? mirrorPod(c, { ready: false, restarts: 5, waiting: 'CrashLoopBackOff', lastExit: 1 }) : mirrorPod(c)));
    const r = await run(ctx);
    assert.deepEqual(r.failed, ['kube-scheduler', 'pod kube-scheduler-cp1']);
    assert.equal(byName(r, 'kube-scheduler').message, 'https://127.0.0.1:10259/livez: connect ECONNREFUSED 127.0.0.1:10259');
    const pod = byName(r, 'pod kube-scheduler-cp1');
    assert.equal(pod.message, 'not Ready (phase Running); container kube-scheduler waiting (CrashLoopBackOff), restarted 5 times, last termination: Error, exit code 1');
    assert.equal(pod.data.restarts, 5);
    assert.deepEqual(pod.data.containers, [{ name: 'kube-scheduler', state: 'waiting', reason: 'CrashLoopBackOff', ready: false, restartCount: 5, lastTermination: { exitCode: 1, reason: 'Error' } }]);
    const text = statusText(r);
    assert.match(text, /^FAIL {4}pod kube-scheduler-cp1 {2,}not Ready \(phase Running\); container kube-scheduler waiting \(CrashLoopBackOff\)/m);
  });

  it('a component that answers its health endpoint but whose pod is not Ready, and a Ready pod that restarted', async () => {
    const { ctx, node } = await setup();
    node.pods = COMPONENTS.map((c) =>
      c === 'kube-controller-manager' ? mirrorPod(c, { ready: false }) : c === 'etcd' ? mirrorPod(c, { restarts: 2, lastExit: 137 }) : mirrorPod(c),
    );
    const r = await run(ctx);
    assert.deepEqual(r.failed, ['pod kube-controller-manager-cp1']);
    assert.equal(byName(r, 'kube-controller-manager').state, 'ok');
    assert.equal(byName(r, 'pod kube-controller-manager-cp1').message, 'not Ready (phase Running); container kube-controller-manager running, not ready');
    assert.equal(byName(r, 'pod etcd-cp1').message, 'Ready, 2 restarts (last termination: Error, exit code 137)');
  });

  it('a health endpoint that answers 500, the kubelet down, a missing mirror pod and a missing manifest', async () => {
    const { ctx, fx, node } = await setup();
    node.health['kube-controller-manager'] = 500;
    node.refused.add(HEALTH.kubelet as string);
    node.pods = COMPONENTS.filter((c) => c !== 'etcd').map((c) => mirrorPod(c));
    fx.files.delete('/etc/kubernetes/manifests/kube-scheduler.yaml');
    const r = await run(ctx);
    assert.deepEqual(r.failed, ['kubelet', 'kube-controller-manager', 'kube-scheduler', 'pod etcd-cp1']);
    assert.equal(byName(r, 'kube-controller-manager').message, 'https://127.0.0.1:10257/healthz returned status 500: ok');
    assert.equal(byName(r, 'kube-scheduler').message, 'its static pod manifest /etc/kubernetes/manifests/kube-scheduler.yaml does not exist');
    assert.deepEqual(byName(r, 'kube-scheduler').data, {
      component: 'kube-scheduler',
      manifest: { path: '/etc/kubernetes/manifests/kube-scheduler.yaml', present: false },
      url: null,
      error: 'its static pod manifest /etc/kubernetes/manifests/kube-scheduler.yaml does not exist',
    });
    assert.deepEqual(byName(r, 'kube-controller-manager').data.manifest, { path: '/etc/kubernetes/manifests/kube-controller-manager.yaml', present: true });
    assert.equal(byName(r, 'pod etcd-cp1').message, 'no such pod in kube-system yet (the kubelet has not created the mirror pod)');
    assert.equal(byName(r, 'kubelet').message, 'http://127.0.0.1:10248/healthz: connect ECONNREFUSED 127.0.0.1:10248');
  });

  it('the node NotReady (with the reason), not registered, and the API server refusing admin.conf the pod list', async () => {
    const { ctx, node } = await setup();
    node.node = {
      metadata: { name: 'cp1' },
      spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'dedicated', value: 'cp', effect: 'NoExecute' }] },
      status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false' }], nodeInfo: { kubeletVersion: 'v1.36.5' } },
    };
    node.podsStatus = 403;
    let r = await run(ctx);
    assert.equal(
      byName(r, 'node cp1').message,
      'not Ready (Ready=False, KubeletNotReady: container runtime network not ready: NetworkReady=false); kubelet v1.36.5; taints node.kubernetes.io/not-ready:NoSchedule, dedicated=cp:NoExecute',
    );
    assert.equal(byName(r, 'pod etcd-cp1').message, 'GET /api/v1/namespaces/kube-system/pods: 403 pods is forbidden: User "kubernetes-admin" cannot list resource "pods"');
    assert.deepEqual(r.failed, ['pod etcd-cp1', 'pod kube-apiserver-cp1', 'pod kube-controller-manager-cp1', 'pod kube-scheduler-cp1', 'node cp1']);
    node.node = undefined;
    r = await run(ctx);
    assert.equal(byName(r, 'node cp1').message, 'not registered: the kubelet has not registered the Node "cp1" with the API server');
  });

  it('one API read unanswered while /version answers: its checks are unknown, naming the read, and the node is not healthy', async () => {
    const { ctx, node } = await setup();
    node.refused.add(`${API}/api/v1/namespaces/kube-system/pods`);
    const r = await run(ctx);
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.unknown, ['pod etcd-cp1', 'pod kube-apiserver-cp1', 'pod kube-controller-manager-cp1', 'pod kube-scheduler-cp1']);
    assert.equal(r.healthy, false);
    assert.equal(byName(r, 'api').state, 'ok');
    assert.equal(byName(r, 'pod etcd-cp1').message, `not checked: GET /api/v1/namespaces/kube-system/pods: ${API}: connect ECONNREFUSED 192.0.2.10:6443`);
    assert.equal(problemSummary(r), 'not checked: pod etcd-cp1, pod kube-apiserver-cp1, pod kube-controller-manager-cp1, pod kube-scheduler-cp1');
  });

  it('/version refused to admin.conf: api fails and versions is unknown, not ok', async () => {
    const { ctx, node } = await setup();
    node.versionStatus = 401;
    const r = await run(ctx);
    assert.deepEqual(r.failed, ['api']);
    assert.deepEqual(r.unknown, ['versions']);
    assert.match(byName(r, 'api').message, /^GET https:\/\/192\.0\.2\.10:6443\/version with \/etc\/kubernetes\/admin\.conf: 401 /);
    assert.equal(byName(r, 'versions').message, "configured v1.36.5; API server and kubelet not checked: the API server's version is not known (see api)");
  });

  it('CoreDNS: installed and ready, installed and short of ready replicas', async () => {
    const { ctx, node } = await setup();
    node.coredns = { spec: { replicas: 2 }, status: { readyReplicas: 2 } };
    let r = await run(ctx);
    assert.equal(byName(r, 'coredns').state, 'ok');
    assert.equal(byName(r, 'coredns').message, '2/2 replicas ready (Deployment kube-system/coredns)');
    node.coredns = { spec: { replicas: 2 }, status: { replicas: 2 } };
    r = await run(ctx);
    assert.deepEqual(r.failed, ['coredns']);
    assert.deepEqual(byName(r, 'coredns').data, { installed: true, replicas: 2, readyReplicas: 0 });
  });

  it('the API server runs another version than the configuration says', async () => {
    const { ctx, node } = await setup();
    node.version = 'v1.36.4';
    const r = await run(ctx);
    assert.deepEqual(r.failed, ['versions']);
    assert.equal(
      byName(r, 'versions').message,
      "the API server runs v1.36.4, the configuration says v1.36.5 ('kubeboot regenerate kube-apiserver' applies it) (configured v1.36.5; API server v1.36.4; kubelet v1.36.5)",
    );
  });

  it('certificates: two years later every leaf has expired', async () => {
    const { ctx, fx } = await setup();
    fx.clock += 2 * 365 * 24 * 3600 * 1000;
    const r = await run(ctx);
    assert.deepEqual(r.failed, ['certificates']);
    assert.match(byName(r, 'certificates').message, /^expired: admin\.conf on Jan 01, 2027 00:00 UTC \(kubeboot certs renew admin\.conf\), apiserver on /);
  });

  it('no admin.conf: not a node kubeboot set up (exit 2), before any probe', async () => {
    const { ctx, fx, node } = await setup();
    fx.files.delete('/etc/kubernetes/admin.conf');
    await assert.rejects(run(ctx), (err: unknown) => err instanceof KubebootError && err.exitCode === ExitCode.preflight && /\/etc\/kubernetes\/admin\.conf( \(under \/\))? does not exist/.test(err.message));
    assert.equal(node.requests.length, 0);
  });

  it('the text: one line per check, the state first, names in a column; the same report gives the same text', async () => {
    const { ctx, node } = await setup();
    node.refused.add(HEALTH['kube-scheduler'] as string);
    const r = await run(ctx);
    const text = statusText(r);
    assert.equal(text, statusText(JSON.parse(JSON.stringify(r)) as NodeStatusReport));
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, r.checks.length);
    assert.equal(lines[0], 'ok      kubelet                          http://127.0.0.1:10248/healthz answers ok');
    assert.equal(lines[4], 'FAIL    kube-scheduler                   https://127.0.0.1:10259/livez: connect ECONNREFUSED 127.0.0.1:10259');
    // 'pod kube-controller-manager-cp1' is the longest name (31 characters): the messages start in one column
    for (const l of lines) assert.match(l, /^(ok {6}|FAIL {4}|UNKNOWN )\S.{30} {2}\S/);
  });
});

describe('status checks that are pure', () => {
  const entry = (name: string, days: number | undefined, caName?: string): ExpirationEntry => ({
    name,
    expirationDate: days === undefined ? null : new Date(Date.parse('2026-01-01T00:00:00Z') + days * 86400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    residualTime: days === undefined ? 0 : days * 86400,
    externallyManaged: false,
    ...(caName ? { caName } : {}),
    missing: days === undefined,
  });
  const info = (certificates: ExpirationEntry[], cas: ExpirationEntry[] = [entry('ca', 3650)]): CertificateExpirationInfo => ({
    kind: 'CertificateExpirationInfo',
    apiVersion: 'output.kubeadm.k8s.io/v1alpha3',
    certificates,
    certificateAuthorities: cas,
  });

  it('certificates: the nearest expiry; soon is still ok but says what to run; expired or missing fails; super-admin.conf may be absent', () => {
    let c = certificatesCheckOf(info([entry('apiserver', 300, 'ca'), entry('admin.conf', 200, 'ca'), entry('super-admin.conf', undefined)]));
    assert.equal(c.state, 'ok');
    assert.equal(c.message, 'nearest expiry: admin.conf in 200d (Jul 20, 2026 00:00 UTC); not on this node: super-admin.conf');
    c = certificatesCheckOf(info([entry('apiserver', 9, 'ca'), entry('admin.conf', 200, 'ca')]));
    assert.equal(c.state, 'ok');
    assert.equal(c.message, 'nearest expiry: apiserver in 9d (Jan 10, 2026 00:00 UTC); within 30 days: apiserver (kubeboot certs renew apiserver)');
    assert.deepEqual(c.data.expiringSoon, ['apiserver']);
    c = certificatesCheckOf(info([entry('apiserver', -1, 'ca'), entry('front-proxy-client', undefined)]));
    assert.equal(c.state, 'fail');
    assert.equal(c.message, 'expired: apiserver on Dec 31, 2025 00:00 UTC (kubeboot certs renew apiserver); missing: front-proxy-client');
    c = certificatesCheckOf(info([entry('apiserver', 100, 'ca')], [entry('ca', 5)]));
    assert.equal(c.message, 'nearest expiry: ca (CA) in 5d (Jan 06, 2026 00:00 UTC); within 30 days: ca (a CA is not renewed by kubeboot)');
  });

  it('versions: the kubelet may be older than the API server by 3 minors, never newer; unknown when the API server does not answer', () => {
    const v = (apiServer: string | null, kubelet: string | null) => versionsCheck({ kubeboot: '0.1.0', configured: 'v1.36.5', apiServer, kubelet }, undefined);
    assert.equal(v('v1.36.5', 'v1.33.0').state, 'ok');
    assert.equal(v('v1.36.5-kubeboot-double', 'v1.36.5-kubeboot-double').state, 'ok');
    assert.match(v('v1.36.5', 'v1.32.9').message, /^the kubelet v1\.32\.9 is more than 3 minor versions older than the API server v1\.36\.5/);
    assert.match(v('v1.36.5', 'v1.37.0').message, /^the kubelet v1\.37\.0 is newer than the API server v1\.36\.5/);
    assert.equal(versionsCheck({ kubeboot: '0.1.0', configured: 'v1.36.5', apiServer: null, kubelet: null }, 'not checked: x').state, 'unknown');
  });
});
