/**
 * The BUILT CLI runs the whole `init --root DIR --config F` against the kubelet + API server test double (real etcd,
 * real TLS with the certificates init generated, real kubectl), healthy and with each fault, in text and JSON output.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';
import { arrange, NODE_NAME, type Arrangement, type ArrangeOptions } from '../double/harness.js';

const execFileP = promisify(execFile);
const PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => `${c}-${NODE_NAME}`);

async function setup(t: TestContext, opts: ArrangeOptions = {}): Promise<Arrangement | undefined> {
  if (!requireTools(t, 'etcd', 'kubectl', 'openssl')) return undefined;
  const a = await arrange(opts);
  t.after(() => a.dispose());
  return a;
}

function init(a: Arrangement, ...extra: string[]): Promise<CliResult> {
  return runCli(['init', '--root', a.root, '--config', a.config, ...extra], { env: cleanEnv(a.env), timeoutMs: 120_000 });
}

/** `init phase wait-control-plane` again, on the same root (the JSON run of a fault case). */
function waitPhase(a: Arrangement, ...extra: string[]): Promise<CliResult> {
  return runCli(['init', 'phase', 'wait-control-plane', '--root', a.root, '--config', a.config, ...extra], { env: cleanEnv(a.env), timeoutMs: 60_000 });
}

interface JsonEvent {
  type: string;
  target?: string;
  status?: string;
  message?: string;
  tag?: string;
  exitCode?: number;
  data?: Record<string, unknown>;
}

function jsonLines(r: CliResult): JsonEvent[] {
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0, 'JSON output has lines');
  return lines.map((l, i) => {
    try {
      return JSON.parse(l) as JsonEvent;
    } catch {
      throw new Error(`stdout line ${i + 1} is not JSON: ${l}`);
    }
  });
}

function show(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

describe('init against the test double', () => {
  it('healthy: exits 0 with all four mirror pods Ready; kubectl lists them with admin.conf', async (t) => {
    const a = await setup(t);
    if (!a) return;
    const started = Date.now();
    const r = await init(a, '--wait-timeout', '60s');
    const took = Date.now() - started;
    assert.equal(r.code, 0, show(r));
    t.diagnostic(`init took ${took} ms`);
    for (const line of [
      '[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"',
      '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
      '[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "/etc/kubernetes/manifests"',
      // under --root kubeboot started no kubelet: it waits a short grace for one that runs, then fails fast
      `[kubelet-check] Waiting for a running kubelet at http://127.0.0.1:${a.ports.kubeletHealthz}/healthz (kubeboot did not start one: the files were written under --root "${a.root}"). This can take up to 15s`,
      `[control-plane-check] Checking kube-apiserver at https://127.0.0.1:${a.ports.apiserver}/livez`,
      `[control-plane-check] Checking kube-controller-manager at https://127.0.0.1:${a.ports.controllerManager}/healthz`,
      `[control-plane-check] Checking kube-scheduler at https://127.0.0.1:${a.ports.scheduler}/livez`,
      `[control-plane-check] Checking etcd at http://127.0.0.1:${a.ports.etcdMetrics}/health`,
    ]) {
      assert.ok(r.stdout.includes(line), `missing: ${line}\n${show(r)}`);
    }
    assert.match(r.stdout, /\[kubelet-check\] The kubelet is healthy after /);
    assert.match(r.stdout, /\[control-plane-check\] etcd is healthy after /);
    assert.match(r.stdout, /\[mirror-pods\] All mirror pods are Ready after /);
    assert.match(r.stdout, /ClusterRoleBinding kubeadm:cluster-admins created with super-admin\.conf/);
    assert.ok(r.stdout.includes(`[kubelet-start] Not starting the kubelet: the files were written under --root "${a.root}"`), 'no systemctl under --root');
    assert.doesNotMatch(r.stderr, /unable to start the kubelet/);

    // the phases after the wait made kubeadm's objects in the API server double, and init closed with the join command
    for (const p of [
      '/api/v1/namespaces/kube-system/configmaps/kubeadm-config',
      '/api/v1/namespaces/kube-system/configmaps/kubelet-config',
      '/api/v1/namespaces/kube-public/configmaps/cluster-info',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:get-nodes',
    ]) {
      assert.ok(a.double.object(p), `${p} was not created`);
    }
    const node = a.double.object('/api/v1/nodes/kb-e2e') as { metadata: { labels: Record<string, string> }; spec: { taints?: { key: string }[] } } | undefined;
    assert.equal(node?.metadata.labels['node-role.kubernetes.io/control-plane'], '');
    assert.deepEqual(node?.spec.taints?.map((x) => x.key), ['node-role.kubernetes.io/control-plane']);
    const token = /^\[bootstrap-token\] Using token: ([a-z0-9]{6})\.[a-z0-9]{16}$/m.exec(r.stdout)?.[1];
    assert.ok(token && a.double.object(`/api/v1/namespaces/kube-system/secrets/bootstrap-token-${token}`), 'the bootstrap token Secret');
    assert.match(r.stdout, /^Your Kubernetes control-plane has initialized successfully!$/m);
    assert.match(r.stdout, new RegExp(`^kubeadm join 127\\.0\\.0\\.1:${a.ports.apiserver} --token ${token}\\.[a-z0-9]{16} \\\\$`, 'm'));

    // the double agrees: four mirror pods, all Ready, named <pod>-<node>, with the mirror annotations
    const pods = a.double.mirrorPods();
    assert.deepEqual(pods.map((p) => (p.metadata as { name: string }).name), PODS);
    for (const p of pods) {
      const ann = (p.metadata as { annotations: Record<string, string> }).annotations;
      assert.equal(ann['kubernetes.io/config.source'], 'file');
      assert.equal(ann['kubernetes.io/config.mirror'], ann['kubernetes.io/config.hash']);
      const cond = ((p.status as { conditions: { type: string; status: string }[] }).conditions).find((c) => c.type === 'Ready');
      assert.equal(cond?.status, 'True');
    }

    // a real kubectl, with the admin.conf init wrote (the server URL points at the double through advertiseAddress/bindPort)
    const kubeconfig = path.join(a.root, 'etc/kubernetes/admin.conf');
    const k = await execFileP('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', path.join(a.dir, 'kcache'), 'get', 'pods', '-n', 'kube-system', '--request-timeout=10s'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: a.dir },
    });
    const rows = k.stdout.trim().split('\n');
    assert.match(rows[0] ?? '', /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    for (const p of PODS) assert.ok(rows.some((row) => new RegExp(`^${p}\\s+1/1\\s+Running\\s`).test(row)), `kubectl lists ${p}:\n${k.stdout}`);

    // the wait phase again, as JSON: every stdout line is an event, the targets are reported ready
    const j = await waitPhase(a, '--output', 'json', '--wait-timeout', '20s');
    assert.equal(j.code, 0, show(j));
    const ev = jsonLines(j);
    assert.ok(ev.some((e) => e.type === 'wait' && e.target === 'kubelet' && e.status === 'ready'));
    for (const p of PODS) {
      assert.ok(ev.some((e) => e.type === 'wait' && e.target === p && e.data?.event === 'pod-seen'), `pod-seen for ${p}`);
      assert.ok(ev.some((e) => e.type === 'wait' && e.target === p && e.status === 'ready'), `ready for ${p}`);
    }
    assert.ok(ev.some((e) => e.type === 'wait' && e.target === 'cluster-admins' && e.data?.how === 'exists'));
    // where the time went: the wait on the node is counted, and own work + waiting add up to the whole
    const tm = ev.find((e) => e.type === 'result')?.data?.timings as Record<string, number> | undefined;
    assert.ok(tm, `the result has timings: ${j.stdout.slice(-500)}`);
    assert.ok(tm.waitedForNodeMs! > 0 && tm.waitedMs! >= tm.waitedForNodeMs!, JSON.stringify(tm));
    assert.equal(tm.ownMs, tm.totalMs! - tm.waitedMs!, JSON.stringify(tm));
    assert.equal(tm.waitedForKeysMs, 0, 'this phase makes no keys');
  });

  it('crash-loop: exit 4 naming the pod, its restarts, exit code and reason, and the container logs (crictl)', async (t) => {
    const a = await setup(t, {
      crictl: true,
      faults: {
        'kube-scheduler': {
          crashLoop: { exitCode: 3, logLines: ['I0101 00:00:00.000 1 serving.go:386] starting', 'E0101 00:00:00.001 1 run.go:72] "command failed" err="unknown flag: --bogus"'] },
        },
      },
    });
    if (!a) return;
    // 8 s: long enough for the healthy etcd (spawned at kubelet-start) to be Ready on a loaded machine
    const r = await init(a, '--wait-timeout', '8s');
    assert.equal(r.code, 4, show(r));
    const pod = `kube-scheduler-${NODE_NAME}`;
    assert.match(r.stdout, new RegExp(`\\[wait\\] container kube-scheduler of ${pod} restarted \\d+ times?; last termination: Error, exit code 3`));
    assert.match(r.stdout, /\[control-plane-check\] kube-scheduler is not healthy after 8/);
    assert.match(r.stdout, /\[wait\] crictl: container kube-scheduler \([0-9a-f]{13}\) is CONTAINER_(EXITED|RUNNING)/);
    assert.ok(r.stdout.includes('err="unknown flag: --bogus"'), 'the container log lines are shown');
    assert.match(r.stdout, /\[wait\] what to run next:\n\tsystemctl status kubelet\n\tjournalctl -xeu kubelet\n\tcrictl --runtime-endpoint unix:\/\/\/var\/run\/containerd\/containerd\.sock ps -a \| grep kube \| grep -v pause/);
    assert.match(r.stderr, new RegExp(`^error: error execution phase wait-control-plane: could not initialize a Kubernetes cluster: .*${pod}: not Ready .*restarted \\d+ times, last termination: Error, exit code 3`, 'm'));
    assert.match(r.stderr, /^hint: run 'systemctl status kubelet'/m);
    // the healthy components are not blamed
    assert.doesNotMatch(r.stderr, /etcd-kb-e2e: not Ready|kube-apiserver \(/);

    const j = await waitPhase(a, '--output', 'json', '--wait-timeout', '2s');
    assert.equal(j.code, 4, show(j));
    const ev = jsonLines(j);
    const restarts = ev.filter((e) => e.type === 'wait' && e.data?.event === 'container-restarted');
    assert.ok(restarts.length >= 1 && restarts.every((e) => e.target === pod && e.data?.exitCode === 3 && e.data?.reason === 'Error'));
    const fail = ev.find((e) => e.type === 'wait' && e.status === 'failed' && e.target === pod);
    assert.ok(fail, 'a failed event for the pod');
    assert.equal(fail.data?.lastExitCode, 3);
    assert.equal(fail.data?.lastReason, 'Error');
    assert.ok((fail.data?.restartCount as number) >= 2);
    assert.ok(((fail.data?.runtime as { logTail: string[] }).logTail).some((l) => l.includes('unknown flag: --bogus')));
    const next = ev.find((e) => e.type === 'wait' && e.target === 'wait-control-plane' && e.status === 'failed');
    assert.ok((next?.data?.commands as string[]).includes('journalctl -xeu kubelet'));
    const err = ev.find((e) => e.type === 'error');
    assert.equal(err?.exitCode, 4);
  });

  it('slow start beyond the timeout: exit 4, the pod is still being created and its endpoint refuses', async (t) => {
    const a = await setup(t, { faults: { 'kube-controller-manager': { slowStartMs: 60_000 } } });
    if (!a) return;
    const r = await init(a, '--wait-timeout', '3s');
    assert.equal(r.code, 4, show(r));
    const pod = `kube-controller-manager-${NODE_NAME}`;
    assert.match(r.stdout, new RegExp(`\\[wait\\] container kube-controller-manager of ${pod} is waiting \\(ContainerCreating\\)`));
    assert.match(r.stdout, new RegExp(`\\[wait\\] kube-controller-manager is not healthy after 3[.\\d]*s \\(timeout 3s\\); last error: https://127\\.0\\.0\\.1:${a.ports.controllerManager}/healthz: connect ECONNREFUSED`));
    assert.match(r.stderr, new RegExp(`${pod}: not Ready \\(phase Pending\\); container kube-controller-manager waiting \\(ContainerCreating\\)`));

    const j = await waitPhase(a, '--output', 'json', '--wait-timeout', '1s');
    assert.equal(j.code, 4, show(j));
    const ev = jsonLines(j);
    const comp = ev.find((e) => e.type === 'wait' && e.status === 'failed' && e.target === 'kube-controller-manager');
    assert.match(String(comp?.data?.lastError), /ECONNREFUSED/);
    const podFail = ev.find((e) => e.type === 'wait' && e.status === 'failed' && e.target === pod);
    assert.equal(podFail?.data?.phase, 'Pending');
    assert.equal(ev.some((e) => e.type === 'wait' && e.status === 'failed' && e.target === `etcd-${NODE_NAME}`), false);
  });

  it('never ready: the component answers /livez but its mirror pod never gets Ready: exit 4 naming it', async (t) => {
    const a = await setup(t, { faults: { 'kube-scheduler': { neverReady: true } } });
    if (!a) return;
    // 8 s: long enough for the healthy etcd (spawned at kubelet-start) to be Ready on a loaded machine
    const r = await init(a, '--wait-timeout', '8s');
    assert.equal(r.code, 4, show(r));
    const pod = `kube-scheduler-${NODE_NAME}`;
    assert.match(r.stdout, /\[control-plane-check\] kube-scheduler is healthy after /);
    assert.match(r.stdout, /\[mirror-pods\] The mirror pods are not all Ready after 8/);
    assert.match(r.stderr, new RegExp(`${pod}: not Ready \\(phase Running\\); container kube-scheduler running, not ready`));
    assert.doesNotMatch(r.stderr, /kube-scheduler \(https/);

    const j = await waitPhase(a, '--output', 'json', '--wait-timeout', '1s');
    assert.equal(j.code, 4, show(j));
    const ev = jsonLines(j);
    assert.ok(ev.some((e) => e.type === 'wait' && e.target === 'kube-scheduler' && e.status === 'ready'));
    const podFail = ev.find((e) => e.type === 'wait' && e.status === 'failed' && e.target === pod);
    assert.equal(podFail?.data?.ready, false);
    assert.equal(podFail?.data?.restartCount, 0);
    assert.equal(ev.filter((e) => e.type === 'wait' && e.status === 'failed' && e.target?.endsWith(`-${NODE_NAME}`)).length, 1);
  });

  it('kubelet down: exit 4, the kubelet check fails first and the hint starts with systemctl/journalctl', async (t) => {
    const a = await setup(t, { kubeletDown: true });
    if (!a) return;
    const r = await init(a, '--wait-timeout', '3s');
    assert.equal(r.code, 4, show(r));
    assert.match(r.stdout, /\[kubelet-check\] The kubelet is not healthy after 3/);
    assert.match(r.stdout, new RegExp(`\\[wait\\] kubelet is not healthy after 3[.\\d]*s \\(timeout 3s\\); last error: http://127\\.0\\.0\\.1:${a.ports.kubeletHealthz}/healthz: connect ECONNREFUSED`));
    // kubeboot did not start a kubelet (--root): the error says that no kubelet runs, and what to do
    assert.match(r.stderr, new RegExp(`no kubelet answers at http://127\\.0\\.0\\.1:${a.ports.kubeletHealthz}/healthz and kubeboot did not start one \\(the files were written under --root .*\\): nothing runs the static pods.*kubelet \\(http://127\\.0\\.0\\.1:${a.ports.kubeletHealthz}/healthz: connect ECONNREFUSED`));
    assert.match(r.stderr, /^hint: start a kubelet for these files .*'systemctl status kubelet', 'journalctl -xeu kubelet'/m);
    assert.equal(a.double.mirrorPods().length, 0, 'no kubelet, no pods');

    const j = await waitPhase(a, '--output', 'json', '--wait-timeout', '1s');
    assert.equal(j.code, 4, show(j));
    const ev = jsonLines(j);
    const k = ev.find((e) => e.type === 'wait' && e.status === 'failed' && e.target === 'kubelet');
    assert.match(String(k?.data?.lastError), /ECONNREFUSED/);
    const mp = ev.find((e) => e.type === 'wait' && e.status === 'failed' && e.target === 'mirror-pods');
    assert.match(String(mp?.data?.lastError), /API server: .*ECONNREFUSED/);
    assert.equal(ev.find((e) => e.type === 'error')?.exitCode, 4);
  });
});
