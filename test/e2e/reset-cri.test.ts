/**
 * `kubeboot reset` and the node's container runtime and mounts, through the built CLI:
 *  - under --root, against the kubelet + API server double with the crictl shim on PATH: neither crictl nor umount
 *    is run (a recording `umount` stands first on PATH too), with and without --dry-run, and reset says so; a CNI
 *    configuration in the ledger goes, the rest of /etc/cni/net.d and the directory stay;
 *  - on "the host" inside a private mount namespace (root only: unshare, overlays over /etc and /var/lib so that
 *    nothing reaches the machine's own directories; the crictl shim for the runtime; a recording systemctl): --dry-run
 *    lists what it would run and changes nothing, then reset stops and removes every pod sandbox and unmounts every
 *    real tmpfs/bind mount under /var/lib/kubelet deepest first, leaving /var/lib/kubelet's own mount and a mount
 *    beside it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { AFTER_WAIT, CLI } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTools } from '../helpers/tools.js';
import { CRI_SOCKET, arrange, configText } from '../double/harness.js';
import type { CriContainer, CriSandbox } from '../double/double.js';
import { jsonEvents, randomPorts, show, tree } from '../unit/lifecycle/support.js';

const SHIM = fileURLToPath(new URL('../double/crictl-shim.js', import.meta.url));

/** A PATH directory with recording stand-ins: each appends its arguments to <dir>/<name>.calls and exits 0. */
function recorders(dir: string, names: readonly string[]): string {
  const bin = path.join(dir, 'rec-bin');
  mkdirSync(bin, { recursive: true });
  for (const n of names) {
    writeFileSync(path.join(bin, n), `#!/bin/sh\necho "$*" >> "${path.join(dir, `${n}.calls`)}"\nexit 0\n`);
    chmodSync(path.join(bin, n), 0o755);
  }
  return bin;
}

function calls(dir: string, name: string): string[] {
  const f = path.join(dir, `${name}.calls`);
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l !== '') : [];
}

function addToLedger(ledgerFile: string, paths: readonly string[]): void {
  const ledger = JSON.parse(readFileSync(ledgerFile, 'utf8')) as { files: Record<string, unknown> };
  for (const p of paths) ledger.files[p] = { mode: '0644', by: 'test (a CNI configuration kubeboot wrote)' };
  writeFileSync(ledgerFile, `${JSON.stringify(ledger, null, 2)}\n`);
}

describe('reset and the container runtime under --root (test double)', () => {
  it('runs neither crictl nor umount, says so, and removes the CNI configuration the ledger lists', async (t) => {
    if (!requireTools(t, 'etcd', 'openssl')) return;
    const a = await arrange({ crictl: true });
    t.after(() => a.dispose());
    const bin = recorders(a.dir, ['umount']);
    const env = cleanEnv({ ...a.env, PATH: `${bin}:${a.env.PATH}`, KUBEBOOT_CRICTL_CALLS: path.join(a.dir, 'crictl.calls') });
    const init = await runCli(['init', '--root', a.root, '--config', a.config, '--wait-timeout', '60s'], { env, timeoutMs: 120_000 });
    assert.equal(init.code, 0, show(init));
    // the shim serves the double's pods as sandboxes
    await a.double.waitFor('four sandboxes', () => {
      try {
        return (JSON.parse(readFileSync(env.KUBEBOOT_DOUBLE_CRI_STATE as string, 'utf8')) as { sandboxes?: unknown[] }).sandboxes?.length === 4;
      } catch {
        return false;
      }
    });
    const crictlBefore = calls(a.dir, 'crictl');
    // kubeboot's CNI configuration (as init's network phase writes it, through the ledger) and one of someone else's
    mkdirSync(path.join(a.root, 'etc/cni/net.d'), { recursive: true });
    writeFileSync(path.join(a.root, 'etc/cni/net.d/10-kubeboot.conflist'), '{"cniVersion":"1.0.0","name":"kubeboot","plugins":[]}\n');
    writeFileSync(path.join(a.root, 'etc/cni/net.d/99-user.conflist'), '{}\n');
    addToLedger(path.join(a.root, 'etc/kubernetes/kubeboot/files.json'), ['/etc/cni/net.d/10-kubeboot.conflist']);

    const notHere = [
      `[reset] Not removing the pods' containers: the files are under --root "${a.root}", not this host's container runtime`,
      `[reset] Not unmounting anything under "/var/lib/kubelet": the files are under --root "${a.root}", not this host's mounts`,
    ];
    const dry = await runCli(['reset', '--root', a.root, '--dry-run'], { env, timeoutMs: 60_000 });
    assert.equal(dry.code, 0, show(dry));
    for (const l of notHere) assert.ok(dry.stdout.split('\n').includes(l), `missing ${l}\n${dry.stdout}`);
    assert.doesNotMatch(dry.stdout, /Would run: (crictl|umount)/);
    assert.ok(dry.stdout.includes('[reset] Would remove "/etc/cni/net.d/10-kubeboot.conflist"'), dry.stdout);

    const r = await runCli(['reset', '--root', a.root, '--force', '--output', 'json'], { env, timeoutMs: 90_000 });
    assert.equal(r.code, 0, show(r));
    const ev = jsonEvents(r);
    for (const l of notHere) assert.ok(ev.some((e) => e.type === 'log' && `[${String(e.tag)}] ${String(e.message)}` === l), `missing ${l}\n${r.stdout}`);
    assert.deepEqual(calls(a.dir, 'crictl'), crictlBefore, 'reset ran no crictl');
    assert.deepEqual(calls(a.dir, 'umount'), [], 'reset ran no umount');
    const result = ev.find((e) => e.type === 'result')?.data as {
      removed: string[];
      left: string[];
      manualCleanup: string[];
      podSandboxes: { removed: string[]; notDone: string | null };
      mounts: { unmounted: string[]; notDone: string | null };
    };
    assert.match(result.podSandboxes.notDone ?? '', /under --root/);
    assert.deepEqual(result.podSandboxes.removed, []);
    assert.match(result.mounts.notDone ?? '', /under --root/);
    assert.ok(result.removed.includes('/etc/cni/net.d/10-kubeboot.conflist'));
    assert.deepEqual(result.left, ['/etc/cni/net.d/99-user.conflist']);
    assert.match(result.manualCleanup[0] ?? '', /^other CNI configuration in \/etc\/cni\/net\.d/);
    assert.deepEqual(tree(a.root), ['etc/cni/net.d/99-user.conflist']);
    assert.ok(existsSync(path.join(a.root, 'etc/cni/net.d')), 'the directory stays: the ledger does not record directories');
  });
});

/** Whether this machine can give a test a private mount namespace with overlays (root, unshare, overlayfs). */
function namespaceProbe(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (a private mount namespace)';
  const probe = path.join(dir, 'probe');
  mkdirSync(path.join(probe, 'u'), { recursive: true });
  mkdirSync(path.join(probe, 'w'), { recursive: true });
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', `mount -t overlay overlay -o lowerdir=/etc,upperdir=${probe}/u,workdir=${probe}/w /etc`], { encoding: 'utf8' });
  if (r.error) return `unshare did not run (${r.error.message})`;
  if (r.status !== 0) return `no private mount namespace with an overlay here (${(r.stderr || '').trim() || `exit ${r.status}`})`;
  return undefined;
}

function skipOrFail(t: TestContext, why: string): void {
  if (process.env.CI) throw new Error(`CI must run this test but it ${why}`);
  t.skip(`skipped: ${why}`);
}

describe('reset on the host, in a private mount namespace', () => {
  it('--dry-run lists the crictl and umount commands; reset removes every pod sandbox and unmounts under the kubelet directory, deepest first', async (t) => {
    const dir = tempDir(t, 'kubeboot-resetns-');
    const why = namespaceProbe(dir);
    if (why) return skipOrFail(t, why);
    const hostHad = { etc: existsSync('/etc/kubernetes'), other: existsSync('/var/lib/kubelet-other') };
    const ports = await randomPorts();
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, configText(ports));
    // the container runtime as the shim serves it: two pods of this node's kubelet, one container each
    const sandbox = (n: number, name: string): CriSandbox => ({ id: String(n).repeat(64), name, namespace: 'kube-system', uid: `uid-${n}`, state: 'SANDBOX_READY', createdAt: `${n}000` });
    const container = (n: number, pod: string): CriContainer => ({ id: `c${n}`.padEnd(64, '0'), podName: pod, name: pod, state: 'CONTAINER_RUNNING', attempt: 0, createdAt: `${n}000`, exitCode: undefined, logs: [] });
    const state = path.join(dir, 'cri-state.json');
    writeFileSync(state, JSON.stringify({ runtimeEndpoint: CRI_SOCKET, sandboxes: [sandbox(1, 'etcd-kb-e2e'), sandbox(2, 'kube-apiserver-kb-e2e')], containers: [container(1, 'etcd-kb-e2e'), container(2, 'kube-apiserver-kb-e2e')] }));
    const bin = recorders(dir, ['systemctl']);
    writeFileSync(path.join(bin, 'crictl'), `#!/bin/sh\nexec "${process.execPath}" "${SHIM}" "$@"\n`);
    chmodSync(path.join(bin, 'crictl'), 0o755);
    const out = (name: string) => path.join(dir, name);
    const kubelet = '/var/lib/kubelet';
    const vol = `${kubelet}/pods/uid-2/volumes`;
    const script = [
      'set -e',
      `for d in etc var; do mkdir -p "${dir}/$d-up" "${dir}/$d-work"; done`,
      // every write of this test lands in the temp directory: /etc and /var/lib are overlays in this namespace only
      `mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/etc-up,workdir=${dir}/etc-work /etc`,
      `mount -t overlay overlay -o lowerdir=/var/lib,upperdir=${dir}/var-up,workdir=${dir}/var-work /var/lib`,
      // the kubelet directory is a mount point of its own (it must stay), and a mount beside it (it must stay too)
      `mkdir -p ${kubelet} /var/lib/kubelet-other/x && mount -t tmpfs kubelet-dir ${kubelet} && mount -t tmpfs beside /var/lib/kubelet-other/x`,
      `"${process.execPath}" "${CLI}" init --config "${config}" --skip-phases "wait-control-plane,${AFTER_WAIT}" --ignore-preflight-errors all > "${out('init.out')}" 2>&1`,
      // the pods' volumes, as the kubelet mounts them: a projected token, a secret with a subPath bind inside, an emptyDir with a space
      `mkdir -p "${vol}/kubernetes.io~projected/token" "${vol}/kubernetes.io~secret/certs" "${vol}/kubernetes.io~empty-dir/scratch space" ${kubelet}/pods/uid-2/volume-subpaths/certs/kube-apiserver/0`,
      `mount -t tmpfs vol-token "${vol}/kubernetes.io~projected/token"`,
      `mount -t tmpfs vol-secret "${vol}/kubernetes.io~secret/certs"`,
      `mkdir -p "${vol}/kubernetes.io~secret/certs/inner" && mount -t tmpfs vol-inner "${vol}/kubernetes.io~secret/certs/inner"`,
      `mount --bind "${vol}/kubernetes.io~secret/certs" ${kubelet}/pods/uid-2/volume-subpaths/certs/kube-apiserver/0`,
      `mount -t tmpfs vol-scratch "${vol}/kubernetes.io~empty-dir/scratch space"`,
      `cat /proc/mounts > "${out('mounts.before')}"`,
      `"${process.execPath}" "${CLI}" reset --dry-run > "${out('dry.out')}" 2>&1`,
      `cat /proc/mounts > "${out('mounts.dry')}"`,
      `"${process.execPath}" "${CLI}" reset --force > "${out('reset.out')}" 2> "${out('reset.err')}" || echo "exit $?" > "${out('reset.code')}"`,
      `cat /proc/mounts > "${out('mounts.after')}"`,
      `crictl --runtime-endpoint ${CRI_SOCKET} pods -q > "${out('pods.after')}"`,
      `find /etc/kubernetes ${kubelet} -type f | sort > "${out('files.after')}"`,
    ].join('\n');
    const env = { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: dir, KUBEBOOT_DOUBLE_CRI_STATE: state };
    const ns = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script], { env, encoding: 'utf8', timeout: 120_000 });
    const read = (f: string) => (existsSync(out(f)) ? readFileSync(out(f), 'utf8') : `(no ${f})`);
    const context = () => `ns exit ${ns.status}\n${ns.stderr}\n--- init\n${read('init.out')}\n--- dry\n${read('dry.out')}\n--- reset\n${read('reset.out')}\n${read('reset.err')}`;
    assert.equal(ns.status, 0, context());
    assert.equal(existsSync(out('reset.code')), false, context());
    const under = (f: string) =>
      readFileSync(out(f), 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith('/var/lib/kubelet'));
    const podMounts = [
      `${kubelet}/pods/uid-2/volume-subpaths/certs/kube-apiserver/0`,
      `${vol}/kubernetes.io~secret/certs/inner`,
      `${vol}/kubernetes.io~empty-dir/scratch\\040space`,
      `${vol}/kubernetes.io~projected/token`,
      `${vol}/kubernetes.io~secret/certs`,
    ];
    assert.deepEqual(under('mounts.before').sort(), [kubelet, '/var/lib/kubelet-other/x', ...podMounts].sort(), read('mounts.before'));

    // --dry-run: the commands are listed, none is run
    const dry = read('dry.out');
    assert.deepEqual(under('mounts.dry'), under('mounts.before'), '--dry-run unmounted nothing');
    const s = (n: number) => String(n).repeat(64);
    const expected = [
      `Would run: systemctl stop kubelet`,
      `Would run: crictl --runtime-endpoint ${CRI_SOCKET} stopp ${s(1)}`,
      `Would run: crictl --runtime-endpoint ${CRI_SOCKET} rmp ${s(1)}`,
      `Would run: crictl --runtime-endpoint ${CRI_SOCKET} stopp ${s(2)}`,
      `Would run: crictl --runtime-endpoint ${CRI_SOCKET} rmp ${s(2)}`,
      // deepest first: 9 path components (the subPath bind, then the mount inside the secret), then 8
      `Would run: umount ${kubelet}/pods/uid-2/volume-subpaths/certs/kube-apiserver/0`,
      `Would run: umount ${vol}/kubernetes.io~secret/certs/inner`,
      `Would run: umount ${vol}/kubernetes.io~empty-dir/scratch space`,
      `Would run: umount ${vol}/kubernetes.io~secret/certs`,
      `Would run: umount ${vol}/kubernetes.io~projected/token`,
    ];
    assert.deepEqual(dry.split('\n').filter((l) => l.startsWith('[reset] Would run: ')).map((l) => l.slice('[reset] '.length)), expected, dry);
    assert.ok(dry.includes(`[reset] Would stop and remove pod sandbox kube-system/etcd-kb-e2e (${s(1).slice(0, 13)})`), dry);
    assert.ok(dry.includes(`[reset] Would unmount 5 mount(s) in "${kubelet}"`), dry);

    // reset: the sandboxes are gone, nothing is mounted under the directory but the directory itself, the files went
    const text = read('reset.out');
    assert.equal(read('pods.after'), '', 'crictl pods -q lists nothing');
    const cri = JSON.parse(readFileSync(state, 'utf8')) as { sandboxes: unknown[]; containers: unknown[] };
    assert.deepEqual([cri.sandboxes, cri.containers], [[], []]);
    assert.deepEqual(under('mounts.after').sort(), [kubelet, '/var/lib/kubelet-other/x'].sort(), read('mounts.after'));
    const order = [
      '[reset] Stopping the kubelet service',
      `[reset] Removing Kubernetes-managed containers (the pod sandboxes of ${CRI_SOCKET}, with crictl)`,
      `[reset] Stopped and removed pod sandbox kube-system/etcd-kb-e2e (${s(1).slice(0, 13)})`,
      `[reset] Stopped and removed pod sandbox kube-system/kube-apiserver-kb-e2e (${s(2).slice(0, 13)})`,
      `[reset] Unmounting mounted directories in "${kubelet}"`,
      `[reset] Unmounted "${kubelet}/pods/uid-2/volume-subpaths/certs/kube-apiserver/0" (tmpfs)`,
      `[reset] Unmounted "${vol}/kubernetes.io~secret/certs/inner" (tmpfs)`,
      `[reset] Unmounted "${vol}/kubernetes.io~empty-dir/scratch space" (tmpfs)`,
      `[reset] Unmounted "${vol}/kubernetes.io~secret/certs" (tmpfs)`,
      `[reset] Unmounted "${vol}/kubernetes.io~projected/token" (tmpfs)`,
      '[reset] Deleting files: [',
      '[reset] Removed kubeboot\'s state directory "/etc/kubernetes/kubeboot"',
    ];
    let at = -1;
    for (const line of order) {
      const i = text.indexOf(line, at + 1);
      assert.ok(i > at, `"${line}" comes next\n${text}`);
      at = i;
    }
    assert.equal(read('reset.err').trim(), '', 'no warnings');
    assert.deepEqual(calls(dir, 'systemctl').filter((c) => c === 'stop kubelet'), ['stop kubelet']);
    // no file is left (kubeboot's went; the kubelet's pods/ directory, now empty of mounts, stays and is listed)
    assert.equal(read('files.after'), '');
    assert.match(text, /^\[reset\] Left 1 file\(s\) kubeboot did not create:\n\t\/var\/lib\/kubelet\/pods\/$/m);
    // the machine's own directories saw none of it
    assert.deepEqual({ etc: existsSync('/etc/kubernetes'), other: existsSync('/var/lib/kubelet-other') }, hostHad);
  });
});
