import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { preflight } from '../../../phases/init/preflight.js';
import { PreflightError } from '../../../src/errors.js';
import { testContext } from '../../helpers/context.js';
import { TEST_HOST } from '../../helpers/host.js';

function warnings(events: { events: { type: string; message?: string }[] }): string[] {
  return events.events.filter((e) => e.type === 'warning').map((e) => e.message as string);
}

describe('preflight', () => {
  it('passes on a clean node', async () => {
    const t = testContext();
    for (const b of ['mount', 'losetup', 'ebtables', 'socat']) t.fx.onPath.add(b);
    await preflight.run?.(t.ctx);
    assert.deepEqual(warnings(t.events), []);
  });

  it('reports every failure together, named as kubeadm names them', async () => {
    const t = testContext({}, {}, { ...TEST_HOST, uid: 0, ipv4Forward: '0', swapOn: true });
    t.fx.busyPorts.add(6443).add(2379).add(10250);
    t.fx.files.set('/etc/kubernetes/manifests/etcd.yaml', { data: Buffer.from('x'), mode: 0o600 });
    t.fx.files.set('/var/lib/etcd/member/x', { data: Buffer.from('x'), mode: 0o600 });
    t.fx.onPath.add('mount');
    await assert.rejects(preflight.run!(t.ctx), (e: unknown) => {
      assert.ok(e instanceof PreflightError);
      assert.equal(e.exitCode, 2);
      assert.deepEqual([...e.failures].sort(), [
        '[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty',
        '[ERROR FileAvailable--etc-kubernetes-manifests-etcd.yaml]: /etc/kubernetes/manifests/etcd.yaml already exists',
        '[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not set to 1',
        '[ERROR FileExisting-losetup]: losetup not found in system path',
        '[ERROR Port-10250]: Port 10250 is in use',
        '[ERROR Port-2379]: Port 2379 is in use',
        '[ERROR Port-6443]: Port 6443 is in use',
      ]);
      assert.match(e.hint ?? '', /--ignore-preflight-errors/);
      return true;
    });
    const w = warnings(t.events);
    assert.ok(w.some((x) => x.startsWith('[WARNING Swap]:')));
    assert.ok(w.includes('[WARNING FileExisting-ebtables]: ebtables not found in system path'));
  });

  it('two files in the static pod path that define one pod (or one of kubeboot\'s pods) fail StaticPodPathConflicts', async () => {
    const t = testContext();
    for (const b of ['mount', 'losetup', 'ebtables', 'socat']) t.fx.onPath.add(b);
    const pod = (name: string) => Buffer.from(`apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: kube-system\n`);
    t.fx.files.set('/etc/kubernetes/manifests/my-sched.yaml', { data: pod('my-sched'), mode: 0o600 });
    t.fx.files.set('/etc/kubernetes/manifests/my-sched.yaml~', { data: pod('my-sched'), mode: 0o600 });
    t.fx.files.set('/etc/kubernetes/manifests/old-apiserver.yaml', { data: pod('kube-apiserver'), mode: 0o600 });
    t.fx.files.set('/etc/kubernetes/manifests/.hidden.yaml', { data: pod('my-sched'), mode: 0o600 });
    await assert.rejects(preflight.run!(t.ctx), (e: unknown) => {
      assert.ok(e instanceof PreflightError);
      const f = e.failures.filter((x) => x.startsWith('[ERROR StaticPodPathConflicts]: '));
      assert.equal(f.length, 1, e.failures.join('\n'));
      assert.match(f[0] as string, /"\/etc\/kubernetes\/manifests\/my-sched\.yaml" and "\/etc\/kubernetes\/manifests\/my-sched\.yaml~" both define the pod kube-system\/my-sched/);
      assert.match(f[0] as string, /"\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml" and "\/etc\/kubernetes\/manifests\/old-apiserver\.yaml" both define the pod kube-system\/kube-apiserver/);
      assert.doesNotMatch(f[0] as string, /\.hidden/);
      return true;
    });
  });

  it('an ignored check (case-insensitive) becomes a warning; "all" ignores everything', async () => {
    const t = testContext({}, { ignorePreflightErrors: new Set(['port-6443']) });
    for (const b of ['mount', 'losetup', 'ebtables', 'socat']) t.fx.onPath.add(b);
    t.fx.busyPorts.add(6443);
    await preflight.run?.(t.ctx);
    assert.deepEqual(warnings(t.events), ['[WARNING Port-6443]: Port 6443 is in use']);
    const a = testContext({}, { ignorePreflightErrors: new Set(['all']) }, { ...TEST_HOST, uid: 1000 });
    a.fx.busyPorts.add(2380);
    await preflight.run?.(a.ctx);
    assert.ok(warnings(a.events).includes('[WARNING IsPrivilegedUser]: user is not running as root'));
  });

  it('the root check runs alone and first', async () => {
    const t = testContext({}, {}, { ...TEST_HOST, uid: 1000 });
    t.fx.busyPorts.add(6443);
    await assert.rejects(preflight.run!(t.ctx), (e: PreflightError) => {
      assert.deepEqual(e.failures, ['[ERROR IsPrivilegedUser]: user is not running as root']);
      return true;
    });
  });

  it('under --dry-run failures are warnings and the run goes on; no root needed', async () => {
    const t = testContext({}, { dryRun: true }, { ...TEST_HOST, uid: 1000 });
    t.fx.busyPorts.add(10257);
    await preflight.run?.(t.ctx);
    assert.ok(warnings(t.events).includes('[ERROR Port-10257]: Port 10257 is in use (dry-run: not fatal)'));
  });

  it('under --root, host-only checks are skipped but ports and files are checked', async () => {
    const t = testContext({}, { root: '/tmp/x' }, { ...TEST_HOST, uid: 1000, ipv4Forward: '0' });
    t.fx.busyPorts.add(10259);
    await assert.rejects(preflight.run!(t.ctx), (e: PreflightError) => {
      assert.deepEqual(e.failures, ['[ERROR Port-10259]: Port 10259 is in use']);
      return true;
    });
  });

  it('uses the configured ports (bindPort, secure-port extraArgs)', async () => {
    const t = testContext({ 'apiserver-bind-port': 7443, 'scheduler-extra-args': [{ name: 'secure-port', value: '20259' }] }, { root: '/r' });
    t.fx.busyPorts.add(6443).add(10259).add(7443).add(20259);
    await assert.rejects(preflight.run!(t.ctx), (e: PreflightError) => {
      assert.deepEqual([...e.failures].sort(), ['[ERROR Port-20259]: Port 20259 is in use', '[ERROR Port-7443]: Port 7443 is in use']);
      return true;
    });
  });

  it('etcd and kubelet ports come from the configuration (listen URLs, KubeletConfiguration.port)', async () => {
    const t = testContext({ 'etcd-extra-args': [{ name: 'listen-client-urls', value: 'https://127.0.0.1:22379,https://192.0.2.10:22379' }, { name: 'listen-peer-urls', value: 'https://192.0.2.10:22380' }] }, { root: '/r' });
    t.fx.busyPorts.add(2379).add(2380).add(22379).add(22380);
    await assert.rejects(preflight.run!(t.ctx), (e: PreflightError) => {
      assert.deepEqual([...e.failures].sort(), ['[ERROR Port-22379]: Port 22379 is in use', '[ERROR Port-22380]: Port 22380 is in use']);
      return true;
    });
  });

  it('a check that cannot look fails by name instead of crashing', async () => {
    const t = testContext({}, { root: '/r' });
    t.fx.listDir = async () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    await assert.rejects(preflight.run!(t.ctx), (e: PreflightError) => {
      assert.deepEqual(e.failures, [
        '[ERROR DirAvailable--var-lib-etcd]: unable to check if /var/lib/etcd is empty: permission denied',
        '[ERROR StaticPodPathConflicts]: unable to run the check: permission denied',
      ]);
      return true;
    });
  });
});

describe('preflight on a node kubeboot set up (init run again)', () => {
  const ledger = (paths: string[]) =>
    Buffer.from(JSON.stringify({ kind: 'KubebootFileLedger', version: 1, files: Object.fromEntries(paths.map((p) => [p, { mode: '0600', by: 'init' }])) }));

  it("kubeboot's own manifests, ports and etcd data are info lines, not errors", async () => {
    const t = testContext();
    for (const b of ['mount', 'losetup', 'ebtables', 'socat']) t.fx.onPath.add(b);
    const manifests = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((m) => `/etc/kubernetes/manifests/${m}.yaml`);
    for (const m of manifests) t.fx.files.set(m, { data: Buffer.from('x'), mode: 0o600 });
    t.fx.files.set('/var/lib/etcd/member/x', { data: Buffer.from('x'), mode: 0o600 });
    t.fx.files.set('/etc/kubernetes/kubeboot/files.json', { data: ledger([...manifests, '/var/lib/kubelet/config.yaml']), mode: 0o600 });
    for (const p of [6443, 10257, 10259, 2379, 2380, 10250]) t.fx.busyPorts.add(p);
    // the ports show it: the processes listening are kubeboot's components (as /proc tells) …
    const binaries: Record<number, string> = { 6443: 'kube-apiserver', 10257: 'kube-controller-manager', 10259: 'kube-scheduler', 2379: 'etcd', 2380: 'etcd' };
    for (const [port, bin] of Object.entries(binaries)) t.fx.listeners.set(Number(port), { pid: 100 + Number(port), command: `/usr/local/bin/${bin}` });
    // … and the kubelet's healthz answers
    t.fx.http_ = (req) => (req.url === 'http://127.0.0.1:10248/healthz' ? { status: 200, body: 'ok', headers: {} } : { status: 500, body: '', headers: {} });
    await preflight.run?.(t.ctx);
    assert.deepEqual(warnings(t.events), []);
    const infos = t.events.events.filter((e) => e.type === 'log' && (e as { message: string }).message.startsWith('[INFO ')).map((e) => (e as { message: string }).message);
    assert.ok(infos.includes('[INFO Port-6443]: Port 6443 is in use by kube-apiserver, owned by kubeboot'), infos.join('\n'));
    assert.ok(infos.includes('[INFO Port-10250]: Port 10250 is in use by the kubelet, owned by kubeboot'));
    assert.ok(infos.includes('[INFO Port-2380]: Port 2380 is in use by etcd, owned by kubeboot'));
    assert.ok(infos.includes('[INFO FileAvailable--etc-kubernetes-manifests-etcd.yaml]: /etc/kubernetes/manifests/etcd.yaml already exists, owned by kubeboot (kubeboot wrote it)'));
    assert.ok(infos.some((i) => i.startsWith('[INFO DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty')));
    assert.equal(infos.length, 11); // 6 ports, 4 manifests, the etcd data directory
  });

  it('a port kubeboot\'s ledger claims is an error when something else listens there (the process and the endpoint say so)', async () => {
    const t = testContext();
    for (const b of ['mount', 'losetup', 'ebtables', 'socat']) t.fx.onPath.add(b);
    const manifests = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((m) => `/etc/kubernetes/manifests/${m}.yaml`);
    t.fx.files.set('/etc/kubernetes/kubeboot/files.json', { data: ledger(manifests), mode: 0o600 });
    for (const m of manifests) t.fx.files.set(m, { data: Buffer.from('x'), mode: 0o600 });
    t.fx.busyPorts.add(6443).add(10257);
    t.fx.listeners.set(6443, { pid: 4242, command: '/usr/bin/nc' });
    // 10257: no process visible; its health endpoint does not answer as the controller manager
    t.fx.http_ = () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    await assert.rejects(preflight.run!(t.ctx), (e: unknown) => {
      assert.ok(e instanceof PreflightError);
      assert.ok(e.failures.includes('[ERROR Port-6443]: Port 6443 is in use (by nc, pid 4242)'), e.failures.join('\n'));
      assert.ok(e.failures.includes('[ERROR Port-10257]: Port 10257 is in use'), e.failures.join('\n'));
      return true;
    });
  });

  it('only what the ledger lists is owned: a foreign manifest and its port stay errors', async () => {
    const t = testContext();
    for (const b of ['mount', 'losetup', 'ebtables', 'socat']) t.fx.onPath.add(b);
    t.fx.files.set('/etc/kubernetes/manifests/kube-apiserver.yaml', { data: Buffer.from('x'), mode: 0o600 });
    t.fx.files.set('/etc/kubernetes/manifests/etcd.yaml', { data: Buffer.from('x'), mode: 0o600 });
    t.fx.files.set('/var/lib/etcd/member/x', { data: Buffer.from('x'), mode: 0o600 });
    t.fx.files.set('/etc/kubernetes/kubeboot/files.json', { data: ledger(['/etc/kubernetes/manifests/kube-apiserver.yaml']), mode: 0o600 });
    t.fx.busyPorts.add(6443).add(2379);
    // 6443 is kubeboot's kube-apiserver (the ledger, and the process shows it); 2379 is someone's etcd
    t.fx.listeners.set(6443, { pid: 7, command: 'kube-apiserver' });
    t.fx.listeners.set(2379, { pid: 8, command: '/usr/bin/etcd' });
    await assert.rejects(preflight.run!(t.ctx), (e: unknown) => {
      assert.ok(e instanceof PreflightError);
      assert.deepEqual([...e.failures].sort(), [
        '[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty',
        '[ERROR FileAvailable--etc-kubernetes-manifests-etcd.yaml]: /etc/kubernetes/manifests/etcd.yaml already exists',
        '[ERROR Port-2379]: Port 2379 is in use (by etcd, pid 8)',
      ]);
      return true;
    });
  });
});
