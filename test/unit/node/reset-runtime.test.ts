/**
 * reset's cleanup-node past the kubelet (src/node/reset.ts, src/node/mounts.ts, src/kube/crictl.ts) over fake effects:
 * the pods' sandboxes through crictl (stopp, rmp, retries), the mounts under the kubelet's directory (deepest first,
 * nothing outside it, never the directory's own mount), and the ledger's files after both, in kubeadm's order; crictl
 * absent, --dry-run and --root; kubeboot's CNI configuration removed and its directory left.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanupNode } from '../../../phases/reset/cleanup-node.js';
import { buildSpec } from '../../../src/config/load.js';
import type { ExecOptions, ExecResult } from '../../../src/effects/types.js';
import { listPodSandboxes, removePodSandbox } from '../../../src/kube/crictl.js';
import { nodeContext, type ResetContext, type ResetOptions } from '../../../src/node/context.js';
import { mountsUnder, parseMounts } from '../../../src/node/mounts.js';
import { closingText, resetResult } from '../../../src/node/reset.js';
import { LEDGER } from '../../../src/node/state.js';
import { Output } from '../../../src/workflow/events.js';
import { MemoryReporter } from '../../../src/workflow/reporters.js';
import { FakeEffects } from '../../helpers/fake-effects.js';
import { TEST_HOST } from '../../helpers/host.js';

const SOCK = 'unix:///var/run/containerd/containerd.sock';
const CRI = `crictl --runtime-endpoint ${SOCK}`;
const OK: ExecResult = { exitCode: 0, stdout: '', stderr: '' };
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** FakeEffects that log removals beside the commands, to check the order of the two. */
class OrderedFx extends FakeEffects {
  readonly ops: string[] = [];
  override async exec(command: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.ops.push([command, ...args].join(' '));
    return super.exec(command, args, opts);
  }
  override async remove(p: string): Promise<void> {
    this.ops.push(`remove ${p}`);
    return super.remove(p);
  }
}

interface Arranged {
  ctx: ResetContext;
  fx: OrderedFx;
  events: MemoryReporter;
  /** the mount table; umount takes its entries out */
  mounts: string[];
  /** the runtime's sandboxes; rmp takes them out */
  pods: { id: string; name: string; namespace: string; state: string }[];
}

const LEDGER_FILES = ['/etc/kubernetes/admin.conf', '/var/lib/kubelet/config.yaml', '/etc/cni/net.d/10-kubeboot.conflist'];

function mountLine(mp: string, type = 'tmpfs'): string {
  return `${type} ${mp.replace(/ /g, '\\040')} ${type} rw,relatime 0 0`;
}

function arrange(opts: Partial<ResetOptions> & { crictl?: boolean } = {}): Arranged {
  const fx = new OrderedFx();
  const dryRun = opts.dryRun === true;
  fx.simulate = dryRun;
  const events = new MemoryReporter();
  const { spec } = buildSpec(undefined, {}, TEST_HOST, 'flags');
  const ctx = nodeContext({
    spec,
    host: TEST_HOST,
    fx,
    out: new Output(events, dryRun),
    options: { dryRun, root: '', verbose: false, waitTimeoutMs: undefined, configSource: 'test', ...opts },
  });
  const files: Record<string, { mode: string; by: string }> = {};
  for (const f of LEDGER_FILES) {
    files[f] = { mode: '0600', by: 'test' };
    fx.files.set(f, { data: Buffer.from(`kubeboot's ${f}\n`), mode: 0o600 });
  }
  fx.files.set(LEDGER, { data: Buffer.from(JSON.stringify({ kind: 'KubebootFileLedger', version: 1, files })), mode: 0o600 });
  // another CNI configuration kubeboot did not write, and the kubelet's own state
  fx.files.set('/etc/cni/net.d/99-other.conf', { data: Buffer.from('{}'), mode: 0o644 });
  fx.dirs.set('/etc/cni/net.d', 0o755);
  fx.dirs.set('/var/lib/kubelet/pods', 0o750);
  const a: Arranged = {
    ctx,
    fx,
    events,
    mounts: [
      'proc /proc proc rw 0 0',
      mountLine('/var/lib/kubelet', 'ext4'), // the directory's own mount: never unmounted
      mountLine('/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x'),
      mountLine('/var/lib/kubelet/pods/u1/volume-subpaths/cfg/app/0', 'ext4'),
      mountLine('/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/a b'),
      mountLine('/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x/nested'),
      mountLine('/var/lib/kubelet-other/x'), // a sibling with the same prefix: not under the directory
      mountLine('/mnt/data', 'ext4'),
    ],
    pods: [
      { id: B, name: 'kube-apiserver-cp1', namespace: 'kube-system', state: 'SANDBOX_READY' },
      { id: A, name: 'etcd-cp1', namespace: 'kube-system', state: 'SANDBOX_NOTREADY' },
    ],
  };
  fx.onPath.add('systemctl');
  fx.onPath.add('umount');
  if (opts.crictl !== false) fx.onPath.add('crictl');
  const syncMounts = () => fx.files.set('/proc/mounts', { data: Buffer.from(`${a.mounts.join('\n')}\n`), mode: 0o444 });
  syncMounts();
  fx.exec_.systemctl = () => OK;
  fx.exec_.umount = (args) => {
    const mp = args[0] as string;
    const i = a.mounts.map((l) => parseMounts(l)[0]?.mountPoint).lastIndexOf(mp);
    if (i < 0) return { exitCode: 32, stdout: '', stderr: `umount: ${mp}: not mounted.\n` };
    a.mounts.splice(i, 1);
    syncMounts();
    return OK;
  };
  fx.exec_.crictl = (args) => {
    assert.deepEqual(args.slice(0, 2), ['--runtime-endpoint', SOCK]);
    const [verb, id] = args.slice(2);
    if (verb === 'pods') return { ...OK, stdout: JSON.stringify({ items: a.pods.map((p) => ({ id: p.id, metadata: { name: p.name, namespace: p.namespace, uid: 'u', attempt: 0 }, state: p.state })) }) };
    const pod = a.pods.find((p) => p.id === id);
    if (!pod) return { exitCode: 1, stdout: '', stderr: `time="x" level=fatal msg="pod sandbox ${id} not found"\n` };
    if (verb === 'stopp') {
      pod.state = 'SANDBOX_NOTREADY';
      return OK;
    }
    if (verb === 'rmp') {
      if (pod.state === 'SANDBOX_READY') return { exitCode: 1, stdout: '', stderr: 'pod sandbox is running\n' };
      a.pods.splice(a.pods.indexOf(pod), 1);
      return OK;
    }
    throw new Error(`unexpected crictl ${args.join(' ')}`);
  };
  return a;
}

function lines(events: MemoryReporter): string[] {
  return events.events.flatMap((e) => (e.type === 'log' ? [e.tag ? `[${e.tag}] ${e.message}` : e.message] : e.type === 'warning' ? [`WARNING ${e.message}`] : []));
}

function warnings(events: MemoryReporter): string[] {
  return events.events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
}

/** deepest first (9, 9, 8, 8 path components), the later-mounted first at equal depth */
const UNMOUNT_ORDER = [
  'umount /var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x/nested',
  'umount /var/lib/kubelet/pods/u1/volume-subpaths/cfg/app/0',
  'umount /var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/a b',
  'umount /var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x',
];

describe('reset cleanup-node: containers and mounts', () => {
  it('stops the kubelet, then removes the pod sandboxes, then unmounts (deepest first), then removes the files', async () => {
    const a = arrange();
    await cleanupNode.run?.(a.ctx);
    assert.deepEqual(a.fx.ops, [
      'systemctl stop kubelet',
      `${CRI} pods -o json`,
      // sorted by namespace and name: etcd before kube-apiserver
      `${CRI} stopp ${A}`,
      `${CRI} rmp ${A}`,
      `${CRI} stopp ${B}`,
      `${CRI} rmp ${B}`,
      ...UNMOUNT_ORDER,
      'remove /etc/cni/net.d/10-kubeboot.conflist',
      'remove /etc/kubernetes/admin.conf',
      'remove /var/lib/kubelet/config.yaml',
      'remove /etc/kubernetes/kubeboot',
    ]);
    assert.deepEqual(a.pods, []);
    // what is left mounted: the directory's own mount and everything outside it
    assert.deepEqual(parseMounts(a.mounts.join('\n')).map((m) => m.mountPoint), ['/proc', '/var/lib/kubelet', '/var/lib/kubelet-other/x', '/mnt/data']);
    const out = lines(a.events);
    for (const l of [
      `[reset] Removing Kubernetes-managed containers (the pod sandboxes of ${SOCK}, with crictl)`,
      `[reset] Stopped and removed pod sandbox kube-system/etcd-cp1 (${A.slice(0, 13)})`,
      `[reset] Stopped and removed pod sandbox kube-system/kube-apiserver-cp1 (${B.slice(0, 13)})`,
      '[reset] Unmounting mounted directories in "/var/lib/kubelet"',
      '[reset] Unmounted "/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/a b" (tmpfs)',
      '[reset] Unmounted "/var/lib/kubelet/pods/u1/volume-subpaths/cfg/app/0" (ext4)',
    ]) assert.ok(out.includes(l), `missing ${l}\n${out.join('\n')}`);
    assert.deepEqual(warnings(a.events), []);
    const r = resetResult(a.ctx);
    assert.deepEqual(r.podSandboxes, { removed: [`kube-system/etcd-cp1 (${A.slice(0, 13)})`, `kube-system/kube-apiserver-cp1 (${B.slice(0, 13)})`], failed: [], notDone: null });
    assert.deepEqual(r.mounts.unmounted, UNMOUNT_ORDER.map((c) => c.slice('umount '.length)));
    assert.equal(r.mounts.dir, '/var/lib/kubelet');
  });

  it("removes kubeboot's CNI configuration, leaves the other one and the directory, and says so", async () => {
    const a = arrange();
    await cleanupNode.run?.(a.ctx);
    closingText(a.ctx);
    assert.equal(a.fx.files.has('/etc/cni/net.d/10-kubeboot.conflist'), false);
    assert.equal(a.fx.files.has('/etc/cni/net.d/99-other.conf'), true);
    assert.equal(a.fx.dirs.has('/etc/cni/net.d'), true, 'the ledger records files, not directories: the directory stays');
    const r = resetResult(a.ctx);
    assert.ok(r.removed.includes('/etc/cni/net.d/10-kubeboot.conflist'));
    // the kubelet's own state is not kubeboot's either
    assert.deepEqual(r.left, ['/etc/cni/net.d/99-other.conf', '/var/lib/kubelet/pods/']);
    const out = lines(a.events);
    assert.ok(out.includes('[reset] Left 2 file(s) kubeboot did not create:\n\t/etc/cni/net.d/99-other.conf\n\t/var/lib/kubelet/pods/'), out.join('\n'));
    assert.match(out[out.length - 1] ?? '', /^Left for you to clean up: other CNI configuration in \/etc\/cni\/net\.d \(kubeboot's own, \/etc\/cni\/net\.d\/10-kubeboot\.conflist, is removed\); iptables/);
  });

  it('crictl absent: a warning with the command to run, the rest goes on', async () => {
    const a = arrange({ crictl: false });
    await cleanupNode.run?.(a.ctx);
    assert.ok(!a.fx.ops.some((o) => o.startsWith('crictl')), a.fx.ops.join('\n'));
    assert.deepEqual(a.fx.ops.filter((o) => o.startsWith('umount')), UNMOUNT_ORDER);
    assert.deepEqual(warnings(a.events), [
      `[reset] crictl was not found on PATH, so kubeboot cannot remove the pods' containers through the container runtime (${SOCK}); install crictl (cri-tools) and run: ${CRI} rmp --all --force`,
    ]);
    assert.ok(lines(a.events).includes(`[reset] Left the pods' containers in the container runtime (${SOCK}): crictl is not on PATH (install cri-tools, then run: ${CRI} rmp --all --force)`));
    assert.match(resetResult(a.ctx).podSandboxes.notDone ?? '', /crictl is not on PATH/);
  });

  it('the runtime does not answer: a warning, no removal, the rest goes on', async () => {
    const a = arrange();
    a.fx.exec_.crictl = () => ({ exitCode: 1, stdout: '', stderr: 'time="x" level=fatal msg="validate service connection: connection refused"\n' });
    await cleanupNode.run?.(a.ctx);
    assert.deepEqual(a.fx.ops.filter((o) => o.startsWith('crictl')), [`${CRI} pods -o json`]);
    assert.deepEqual(a.fx.ops.filter((o) => o.startsWith('umount')), UNMOUNT_ORDER);
    assert.deepEqual(warnings(a.events), [
      `[reset] could not list the pod sandboxes of ${SOCK}: '${CRI} pods -o json' failed (exit 1: time="x" level=fatal msg="validate service connection: connection refused"); their containers were not removed (once the runtime answers, run: ${CRI} rmp --all --force)`,
    ]);
  });

  it('retries a sandbox five times, as kubeadm does, then warns and goes on', async () => {
    const a = arrange();
    let stops = 0;
    const base = a.fx.exec_.crictl!;
    a.fx.exec_.crictl = (args, opts) => {
      if (args[2] === 'stopp' && args[3] === A && ++stops <= 2) return { exitCode: 1, stdout: '', stderr: 'DeadlineExceeded\n' };
      if (args[2] === 'rmp' && args[3] === B) return { exitCode: 1, stdout: '', stderr: 'failed to remove sandbox: device or resource busy\n' };
      return base(args, opts);
    };
    await cleanupNode.run?.(a.ctx);
    const cri = a.fx.ops.filter((o) => o.startsWith('crictl')).map((o) => o.slice(CRI.length + 1));
    assert.deepEqual(cri, [
      'pods -o json',
      `stopp ${A}`,
      `stopp ${A}`,
      `stopp ${A}`,
      `rmp ${A}`,
      ...Array.from({ length: 5 }, () => [`stopp ${B}`, `rmp ${B}`]).flat(),
    ]);
    assert.deepEqual(warnings(a.events), [
      `[reset] could not remove pod sandbox kube-system/kube-apiserver-cp1 (${B.slice(0, 13)}) after 5 attempt(s): 'crictl rmp ${B}' failed (exit 1: failed to remove sandbox: device or resource busy); remove it yourself: ${CRI} rmp --force ${B}`,
    ]);
    const r = resetResult(a.ctx);
    assert.deepEqual(r.podSandboxes.removed, [`kube-system/etcd-cp1 (${A.slice(0, 13)})`]);
    assert.equal(r.podSandboxes.failed.length, 1);
    assert.ok(lines(a.events).some((l) => l.startsWith('[reset] Left 1 pod sandbox(es) the container runtime did not remove:\n\tkube-system/kube-apiserver-cp1')));
    // the unmounting and the files went on
    assert.deepEqual(a.fx.ops.filter((o) => o.startsWith('umount')), UNMOUNT_ORDER);
    assert.equal(a.fx.files.has('/etc/kubernetes/admin.conf'), false);
  });

  it('a mount that stays is a warning naming it; one that went with its peer is not', async () => {
    const a = arrange();
    const busy = '/var/lib/kubelet/pods/u1/volume-subpaths/cfg/app/0';
    const peer = '/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/a b';
    const base = a.fx.exec_.umount!;
    a.fx.exec_.umount = (args, opts) => {
      if (args[0] === busy) return { exitCode: 32, stdout: '', stderr: `umount: ${busy}: target is busy.\n` };
      if (args[0] === peer) {
        // gone already (an earlier unmount took its shared peer with it): umount says "not mounted"
        a.mounts.splice(a.mounts.findIndex((l) => l.includes('a\\040b')), 1);
        a.fx.files.set('/proc/mounts', { data: Buffer.from(a.mounts.join('\n')), mode: 0o444 });
        return { exitCode: 32, stdout: '', stderr: `umount: ${peer}: not mounted.\n` };
      }
      return base(args, opts);
    };
    await cleanupNode.run?.(a.ctx);
    assert.deepEqual(a.fx.ops.filter((o) => o.startsWith('umount')), UNMOUNT_ORDER, 'every mount is tried once');
    assert.deepEqual(warnings(a.events), [
      `[reset] could not unmount "${busy}": 'umount ${busy}' failed (exit 32: umount: ${busy}: target is busy.); it stays mounted (unmount it yourself: umount "${busy}")`,
    ]);
    const out = lines(a.events);
    assert.ok(out.includes(`[reset] "${peer}" is no longer mounted (it went with an earlier unmount)`), out.join('\n'));
    assert.ok(out.includes(`[reset] Left 1 mount(s) under "/var/lib/kubelet" mounted:\n\t${busy}: 'umount ${busy}' failed (exit 32: umount: ${busy}: target is busy.)`), out.join('\n'));
    const r = resetResult(a.ctx);
    assert.deepEqual(r.mounts.failed.map((f) => f.mountPoint), [busy]);
    // the files kubeboot wrote still go (the ledger's files in the kubelet directory are not in a mount)
    assert.equal(a.fx.files.has('/var/lib/kubelet/config.yaml'), false);
  });

  it('a symlinked kubelet directory: the mounts under its target are unmounted', async () => {
    const a = arrange();
    a.fx.links.set('/var/lib/kubelet', '/data/kubelet');
    a.fx.dirs.set('/data/kubelet', 0o755);
    a.mounts.push(mountLine('/data/kubelet/pods/u3/volumes/kubernetes.io~secret/s'));
    a.fx.files.set('/proc/mounts', { data: Buffer.from(a.mounts.join('\n')), mode: 0o444 });
    await cleanupNode.run?.(a.ctx);
    assert.deepEqual(a.fx.ops.filter((o) => o.startsWith('umount')), ['umount /data/kubelet/pods/u3/volumes/kubernetes.io~secret/s']);
    assert.ok(lines(a.events).includes('[reset] Unmounting mounted directories in "/var/lib/kubelet" (a link to "/data/kubelet")'));
  });

  it('--dry-run: lists the sandboxes and mounts, records the commands instead of running them', async () => {
    const a = arrange({ dryRun: true });
    await cleanupNode.run?.(a.ctx);
    // only what reads ran
    assert.deepEqual(a.fx.execCalls, [`${CRI} pods -o json`]);
    assert.deepEqual(a.fx.simulated, [
      'systemctl stop kubelet',
      `${CRI} stopp ${A}`,
      `${CRI} rmp ${A}`,
      `${CRI} stopp ${B}`,
      `${CRI} rmp ${B}`,
      ...UNMOUNT_ORDER,
    ]);
    assert.equal(a.pods.length, 2);
    assert.equal(a.mounts.length, 8);
    const out = lines(a.events);
    for (const l of [
      `[reset] Would remove Kubernetes-managed containers (the pod sandboxes of ${SOCK}, with crictl)`,
      `[reset] Would stop and remove pod sandbox kube-system/etcd-cp1 (${A.slice(0, 13)})`,
      '[reset] Would unmount 4 mount(s) in "/var/lib/kubelet"',
      '[reset] Would unmount "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access-x/nested" (tmpfs)',
    ]) assert.ok(out.includes(l), `missing ${l}\n${out.join('\n')}`);
    assert.ok(!out.some((l) => /^\[reset\] (Stopped|Unmounted) /.test(l)), out.join('\n'));
  });

  it('--root: neither crictl nor umount is called, nor the mount table read, and reset says so', async () => {
    for (const dryRun of [false, true]) {
      const a = arrange({ root: '/tmp/some-root', dryRun });
      const asked: string[] = [];
      a.fx.which = async (c: string) => {
        asked.push(c);
        return undefined;
      };
      a.fx.files.delete('/proc/mounts');
      delete a.fx.exec_.crictl;
      delete a.fx.exec_.umount;
      const resolve = a.fx.resolvePath.bind(a.fx);
      a.fx.resolvePath = async (p: string) => {
        asked.push(`resolve ${p}`);
        return resolve(p);
      };
      await cleanupNode.run?.(a.ctx);
      assert.deepEqual([...a.fx.ops.filter((o) => !o.startsWith('remove ')), ...a.fx.simulated], [], `dry-run ${dryRun}`);
      assert.deepEqual(asked, [], `dry-run ${dryRun}`);
      const out = lines(a.events);
      assert.ok(out.includes('[reset] Not removing the pods\' containers: the files are under --root "/tmp/some-root", not this host\'s container runtime'), out.join('\n'));
      assert.ok(out.includes('[reset] Not unmounting anything under "/var/lib/kubelet": the files are under --root "/tmp/some-root", not this host\'s mounts'), out.join('\n'));
      assert.ok(!out.some((l) => l.startsWith('[reset] Left the')), 'nothing of the host is reported as left');
      assert.deepEqual(warnings(a.events), []);
    }
  });
});

describe("reset cleanup-node: the kubelet's client certificates", () => {
  const ledgerAdd = (fx: FakeEffects, path: string, data: string, mode = 0o644) => {
    const ledger = JSON.parse((fx.files.get(LEDGER)?.data ?? Buffer.from('{}')).toString('utf8'));
    ledger.files[path] = { mode: `0${mode.toString(8)}`, by: 'test' };
    fx.files.set(LEDGER, { data: Buffer.from(JSON.stringify(ledger)), mode: 0o600 });
    fx.files.set(path, { data: Buffer.from(data), mode });
  };
  const pair = async () => {
    const { generateKey, privateKeyPem } = await import('../../../src/pki/keys.js');
    const { issueCertificate } = await import('../../../src/pki/sign.js');
    const { keyUsageOf } = await import('../../../src/pki/table.js');
    const now = Date.parse('2026-01-01T00:00:00Z');
    const validity = { notBefore: new Date(now - 300_000), notAfter: new Date(now + 86_400_000) };
    const caKey = await generateKey('ECDSA-P256');
    const ca = await issueCertificate({
      plan: { name: 'ca', commonName: 'kubernetes', organization: [], isCA: true, keyUsage: keyUsageOf(true), extKeyUsage: [], dnsNames: ['kubernetes'], ips: [], validityMs: 86_400_000 },
      validity,
      publicKey: caKey.publicKey,
      signer: { selfSigned: caKey.privateKey },
    });
    /** a kubelet client certificate file as the kubelet keeps it: the certificate, then its key */
    const clientPem = async () => {
      const k = await generateKey('ECDSA-P256');
      const c = await issueCertificate({
        plan: { name: 'kubelet-client', commonName: 'system:node:cp1', organization: ['system:nodes'], isCA: false, keyUsage: keyUsageOf(false), extKeyUsage: ['clientAuth'], dnsNames: [], ips: [], validityMs: 86_400_000 },
        validity,
        publicKey: k.publicKey,
        signer: { caCertDer: ca.der, caKey: caKey.privateKey },
      });
      return `${c.pem}${privateKeyPem(k.privateKey)}`;
    };
    return { caPem: ca.pem, clientPem };
  };

  it("removes the kubelet's client certificates issued by kubeboot's CA (before the CA goes), and leaves one of another CA and the serving certificate", async () => {
    // found on the real node: after reset, the kubelet of a second init authenticated with the first cluster's
    // kubelet-client-current.pem (kubelet-finalize had pointed kubelet.conf at it): Unauthorized, never registered
    const ours = await pair();
    const other = await pair();
    const a = arrange();
    ledgerAdd(a.fx, '/etc/kubernetes/pki/ca.crt', ours.caPem);
    const pki = '/var/lib/kubelet/pki';
    const current = await ours.clientPem();
    a.fx.files.set(`${pki}/kubelet-client-2026-01-01-00-00-00.pem`, { data: Buffer.from(current), mode: 0o600 });
    a.fx.files.set(`${pki}/kubelet-client-current.pem`, { data: Buffer.from(current), mode: 0o600 });
    a.fx.files.set(`${pki}/kubelet-client-2025-06-01-00-00-00.pem`, { data: Buffer.from(await other.clientPem()), mode: 0o600 });
    a.fx.files.set(`${pki}/kubelet.crt`, { data: Buffer.from(other.caPem), mode: 0o644 });
    a.fx.files.set(`${pki}/kubelet.key`, { data: Buffer.from('key'), mode: 0o600 });
    await cleanupNode.run?.(a.ctx);
    const removed = a.fx.ops.filter((o) => o.startsWith('remove '));
    const i = removed.indexOf(`remove ${pki}/kubelet-client-current.pem`);
    assert.ok(i >= 0, removed.join('\n'));
    assert.equal(removed[i + 1], `remove ${pki}/kubelet-client-2026-01-01-00-00-00.pem`, 'the link first, then the file it names');
    assert.ok(i < removed.indexOf('remove /etc/kubernetes/pki/ca.crt'), 'read against the CA before the CA is removed');
    assert.deepEqual(
      [...a.fx.files.keys()].filter((f) => f.startsWith(`${pki}/`)).sort(),
      [`${pki}/kubelet-client-2025-06-01-00-00-00.pem`, `${pki}/kubelet.crt`, `${pki}/kubelet.key`],
    );
    const r = resetResult(a.ctx);
    assert.ok(r.removed.includes(`${pki}/kubelet-client-current.pem`));
    assert.ok(r.left.includes('/var/lib/kubelet/pki/'), 'the directory with what stays is listed as left');
    const out = lines(a.events);
    assert.ok(out.some((l) => l.includes(`Deleting the kubelet's client certificates of this cluster (issued by /etc/kubernetes/pki/ca.crt): [${pki}/kubelet-client-current.pem ${pki}/kubelet-client-2026-01-01-00-00-00.pem]`)), out.join('\n'));
  });

  it('without a CA kubeboot wrote (an external CA stays, and so do the certificates it issued) nothing in the kubelet\'s pki is touched', async () => {
    const ours = await pair();
    const a = arrange();
    a.fx.files.set('/etc/kubernetes/pki/ca.crt', { data: Buffer.from(ours.caPem), mode: 0o644 });
    a.fx.files.set('/var/lib/kubelet/pki/kubelet-client-current.pem', { data: Buffer.from(await ours.clientPem()), mode: 0o600 });
    await cleanupNode.run?.(a.ctx);
    assert.ok(a.fx.files.has('/var/lib/kubelet/pki/kubelet-client-current.pem'));
  });

  it('--dry-run says what it would remove and removes nothing', async () => {
    const ours = await pair();
    const a = arrange({ dryRun: true });
    ledgerAdd(a.fx, '/etc/kubernetes/pki/ca.crt', ours.caPem);
    a.fx.files.set('/var/lib/kubelet/pki/kubelet-client-current.pem', { data: Buffer.from(await ours.clientPem()), mode: 0o600 });
    await cleanupNode.run?.(a.ctx);
    assert.ok(lines(a.events).some((l) => l.includes('Would remove the kubelet\'s client certificate "/var/lib/kubelet/pki/kubelet-client-current.pem"')), lines(a.events).join('\n'));
  });
});

describe('the mount table', () => {
  it('parses /proc/mounts escapes and picks only what is under the directory, deepest first, later mounts first', () => {
    const table = parseMounts(
      [
        'tmpfs /var/lib/kubelet tmpfs rw 0 0',
        'tmpfs /var/lib/kubelet/pods/x tmpfs rw 0 0',
        'tmpfs /var/lib/kubelet/pods/x/v\\040w tmpfs rw 0 0',
        'tmpfs /var/lib/kubelet/pods/y tmpfs rw 0 0',
        'tmpfs /var/lib/kubelet/pods/x tmpfs rw 0 0',
        'tmpfs /var/lib/kubeletfoo tmpfs rw 0 0',
        'tmpfs /var/lib/kubelet/a\\134b tmpfs rw 0 0',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      mountsUnder(table, '/var/lib/kubelet').map((m) => `${m.mountPoint}#${m.index}`),
      ['/var/lib/kubelet/pods/x/v w#2', '/var/lib/kubelet/pods/x#4', '/var/lib/kubelet/pods/y#3', '/var/lib/kubelet/pods/x#1', '/var/lib/kubelet/a\\b#6'],
    );
    assert.deepEqual(mountsUnder(table, '/var/lib/kubelet/'), mountsUnder(table, '/var/lib/kubelet'));
  });
});

describe('crictl helpers', () => {
  it('listPodSandboxes reads crictl pods -o json, read-only', async () => {
    const fx = new FakeEffects();
    const seen: (ExecOptions | undefined)[] = [];
    fx.exec_.crictl = (_args, opts) => {
      seen.push(opts);
      return { ...OK, stdout: JSON.stringify({ items: [{ id: B, metadata: { name: 'b', namespace: 'default' }, state: 'SANDBOX_READY' }, { id: A, metadata: { name: 'a', namespace: 'default' } }, { metadata: {} }] }) };
    };
    assert.deepEqual(await listPodSandboxes(fx, SOCK), [
      { id: A, name: 'a', namespace: 'default', state: 'unknown' },
      { id: B, name: 'b', namespace: 'default', state: 'SANDBOX_READY' },
    ]);
    assert.equal(seen[0]?.readOnly, true);
    fx.exec_.crictl = () => ({ ...OK, stdout: 'not json' });
    await assert.rejects(listPodSandboxes(fx, SOCK), /printed something that is not JSON/);
  });

  it('removePodSandbox: a crictl that cannot run is a failed attempt, not a throw', async () => {
    const fx = new FakeEffects();
    fx.exec_.crictl = () => {
      throw new Error('spawn crictl ENOENT');
    };
    const r = await removePodSandbox(fx, SOCK, A, { tries: 2 });
    assert.deepEqual(r, { ok: false, attempts: 2, error: `'crictl stopp ${A}' did not run (spawn crictl ENOENT)` });
    assert.equal(fx.execCalls.length, 2);
  });
});
