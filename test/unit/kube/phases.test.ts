/** kubelet-start and wait-control-plane as phases, over fake effects. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeletStart } from '../../../phases/init/kubelet-start.js';
import { waitControlPlane } from '../../../phases/init/wait-control-plane.js';
import { OperationError } from '../../../src/errors.js';
import type { KubebootEvent } from '../../../src/workflow/events.js';
import { testContext } from '../../helpers/context.js';

function lines(events: readonly KubebootEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'log' ? [`[${e.tag}] ${e.message}`] : e.type === 'warning' ? [`WARNING ${e.message}`] : []));
}

describe('kubelet-start', () => {
  it('writes the three files (0644) with deltas §6 messages, in order', async () => {
    const t = testContext({ 'node-name': 'node-a' }, { root: '/tmp/r' });
    await kubeletStart.run!(t.ctx);
    const l = lines(t.events.events);
    assert.deepEqual(l.slice(0, 5), [
      '[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"',
      '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/instance-config.yaml"',
      '[patches] Applied patch of type "application/strategic-merge-patch+json" to target "kubeletconfiguration"',
      '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
      '[kubelet-start] Not starting the kubelet: the files were written under --root "/tmp/r", not for this host\'s kubelet',
    ]);
    for (const f of ['kubeadm-flags.env', 'instance-config.yaml', 'config.yaml']) assert.equal(t.fx.files.get(`/var/lib/kubelet/${f}`)?.mode, 0o644);
    assert.equal(t.fx.files.get('/var/lib/kubelet/kubeadm-flags.env')?.data.toString(), 'KUBELET_KUBEADM_ARGS="--hostname-override=node-a"\n');
    assert.deepEqual(t.fx.execCalls, [], '--root never calls systemctl');
  });

  it('--dry-run never runs a systemctl that changes the node, and says so', async () => {
    const t = testContext({}, { dryRun: true });
    t.fx.onPath.add('systemctl');
    t.fx.exec_['systemctl'] = () => ({ exitCode: 0, stdout: 'kubelet.service enabled enabled\n', stderr: '' });
    await kubeletStart.run!(t.ctx);
    // the effects twin records daemon-reload and restart; only the read-only unit check runs
    assert.deepEqual(t.fx.execCalls, ['systemctl list-unit-files kubelet.service --no-legend']);
    assert.deepEqual(t.fx.simulated, ['systemctl daemon-reload', 'systemctl restart kubelet']);
    assert.ok(lines(t.events.events).some((l) => l.includes('Would restart the kubelet') && l.includes('not done under --dry-run')));
  });

  it('no systemctl on PATH: a warning saying what to run, not a crash', async () => {
    const t = testContext();
    await kubeletStart.run!(t.ctx);
    const w = lines(t.events.events).filter((l) => l.startsWith('WARNING'));
    assert.equal(w.length, 1);
    assert.match(w[0] as string, /systemctl was not found on PATH.*systemctl daemon-reload && systemctl restart kubelet/);
  });

  it('systemctl failing (no systemd): a warning with its message', async () => {
    const t = testContext();
    t.fx.onPath.add('systemctl');
    t.fx.exec_.systemctl = () => ({ exitCode: 1, stdout: '', stderr: 'System has not been booted with systemd as init system (PID 1). Can\'t operate.\nFailed to connect to bus: Host is down\n' });
    await kubeletStart.run!(t.ctx);
    assert.deepEqual(t.fx.execCalls, ['systemctl daemon-reload']);
    const w = lines(t.events.events).filter((l) => l.startsWith('WARNING'));
    assert.match(w[0] as string, /'systemctl daemon-reload' failed \(exit 1\): System has not been booted with systemd/);
  });

  it('no kubelet unit: a warning; a unit: daemon-reload then restart', async () => {
    const t = testContext();
    t.fx.onPath.add('systemctl');
    t.fx.exec_.systemctl = () => ({ exitCode: 0, stdout: '', stderr: '' });
    await kubeletStart.run!(t.ctx);
    assert.deepEqual(t.fx.execCalls, ['systemctl daemon-reload', 'systemctl list-unit-files kubelet.service --no-legend']);
    assert.ok(lines(t.events.events).some((l) => /no kubelet.service unit/.test(l)));

    const u = testContext();
    u.fx.onPath.add('systemctl');
    u.fx.exec_.systemctl = (args) => ({ exitCode: 0, stdout: args[0] === 'list-unit-files' ? 'kubelet.service enabled enabled\n' : '', stderr: '' });
    await kubeletStart.run!(u.ctx);
    assert.deepEqual(u.fx.execCalls, ['systemctl daemon-reload', 'systemctl list-unit-files kubelet.service --no-legend', 'systemctl restart kubelet']);
    assert.ok(lines(u.events.events).includes('[kubelet-start] Starting the kubelet'));
    assert.equal(lines(u.events.events).some((l) => l.startsWith('WARNING')), false);
  });
});

const manifest = (cmd: string[]) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: x\n    command:\n${cmd.map((c) => `    - ${c}`).join('\n')}\n`;

describe('wait-control-plane', () => {
  function withManifests() {
    const t = testContext({ 'node-name': 'node-a' }, { dryRun: true });
    const put = (p: string, s: string) => t.fx.files.set(p, { data: Buffer.from(s), mode: 0o600 });
    put('/etc/kubernetes/manifests/kube-apiserver.yaml', manifest(['kube-apiserver', '--advertise-address=127.0.0.1', '--secure-port=16443']));
    put('/etc/kubernetes/manifests/kube-controller-manager.yaml', manifest(['kube-controller-manager', '--secure-port=20257']));
    put('/etc/kubernetes/manifests/kube-scheduler.yaml', manifest(['kube-scheduler', '--bind-address=127.0.0.1', '--secure-port=20259']));
    put('/etc/kubernetes/manifests/etcd.yaml', manifest(['etcd', '--listen-metrics-urls=http://127.0.0.1:22381']));
    put('/var/lib/kubelet/config.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nhealthzPort: 30248\n');
    return t;
  }

  it('--dry-run: says what it would wait for (addresses from the manifests and config.yaml), no request', async () => {
    const t = withManifests();
    await waitControlPlane.run!(t.ctx);
    const l = lines(t.events.events);
    assert.ok(l.includes('[dryrun] Would wait up to 4m0s for a healthy kubelet at http://127.0.0.1:30248/healthz'));
    assert.ok(l.includes('[dryrun] Would wait up to 4m0s for kube-apiserver at https://127.0.0.1:16443/livez'));
    assert.ok(l.includes('[dryrun] Would wait up to 4m0s for kube-controller-manager at https://127.0.0.1:20257/healthz'));
    assert.ok(l.includes('[dryrun] Would wait up to 4m0s for kube-scheduler at https://127.0.0.1:20259/livez'));
    assert.ok(l.includes('[dryrun] Would wait up to 4m0s for etcd at http://127.0.0.1:22381/health'));
    assert.ok(l.some((x) => x.includes('etcd-node-a, kube-apiserver-node-a, kube-controller-manager-node-a, kube-scheduler-node-a')));
    const ev = t.events.events.find((e) => e.type === 'wait');
    assert.ok(ev && ev.type === 'wait' && ev.data?.dryRun === true);
  });

  it('--wait-timeout overrides the config timeouts; --wait-for selects targets', async () => {
    const t = withManifests();
    const ctx = { ...t.ctx, options: { ...t.ctx.options, waitTimeoutMs: 3000, waitFor: ['kubelet'] } };
    await waitControlPlane.run!(ctx);
    const l = lines(t.events.events);
    assert.ok(l.includes('[dryrun] Would wait up to 3s for a healthy kubelet at http://127.0.0.1:30248/healthz'));
    assert.equal(l.some((x) => x.includes('kube-apiserver')), false);
  });

  it('a missing manifest is an error naming it (exit 1), not a 4-minute wait', async () => {
    const t = testContext({}, { waitFor: ['components'] });
    await assert.rejects(waitControlPlane.run!(t.ctx), (e: unknown) => e instanceof OperationError && /kube-apiserver\.yaml does not exist/.test(e.message));
  });

  it('no admin.conf: an error naming it when mirror pods are waited for', async () => {
    const t = testContext({}, { waitFor: ['mirror-pods'] });
    await assert.rejects(waitControlPlane.run!(t.ctx), (e: unknown) => e instanceof OperationError && /admin\.conf does not exist/.test(e.message));
  });
});
