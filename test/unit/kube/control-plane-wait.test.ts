import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiClient, ensureClusterAdmins } from '../../../src/kube/api.js';
import { diagnose, waitForControlPlane, type WaitEvent, type WaitPlan } from '../../../src/kube/control-plane-wait.js';
import type { HttpRequest, HttpResponse } from '../../../src/effects/types.js';
import { WaitTimeoutError } from '../../../src/errors.js';
import { FakeEffects } from '../../helpers/fake-effects.js';

const SERVER = 'https://127.0.0.1:6443';
const SOCK = 'unix:///var/run/containerd/containerd.sock';
const NAMES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const URLS: Record<string, string> = {
  kubelet: 'http://127.0.0.1:10248/healthz',
  'kube-apiserver': `${SERVER}/livez`,
  'kube-controller-manager': 'https://127.0.0.1:10257/healthz',
  'kube-scheduler': 'https://127.0.0.1:10259/livez',
  etcd: 'http://127.0.0.1:2381/health',
};

function refused(url: string): Error {
  const port = new URL(url).port;
  return Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
}

interface PodSpec {
  /** ms after which the kubelet has created the mirror pod */
  at: number;
  readyAt?: number;
  /** crash loop: a restart every `every` ms with this exit code */
  crash?: { every: number; exitCode: number };
  mirror?: boolean;
  /** the restart count the kubelet carried over from the logs of an earlier pod with this UID (no last termination) */
  carried?: number;
}

interface Scenario {
  /** ms after start when each endpoint starts answering 200 (undefined: never) */
  up: Partial<Record<string, number>>;
  pods: Partial<Record<string, PodSpec>>;
}

function pod(name: string, s: PodSpec, t: number): Record<string, unknown> {
  const crash = s.crash;
  const restarts = (s.carried ?? 0) + (crash ? Math.floor((t - s.at) / crash.every) : 0);
  const ready = s.readyAt !== undefined && t >= s.readyAt && !crash;
  const hash = `hash-${name}`;
  return {
    metadata: {
      name: `${name}-cp1`,
      namespace: 'kube-system',
      annotations: {
        'kubernetes.io/config.hash': hash,
        ...(s.mirror === false ? {} : { 'kubernetes.io/config.mirror': hash }),
        'kubernetes.io/config.source': 'file',
      },
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [
        {
          name,
          containerID: `containerd://${name}${restarts}`,
          started: !crash,
          ready,
          restartCount: restarts,
          state: crash && restarts > 0 ? { waiting: { reason: 'CrashLoopBackOff' } } : { running: { startedAt: 'x' } },
          lastState: crash && restarts > 0 ? { terminated: { exitCode: crash.exitCode, reason: 'Error' } } : {},
        },
      ],
    },
  };
}

/** A fake kubelet + API server driven by the manual clock. */
function world(fx: FakeEffects, sc: Scenario) {
  const t0 = fx.clock;
  const requests: HttpRequest[] = [];
  let binding = false;
  fx.http_ = (req): HttpResponse => {
    requests.push(req);
    const t = fx.clock - t0;
    const isUp = (k: string) => sc.up[k] !== undefined && t >= (sc.up[k] as number);
    for (const [k, url] of Object.entries(URLS)) {
      if (req.url === url) {
        if (!isUp(k)) throw refused(url);
        return { status: 200, body: 'ok', headers: {} };
      }
    }
    if (!req.url.startsWith(SERVER)) throw new Error(`unexpected URL ${req.url}`);
    if (!isUp('kube-apiserver')) throw refused(req.url);
    const path = req.url.slice(SERVER.length);
    const superAdmin = req.cert === 'SUPER-CERT';
    const allowed = superAdmin || binding;
    if (path.startsWith('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings')) {
      if (!allowed) return { status: 403, body: JSON.stringify({ kind: 'Status', message: 'forbidden' }), headers: {} };
      if (req.method === 'POST') {
        if (binding) return { status: 409, body: '{}', headers: {} };
        binding = true;
        return { status: 201, body: req.body ?? '{}', headers: {} };
      }
      return binding ? { status: 200, body: '{}', headers: {} } : { status: 404, body: '{}', headers: {} };
    }
    if (path === '/api/v1/namespaces/kube-system/pods') {
      if (!allowed) return { status: 403, body: JSON.stringify({ kind: 'Status', message: 'pods is forbidden' }), headers: {} };
      const items = Object.entries(sc.pods)
        .filter(([, s]) => s !== undefined && t >= s.at)
        .map(([n, s]) => pod(n, s as PodSpec, t));
      return { status: 200, body: JSON.stringify({ kind: 'PodList', items }), headers: {} };
    }
    return { status: 404, body: '{}', headers: {} };
  };
  return { requests, t0 };
}

function plan(fx: FakeEffects, timeoutMs: number, superAdmin = true): WaitPlan {
  const admin = new ApiClient(fx, { server: SERVER, ca: 'CA', cert: 'ADMIN-CERT', key: 'k', user: 'kubernetes-admin', cluster: 'kubernetes', insecure: false }, 'admin.conf');
  const sa = new ApiClient(fx, { server: SERVER, ca: 'CA', cert: 'SUPER-CERT', key: 'k', user: 'kubernetes-super-admin', cluster: 'kubernetes', insecure: false }, 'super-admin.conf');
  return {
    manifestsDir: '/etc/kubernetes/manifests',
    criSocket: SOCK,
    kubelet: { url: URLS.kubelet, timeoutMs },
    components: {
      endpoints: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((n) => ({ name: n as 'etcd', url: URLS[n] as string, insecure: true })),
      timeoutMs,
    },
    mirrorPods: {
      podNames: NAMES.map((n) => `${n}-cp1`),
      componentOf: Object.fromEntries(NAMES.map((n) => [`${n}-cp1`, n])),
      admin,
      superAdmin: async () => (superAdmin ? sa : undefined),
      timeoutMs,
    },
  };
}

function sink() {
  const logs: string[] = [];
  const events: WaitEvent[] = [];
  return { logs, events, sink: { log: (tag: string, m: string) => logs.push(`[${tag}] ${m}`), event: (e: WaitEvent) => events.push(e) } };
}

const allUp = { kubelet: 200, 'kube-apiserver': 300, 'kube-controller-manager': 400, 'kube-scheduler': 500, etcd: 100 };
const healthyPods = Object.fromEntries(NAMES.map((n, i) => [n, { at: 400 + i * 10, readyAt: 700 }]));

describe('waitForControlPlane (fake clock)', () => {
  it('waits in parallel, creates the cluster-admins binding with super-admin.conf on 403, and says what changed', async () => {
    const fx = new FakeEffects();
    const w = world(fx, { up: allUp, pods: healthyPods });
    const s = sink();
    const report = await waitForControlPlane(fx, plan(fx, 240_000), s.sink);
    assert.equal(report.ok, true);
    assert.ok(report.targets.every((t) => t.ok));
    assert.ok(s.logs.includes('[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "/etc/kubernetes/manifests"'));
    assert.ok(s.logs.includes(`[kubelet-check] Waiting for a healthy kubelet at ${URLS.kubelet}. This can take up to 4m0s`));
    assert.ok(s.logs.includes('[control-plane-check] Waiting for healthy control plane components. This can take up to 4m0s'));
    assert.ok(s.logs.includes(`[control-plane-check] Checking kube-apiserver at ${URLS['kube-apiserver']}`));
    assert.ok(s.logs.some((l) => /^\[kubelet-check\] The kubelet is healthy after \d/.test(l)));
    assert.ok(s.logs.some((l) => /^\[control-plane-check\] kube-scheduler is healthy after/.test(l)));
    assert.ok(s.logs.some((l) => /^\[mirror-pods\] All mirror pods are Ready after/.test(l)));
    // the binding: admin.conf got 403, super-admin.conf created it, admin.conf read the pods afterwards
    const post = w.requests.find((r) => r.method === 'POST');
    assert.equal(post?.cert, 'SUPER-CERT');
    assert.equal(JSON.parse(post?.body ?? '{}').metadata.name, 'kubeadm:cluster-admins');
    assert.ok(w.requests.filter((r) => r.url.endsWith('/pods')).every((r) => r.cert === 'ADMIN-CERT'));
    assert.ok(s.events.some((e) => e.target === 'cluster-admins' && e.data?.how === 'created-super-admin'));
    // one event per change
    assert.ok(s.events.some((e) => e.target === 'kubelet' && e.status === 'ready'));
    for (const n of NAMES) {
      assert.equal(s.events.filter((e) => e.target === `${n}-cp1` && e.data?.event === 'pod-seen').length, 1);
      assert.equal(s.events.filter((e) => e.target === `${n}-cp1` && e.status === 'ready').length, 1);
    }
    // the mirror pods are seen Ready soon after they are (every 10 ms once only readiness is missing)
    const mp = report.targets.find((t) => t.name === 'mirror-pods');
    assert.ok(mp && mp.elapsedMs >= 700 && mp.elapsedMs <= 760, `mirror pods after ${mp?.elapsedMs}`);
    assert.ok(w.requests.every((r) => r.url.startsWith('http://127.0.0.1') || r.url.startsWith('https://127.0.0.1')));
  });

  it('a restart count carried over from an earlier pod with the same manifest is said as such: no restart, no crictl', async () => {
    const fx = new FakeEffects();
    world(fx, { up: allUp, pods: Object.fromEntries(NAMES.map((n, i) => [n, { at: 400 + i * 10, readyAt: 700, carried: i + 1 }])) });
    fx.onPath.add('crictl');
    const s = sink();
    const report = await waitForControlPlane(fx, plan(fx, 240_000), s.sink);
    assert.equal(report.ok, true);
    assert.deepEqual(s.events.filter((e) => e.data?.event === 'container-restarted'), []);
    const carried = s.events.filter((e) => e.data?.event === 'restart-count-carried');
    assert.deepEqual(carried.map((e) => [e.target, e.data?.restartCount]), NAMES.map((n, i) => [`${n}-cp1`, i + 1]));
    assert.equal(carried[1]?.message, 'container kube-apiserver of kube-apiserver-cp1: restart count 2 carried over from earlier logs of this pod (no crash)');
    assert.equal(fx.execCalls.length, 0, 'crictl is not asked about a container that did not crash');
  });

  it('a crash loop: restarts, exit code and reason while waiting; crictl state and logs; exit 4 with the diagnosis', async () => {
    const fx = new FakeEffects();
    world(fx, { up: { ...allUp, 'kube-scheduler': undefined }, pods: { ...healthyPods, 'kube-scheduler': { at: 400, crash: { every: 300, exitCode: 2 } } } });
    fx.onPath.add('crictl');
    fx.exec_.crictl = (args) => {
      if (args.includes('ps')) {
        assert.deepEqual(args.slice(0, 2), ['--runtime-endpoint', SOCK]);
        return { exitCode: 0, stdout: JSON.stringify({ containers: [{ id: 'abc123def4567890', state: 'CONTAINER_EXITED', createdAt: '1', metadata: { name: 'kube-scheduler', attempt: 3 } }] }), stderr: '' };
      }
      if (args.includes('logs')) return { exitCode: 0, stdout: 'I0101 starting\n', stderr: 'E0101 failed to load config\nerror: unknown flag: --bogus\n' };
      throw new Error(`unexpected crictl ${args.join(' ')}`);
    };
    const s = sink();
    const p = plan(fx, 2000);
    const report = await waitForControlPlane(fx, p, s.sink);
    assert.equal(report.ok, false);
    const failed = report.targets.filter((t) => !t.ok).map((t) => t.name).sort();
    assert.deepEqual(failed, ['kube-scheduler', 'mirror-pods']);
    const restarts = s.events.filter((e) => e.data?.event === 'container-restarted');
    assert.ok(restarts.length >= 3, `restart events: ${restarts.length}`);
    assert.deepEqual(restarts.map((e) => e.data?.restartCount).slice(0, 3), [1, 2, 3]);
    assert.ok(restarts.every((e) => e.data?.exitCode === 2 && e.data?.reason === 'Error'));
    const rt = s.events.find((e) => e.data?.event === 'runtime-container');
    assert.ok(rt, 'crictl was asked');
    assert.deepEqual(rt.data?.logTail, ['I0101 starting', 'E0101 failed to load config', 'error: unknown flag: --bogus']);
    assert.ok(fx.execCalls.length <= 6, 'crictl is asked a bounded number of times');

    const err = await diagnose(fx, report, p, s.sink);
    assert.ok(err instanceof WaitTimeoutError);
    assert.equal(err.exitCode, 4);
    assert.match(err.message, /kube-scheduler-cp1: not Ready/);
    assert.match(err.message, /restarted \d+ times, last termination: Error, exit code 2/);
    assert.match(err.message, /kube-scheduler \(https:\/\/127\.0\.0\.1:10259\/livez: connect ECONNREFUSED/);
    const podFail = s.events.find((e) => e.status === 'failed' && e.target === 'kube-scheduler-cp1');
    assert.equal(podFail?.data?.lastExitCode, 2);
    assert.match(podFail?.message ?? '', /crictl: container abc123def4567 is CONTAINER_EXITED/);
    assert.match(podFail?.message ?? '', /unknown flag: --bogus/);
    const next = s.events.find((e) => e.target === 'wait-control-plane' && e.status === 'failed');
    assert.deepEqual(next?.data?.commands, [
      'systemctl status kubelet',
      'journalctl -xeu kubelet',
      `crictl --runtime-endpoint ${SOCK} ps -a | grep kube | grep -v pause`,
      `crictl --runtime-endpoint ${SOCK} logs CONTAINERID`,
    ]);
    // the healthy ones are not blamed
    assert.equal(s.events.some((e) => e.status === 'failed' && e.target === 'etcd-cp1'), false);
  });

  it('the kubelet down: every probe fails with its own last error; the hint starts with the kubelet', async () => {
    const fx = new FakeEffects();
    world(fx, { up: {}, pods: {} });
    const s = sink();
    const p = plan(fx, 1000);
    const report = await waitForControlPlane(fx, p, s.sink);
    assert.equal(report.ok, false);
    const kubelet = report.targets.find((t) => t.name === 'kubelet');
    assert.match(kubelet?.lastError ?? '', /ECONNREFUSED 127\.0\.0\.1:10248/);
    assert.ok(s.logs.some((l) => /^\[kubelet-check\] The kubelet is not healthy after 1s/.test(l)));
    const err = await diagnose(fx, report, p, s.sink);
    assert.match(err.message, /kubelet \(http:\/\/127\.0\.0\.1:10248\/healthz: connect ECONNREFUSED/);
    assert.match(err.message, /mirror pods \(API server: .*ECONNREFUSED/);
    assert.match(err.hint ?? '', /^run 'systemctl status kubelet', 'journalctl -xeu kubelet'/);
    assert.ok(s.events.some((e) => e.status === 'failed' && e.target === 'mirror-pods' && /ECONNREFUSED/.test(String(e.data?.lastError))));
  });

  it('a pod that exists but is not a mirror pod, or never gets Ready, is named', async () => {
    const fx = new FakeEffects();
    world(fx, { up: allUp, pods: { ...healthyPods, etcd: { at: 0, readyAt: 0, mirror: false }, 'kube-controller-manager': { at: 0 } } });
    const s = sink();
    const p = plan(fx, 1000);
    const report = await waitForControlPlane(fx, p, s.sink);
    assert.equal(report.ok, false);
    const err = await diagnose(fx, report, p, s.sink);
    assert.match(err.message, /etcd-cp1: exists but is not a mirror pod/);
    assert.match(err.message, /kube-controller-manager-cp1: not Ready .*container kube-controller-manager running, not ready/);
  });
});

describe('ensureClusterAdmins', () => {
  const creds = (cert: string) => ({ server: SERVER, ca: 'CA', cert, key: 'k', user: 'u', cluster: 'c', insecure: false });
  it('exists (200), created with admin.conf (404), AlreadyExists (409) is success', async () => {
    const fx = new FakeEffects();
    const admin = new ApiClient(fx, creds('A'), 'admin.conf');
    fx.http_ = () => ({ status: 200, body: '{}', headers: {} });
    assert.deepEqual(await ensureClusterAdmins(admin, async () => undefined, 1000), { ok: true, how: 'exists' });
    fx.http_ = (r) => ({ status: r.method === 'POST' ? 201 : 404, body: '{}', headers: {} });
    assert.deepEqual(await ensureClusterAdmins(admin, async () => undefined, 1000), { ok: true, how: 'created-admin' });
    fx.http_ = (r) => ({ status: r.method === 'POST' ? 409 : 403, body: '{}', headers: {} });
    const sa = new ApiClient(fx, creds('S'), 'super-admin.conf');
    assert.deepEqual(await ensureClusterAdmins(admin, async () => sa, 1000), { ok: true, how: 'already-exists' });
  });
  it('403 without super-admin.conf is kubeadm\'s error', async () => {
    const fx = new FakeEffects();
    fx.http_ = () => ({ status: 403, body: '{"message":"forbidden"}', headers: {} });
    const r = await ensureClusterAdmins(new ApiClient(fx, creds('A'), 'admin.conf'), async () => undefined, 1000);
    assert.deepEqual(r, { ok: false, error: 'the ClusterRoleBinding for the kubeadm:cluster-admins Group is missing but there is no super-admin.conf to create it' });
  });
});
