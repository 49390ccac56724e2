/**
 * The swap + wait + rollback routine and restartComponents (src/node/swap.ts) on a fake file tree,
 * a fake API server driven by the fake clock, and no real sleeps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiClient } from '../../src/kube/api.js';
import {
  backupDirFor,
  backupTimestamp,
  confirmNew,
  confirmRestored,
  swapStaticPod,
  type SwapRequest,
  type SwapSink,
} from '../../src/node/swap.js';
import type { PodView } from '../../src/kube/mirror-pods.js';
import { loadStaticPodTemplates } from '../../src/node/templates.js';
import { RESTART_ANNOTATION, renderStaticPod, restartAnnotationOf, withRestartAnnotation } from '../../src/render/manifests.js';
import { restartComponents } from '../../src/node/swap.js';
import { ExitCode, WaitTimeoutError } from '../../src/errors.js';
import { Output, type KubebootEvent } from '../../src/workflow/events.js';
import { FakeEffects } from '../helpers/fake-effects.js';
import { TEST_HOST } from '../helpers/host.js';
import { makeSpec } from './render/manifest-helpers.js';

const M = '/etc/kubernetes/manifests/kube-scheduler.yaml';
const OLD = 'old manifest\n';
const NEW = 'new manifest\n';
const POD = 'kube-scheduler-cp1';
const START = Date.parse('2026-01-01T00:00:00Z');

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface FakePod {
  hash: string;
  cid: string;
  ready: boolean;
  startedAt: number;
  restartCount?: number;
  crash?: boolean;
}

function podJson(p: FakePod, component = 'kube-scheduler'): string {
  const state = p.crash ? { waiting: { reason: 'CrashLoopBackOff' } } : { running: { startedAt: iso(p.startedAt) } };
  return JSON.stringify({
    metadata: { name: POD, annotations: { 'kubernetes.io/config.hash': p.hash, 'kubernetes.io/config.mirror': p.hash } },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: p.ready && !p.crash ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: component,
          containerID: `containerd://${p.cid}`,
          ready: p.ready && !p.crash,
          started: !p.crash,
          restartCount: p.restartCount ?? 0,
          state,
          ...(p.crash ? { lastState: { terminated: { exitCode: 3, reason: 'Error' } } } : {}),
        },
      ],
    },
  });
}

/**
 * A fake kubelet + API server: `pods` maps the manifest bytes on disk to the pod the kubelet runs for them, after a
 * delay (ms of fake time since the bytes appeared); `down` makes every request fail like a restarting API server.
 */
function fakeCluster(fx: FakeEffects, pods: (bytes: string, sinceMs: number) => FakePod | 'down') {
  let lastBytes = '';
  let since = fx.clock;
  const requests: string[] = [];
  fx.http_ = (req) => {
    requests.push(req.url);
    const bytes = fx.files.get(M)?.data.toString('utf8') ?? '';
    if (bytes !== lastBytes) {
      lastBytes = bytes;
      since = fx.clock;
    }
    const p = pods(bytes, fx.clock - since);
    if (p === 'down') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    return { status: 200, body: podJson(p), headers: {} };
  };
  return { requests };
}

function client(fx: FakeEffects): ApiClient {
  return new ApiClient(fx, { server: 'https://127.0.0.1:6443', ca: undefined, cert: 'c', key: 'k', user: 'u', cluster: 'c', insecure: false }, '/etc/kubernetes/admin.conf');
}

function sink(): SwapSink & { events: KubebootEvent[]; lines: string[] } {
  const events: KubebootEvent[] = [];
  const lines: string[] = [];
  return {
    events,
    lines,
    log: (tag, message) => lines.push(`[${tag}] ${message}`),
    event: (e) => events.push({ type: 'wait', ...e }),
    file: (path, mode, status) => events.push({ type: 'file', path, mode: `0${mode.toString(8)}`, status }),
    warn: (message) => events.push({ type: 'warning', message }),
  };
}

function request(fx: FakeEffects, extra: Partial<SwapRequest> = {}): SwapRequest {
  return {
    component: 'kube-scheduler',
    manifestPath: M,
    manifestsDir: '/etc/kubernetes/manifests',
    oldContent: Buffer.from(OLD),
    newContent: NEW,
    mode: 0o600,
    tmpDir: '/etc/kubernetes/tmp',
    podName: POD,
    criSocket: 'unix:///var/run/containerd/containerd.sock',
    client: client(fx),
    timeoutMs: 5000,
    ...extra,
  };
}

function setup(): FakeEffects {
  const fx = new FakeEffects();
  fx.clock = START;
  fx.files.set(M, { data: Buffer.from(OLD), mode: 0o600 });
  return fx;
}

const oldPod: FakePod = { hash: 'aaa', cid: 'c1', ready: true, startedAt: START - 60_000 };

describe('swapStaticPod', () => {
  it('backs up under /etc/kubernetes/tmp (0700), writes, and confirms a new Ready container with a new hash', async () => {
    const fx = setup();
    fakeCluster(fx, (bytes, since) => (bytes === OLD ? oldPod : since < 300 ? oldPod : { hash: 'bbb', cid: 'c2', ready: since >= 500, startedAt: START + 400 }));
    const s = sink();
    const r = await swapStaticPod(fx, request(fx), s);
    const dir = `/etc/kubernetes/tmp/kubeboot-backup-manifests-${backupTimestamp(new Date(START))}`;
    assert.match(dir, /kubeboot-backup-manifests-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/);
    assert.equal(r.backupDir, dir);
    assert.equal(r.backupPath, `${dir}/kube-scheduler.yaml`);
    assert.equal(fx.dirs.get(dir), 0o700);
    assert.equal(fx.files.get(r.backupPath)?.data.toString(), OLD);
    assert.equal(fx.files.get(r.backupPath)?.mode, 0o600);
    assert.equal(fx.files.get(M)?.data.toString(), NEW);
    assert.equal(r.hashChanged, true);
    assert.equal(r.before?.hash, 'aaa');
    assert.equal(r.after.hash, 'bbb');
    assert.ok(r.elapsedMs >= 500 && r.elapsedMs < 1000, `elapsed ${r.elapsedMs}`);
    // the backup is written before the manifest
    assert.deepEqual(fx.writes, [r.backupPath, M]);
    assert.ok(s.events.some((e) => e.type === 'file' && e.status === 'backed-up' && e.path === r.backupPath));
    assert.ok(s.events.some((e) => e.type === 'wait' && e.status === 'ready' && e.data?.event === 'swap-confirmed' && e.data.hashChanged === true));
  });

  it('the old container, still Ready after the write, is not taken for the new one', async () => {
    const fx = setup();
    fakeCluster(fx, () => oldPod); // the kubelet never acts
    const s = sink();
    await assert.rejects(swapStaticPod(fx, request(fx, { timeoutMs: 1000, rollback: false }), s), (err: unknown) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.equal(err.exitCode, ExitCode.waitTimeout);
      assert.match(err.message, /still runs the container from before the change \(c1\)/);
      assert.match(err.message, /the new manifest was kept \(--no-rollback\)/);
      return true;
    });
    assert.equal(fx.files.get(M)?.data.toString(), NEW, '--no-rollback keeps the new file');
  });

  it('keeps-hash: a new container started after the write confirms the change; one started before does not', async () => {
    const fx = setup();
    fakeCluster(fx, (bytes, since) => (bytes === OLD || since < 200 ? oldPod : { hash: 'aaa', cid: 'c2', ready: true, startedAt: START + 200 }));
    const r = await swapStaticPod(fx, request(fx), sink());
    assert.equal(r.hashChanged, false);
    assert.match(r.confirmation, /config hash unchanged \(aaa\); confirmed by the new container c1 → c2/);

    const fx2 = setup();
    // a container that restarted on its own before the write (same hash, new id, started before it)
    fakeCluster(fx2, (bytes) => (bytes === OLD ? oldPod : { hash: 'aaa', cid: 'c9', ready: true, startedAt: START - 5000 }));
    await assert.rejects(swapStaticPod(fx2, request(fx2, { timeoutMs: 800, rollback: false }), sink()), /same config hash aaa and container c9 started before the change/);
  });

  it('crash loop: times out, diagnoses, restores the old bytes and waits until the old pod is Ready again (exit 4)', async () => {
    const fx = setup();
    fakeCluster(fx, (bytes, since) => {
      if (bytes === NEW) return { hash: 'bbb', cid: `x${Math.floor(since / 300)}`, ready: false, crash: true, startedAt: START, restartCount: Math.floor(since / 300) };
      // the restored bytes: the old hash again, a fresh container after 100 ms
      return fx.writes.length > 2 ? (since < 100 ? { hash: 'aaa', cid: 'c3', ready: false, startedAt: fx.clock } : { hash: 'aaa', cid: 'c3', ready: true, startedAt: START + 2000 }) : oldPod;
    });
    const s = sink();
    await assert.rejects(swapStaticPod(fx, request(fx, { timeoutMs: 1500 }), s), (err: unknown) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.match(err.message, /^kube-scheduler did not run a new Ready container with the new manifest within 1\.5s: kube-scheduler-cp1: not Ready/);
      assert.match(err.message, /rolled back to the previous manifest \(kept in \/etc\/kubernetes\/tmp\/kubeboot-backup-manifests-[\d-]+\/kube-scheduler\.yaml\), which is Ready again$/);
      assert.match(err.hint ?? '', /systemctl status kubelet/);
      return true;
    });
    assert.equal(fx.files.get(M)?.data.toString(), OLD, 'the old bytes are back');
    const failed = s.events.find((e) => e.type === 'wait' && e.status === 'failed' && e.target === POD);
    assert.ok(failed, 'the diagnosis names the pod');
    assert.equal((failed as { data?: Record<string, unknown> }).data?.lastExitCode, 3);
    assert.ok(s.events.some((e) => e.type === 'wait' && e.target === 'wait-control-plane' && e.status === 'failed' && /what to run next/.test(e.message)));
    assert.ok(s.events.some((e) => e.type === 'wait' && e.data?.event === 'rollback-confirmed'));
    assert.ok(s.lines.some((l) => l.startsWith('[rollout] Rolling back: restoring')));
  });

  it('kube-apiserver: connection errors while it restarts are progress; the wait goes on until the new pod is Ready', async () => {
    const fx = setup();
    const { requests } = fakeCluster(fx, (bytes, since) => {
      if (bytes === OLD) return oldPod;
      if (since < 1200) return 'down';
      return { hash: 'bbb', cid: 'c2', ready: true, startedAt: START + 1200 };
    });
    const s = sink();
    const r = await swapStaticPod(fx, request(fx, { component: 'kube-apiserver', timeoutMs: 4000 }), s);
    assert.equal(r.after.hash, 'bbb');
    const down = s.events.filter((e) => e.type === 'wait' && e.data?.event === 'api-unreachable');
    assert.equal(down.length, 1, 'said once');
    assert.match((down[0] as { message: string }).message, /expected while kube-apiserver restarts; still waiting\): API server https:\/\/127\.0\.0\.1:6443: connect ECONNREFUSED/);
    assert.ok(s.events.some((e) => e.type === 'wait' && e.data?.event === 'api-reachable'));
    assert.ok(requests.length > 10 && requests.length < 200, `bounded polling: ${requests.length} requests`);
  });

  it('API down for good: rollback restores the bytes and says that the old pod is not Ready either', async () => {
    const fx = setup();
    fakeCluster(fx, (bytes) => (bytes === OLD && fx.writes.length === 0 ? oldPod : 'down'));
    await assert.rejects(swapStaticPod(fx, request(fx, { timeoutMs: 600 }), sink()), (err: unknown) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.match(err.message, /ECONNREFUSED 127\.0\.0\.1:6443; rolled back to the previous manifest .* but its pod is not Ready either after 600ms: API server https:\/\/127\.0\.0\.1:6443: connect ECONNREFUSED 127\.0\.0\.1:6443$/);
      return true;
    });
    assert.equal(fx.files.get(M)?.data.toString(), OLD);
  });

  it('kube-apiserver down during the failed wait: its crashing container is quoted from crictl, and a stale mirror pod showing the stopped container does not confirm the rollback', async () => {
    const fx = setup();
    fx.onPath.add('crictl');
    // the runtime: the old container c1 is gone once the kubelet acted on the new bytes; crash-looping x containers,
    // then c3 for the restored bytes
    let restoredAt = -1;
    fx.exec_.crictl = (args) => {
      if (args.includes('logs')) return { exitCode: 0, stdout: '', stderr: 'I0101 started\nError: unknown flag: --no-such-flag\n' };
      const containers = [{ id: 'x1', state: 'CONTAINER_EXITED', createdAt: '2', metadata: { name: 'kube-apiserver', attempt: 1 } }];
      if (restoredAt >= 0) containers.push({ id: 'c3', state: 'CONTAINER_RUNNING', createdAt: '3', metadata: { name: 'kube-apiserver', attempt: 0 } });
      return { exitCode: 0, stdout: JSON.stringify({ containers }), stderr: '' };
    };
    fakeCluster(fx, (bytes, since) => {
      if (fx.writes.length === 0) return oldPod;
      if (bytes === NEW) return 'down';
      // the restored bytes: the API server answers again, first with the pod status from before the change (the
      // kubelet has not reported yet), then with the new container c3
      if (restoredAt < 0) restoredAt = fx.clock;
      return since < 400 ? oldPod : { hash: 'aaa', cid: 'c3', ready: true, startedAt: START + 5000 };
    });
    const s = sink();
    await assert.rejects(swapStaticPod(fx, request(fx, { component: 'kube-apiserver', timeoutMs: 1000 }), s), (err: unknown) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.match(err.message, /rolled back to the previous manifest .*, which is Ready again$/);
      return true;
    });
    const quoted = s.events.find((e) => e.type === 'wait' && e.status === 'failed' && /crictl: container x1 of kube-apiserver is CONTAINER_EXITED/.test(e.message));
    assert.ok(quoted, JSON.stringify(s.events.filter((e) => e.type === 'wait' && e.status === 'failed')));
    assert.match((quoted as { message: string }).message, /Error: unknown flag: --no-such-flag/);
    const confirmed = s.events.find((e) => e.type === 'wait' && e.data?.event === 'rollback-confirmed') as { message: string } | undefined;
    assert.ok(confirmed);
    assert.match(confirmed.message, /container c3/, 'confirmed with the container that runs, not the stale c1');
  });

  it('a stale mirror pod at the end of the failed wait (the API server answered once, with the old container not Ready): the runtime is asked anyway and the crashing container quoted', async () => {
    const fx = setup();
    fx.onPath.add('crictl');
    fx.exec_.crictl = (args) => {
      if (args.includes('logs')) return { exitCode: 0, stdout: '', stderr: 'Error: unknown flag: --no-such-flag\n' };
      const containers = [
        { id: 'x2', state: 'CONTAINER_EXITED', createdAt: '3', metadata: { name: 'kube-apiserver', attempt: 2 } },
        { id: 'c1', state: 'CONTAINER_EXITED', createdAt: '1', metadata: { name: 'kube-apiserver', attempt: 0 } },
      ];
      return { exitCode: 0, stdout: JSON.stringify({ containers }), stderr: '' };
    };
    // the new bytes: the API server answers once with the status from before the change, the old container no longer
    // Ready (the kubelet is stopping it), then goes down with it for good
    fakeCluster(fx, (bytes, since) => (fx.writes.length === 0 || bytes !== NEW ? oldPod : since < 200 ? { ...oldPod, ready: false } : 'down'));
    const s = sink();
    await assert.rejects(swapStaticPod(fx, request(fx, { component: 'kube-apiserver', timeoutMs: 1000 }), s), WaitTimeoutError);
    const failed = s.events.filter((e) => e.type === 'wait' && e.status === 'failed').map((e) => (e as { message: string }).message);
    assert.ok(
      failed.some((m) => /crictl: container x2 is CONTAINER_EXITED; last log lines:\n\t\tError: unknown flag: --no-such-flag/.test(m)),
      failed.join('\n---\n'),
    );
  });

  it('two swaps in one second get distinct backup directories', async () => {
    const fx = setup();
    const a = await backupDirFor(fx, '/etc/kubernetes/tmp', new Date(START));
    fx.dirs.set(a, 0o700);
    const b = await backupDirFor(fx, '/etc/kubernetes/tmp', new Date(START));
    assert.equal(b, `${a}-1`);
  });
});

describe('confirmation rules', () => {
  const view = (hash: string, cid: string | undefined, ready: boolean, startedAt?: number, restartCount = 0): PodView => ({
    name: POD,
    found: true,
    mirror: true,
    hash,
    phase: 'Running',
    ready,
    containers: [
      { name: 'kube-scheduler', state: 'running', reason: undefined, restartCount, ready, started: true, containerID: cid, lastTerminated: undefined, startedAt: startedAt === undefined ? undefined : iso(startedAt) },
    ],
  });
  const W = START + 10_500;
  it('confirmNew', () => {
    const before = view('a', 'c1', true, START);
    assert.equal(confirmNew('kube-scheduler', before, view('b', 'c2', true, W), W).done, true);
    assert.equal(confirmNew('kube-scheduler', before, view('b', 'c2', false, W), W).done, false, 'not Ready');
    assert.equal(confirmNew('kube-scheduler', before, view('a', 'c1', true, START), W).done, false, 'same container');
    assert.equal(confirmNew('kube-scheduler', before, view('a', 'c2', true, START + 10_000), W).done, true, 'same hash, started in the second of the write');
    assert.equal(confirmNew('kube-scheduler', before, view('a', 'c2', true, START + 9_000), W).done, false, 'same hash, started before the write');
    assert.equal(confirmNew('kube-scheduler', undefined, view('a', 'c2', true, W), W).done, true, 'no baseline: start time');
    assert.equal(confirmNew('kube-scheduler', undefined, view('a', 'c2', true, START), W).done, false);
    // no container ids: restartCount / startedAt
    assert.equal(confirmNew('kube-scheduler', view('a', undefined, true, START), view('b', undefined, true, W, 1), W).done, true);
  });
  it('confirmRestored', () => {
    const before = view('a', 'c1', true, START);
    const failed = view('b', 'x1', false, W);
    assert.equal(confirmRestored('kube-scheduler', before, failed, view('b', 'x2', true, W)).done, false, 'the new hash is still there');
    assert.equal(confirmRestored('kube-scheduler', before, failed, view('a', 'c3', true, W)).done, true);
    assert.equal(confirmRestored('kube-scheduler', before, before, before).done, true, 'the kubelet never acted: the old pod is Ready');
    const keptHash = view('a', 'x1', false, W);
    assert.equal(confirmRestored('kube-scheduler', before, keptHash, view('a', 'x1', true, W)).done, false, 'the failed container itself');
  });
});

describe('restart annotation', () => {
  it('restartComponents sets only the annotation, and a render that keeps it gives the same bytes', async () => {
    const spec = await makeSpec({}, {});
    const templates = await loadStaticPodTemplates();
    const fresh = renderStaticPod(spec, TEST_HOST, templates, 'kube-scheduler').content;
    const fx = new FakeEffects();
    fx.clock = START;
    const path = '/etc/kubernetes/manifests/kube-scheduler.yaml';
    fx.files.set(path, { data: Buffer.from(fresh), mode: 0o600 });
    // admin.conf with embedded PEM (the client is never used for TLS here)
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const pem = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';
    fx.files.set('/etc/kubernetes/admin.conf', {
      data: Buffer.from(
        `apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster:\n    server: https://192.0.2.10:6443\n    certificate-authority-data: ${b64(pem)}\ncontexts:\n- name: a\n  context:\n    cluster: k\n    user: u\ncurrent-context: a\nusers:\n- name: u\n  user:\n    client-certificate-data: ${b64(pem)}\n    client-key-data: ${b64(pem.replace(/CERTIFICATE/g, 'PRIVATE KEY'))}\n`,
      ),
      mode: 0o600,
    });
    let bytesSeen = fresh;
    let since = fx.clock;
    fx.http_ = () => {
      const now = fx.files.get(path)?.data.toString() ?? '';
      if (now !== bytesSeen) {
        bytesSeen = now;
        since = fx.clock;
      }
      const p: FakePod = now === fresh ? { ...oldPod } : fx.clock - since < 100 ? { ...oldPod } : { hash: 'new', cid: 'c2', ready: true, startedAt: since };
      return { status: 200, body: podJson(p), headers: {} };
    };
    const events: KubebootEvent[] = [];
    const [r] = await restartComponents({ fx, spec, out: new Output({ emit: (e) => events.push(e) }), components: ['kube-scheduler'], timeoutMs: 2000 });
    assert.ok(r);
    assert.equal(r.restartedAt, '2026-01-01T00:00:00.000Z');
    const after = fx.files.get(path)?.data.toString() ?? '';
    assert.equal(restartAnnotationOf(after), r.restartedAt);
    assert.equal(after, withRestartAnnotation(fresh, r.restartedAt, 'kube-scheduler'));
    assert.equal(after.replace(`    ${RESTART_ANNOTATION}: "${r.restartedAt}"\n`, '').replace(`    ${RESTART_ANNOTATION}: '${r.restartedAt}'\n`, '').replace('  annotations:\n', ''), fresh, 'nothing but the annotation changed');
    // render keeps the annotation found on disk: init and regenerate see no difference
    assert.equal(renderStaticPod(spec, TEST_HOST, templates, 'kube-scheduler', { restartedAt: restartAnnotationOf(after) }).content, after);
    assert.equal(r.swap.hashChanged, true);
    assert.ok(events.some((e) => e.type === 'log' && e.tag === 'restart' && /kubeboot\.kubernetes\.io\/restartedAt=2026-01-01T00:00:00\.000Z/.test(e.message)));
  });
});
