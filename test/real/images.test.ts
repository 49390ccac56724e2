/**
 * The images that test/real/images.mjs makes: byte-for-byte reproducible, named for containerd as kubeadm names them,
 * and runnable: on a test node (containerd + runc, no kubelet) each image's binary runs from its upstream path, pause
 * and probe run from their entrypoints, and kube-proxy's image carries working iptables (nft backend), nft and
 * conntrack. Skipped, naming build.sh, when the components are not built; a failure under CI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/paths.js';
import { imageFor, requireRealTier } from './components.js';
import { RealNode, type ExecResult } from './node.js';

const IMAGES_MJS = path.join(REPO_ROOT, 'test', 'real', 'images.mjs');
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('the images of the real tier', { timeout: 15 * 60_000 }, () => {
  it('are reproducible, carry kubeadm\'s names, and run on a test node', async (t) => {
    const c = requireRealTier(t);
    if (!c) return;

    await t.test('two builds of pause and probe are byte for byte the same, with the name annotations containerd reads', () => {
      const refs = [imageFor(c, 'pause'), 'kubeboot.test/probe:latest'];
      const outs = [0, 1].map(() => mkdtempSync(path.join(tmpdir(), 'kubeboot-images-')));
      t.after(() => outs.forEach((o) => rmSync(o, { recursive: true, force: true })));
      for (const out of outs) execFileSync(process.execPath, [IMAGES_MJS, '--bin', c.bin, '--out', out, '--kube-proxy-tools', 'none', ...refs], { stdio: 'pipe' });
      for (const ref of refs) {
        const file = `${ref.replace(/[/:]/g, '_')}.tar`;
        const [a, b] = outs.map((o) => path.join(o, file)) as [string, string];
        assert.equal(sha(a), sha(b), `${ref}: same bytes`);
        const index = JSON.parse(execFileSync('tar', ['-xOf', a, 'index.json'], { encoding: 'utf8' })) as {
          manifests: { annotations: Record<string, string> }[];
        };
        assert.equal(index.manifests[0]?.annotations['io.containerd.image.name'], ref);
        assert.equal(index.manifests[0]?.annotations['org.opencontainers.image.ref.name'], ref.split(':').pop());
        const listing = execFileSync('tar', ['-tvf', a], { encoding: 'utf8' });
        for (const line of listing.trim().split('\n')) assert.match(line, / 0\/0 .* 1970-01-01 00:00 /, `owner root, mtime 0: ${line}`);
      }
    });

    const all = [...c.images.keys()].sort();
    const node = await RealNode.start(c, { name: 'kb-images', images: all });
    t.after(() => node.stop());
    t.diagnostic(`node start ${node.timings.startMs} ms, ${all.length} images imported in ${node.timings.importMs} ms`);
    const show = (r: ExecResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
    let n = 0;
    /** ctr run --rm: one container from the image, in the node's network namespace */
    const run = async (ref: string, args: string[], flags: string[] = []): Promise<ExecResult> =>
      node.exec('ctr', ['--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', 'run', '--rm', '--net-host', ...flags, ref, `t${n++}`, ...args], { timeoutMs: 120_000 });

    await t.test('the CRI lists every image under its name', async () => {
      const r = await node.crictl(['images', '-o', 'json']);
      assert.equal(r.code, 0, show(r));
      const tags = new Set((JSON.parse(r.stdout) as { images: { repoTags: string[] }[] }).images.flatMap((i) => i.repoTags));
      for (const ref of all) assert.ok(tags.has(ref), `${ref} in ${[...tags].join(', ')}`);
    });

    await t.test('the control-plane binaries run from their upstream paths with the version kubeadm expects', async () => {
      for (const comp of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) {
        const r = await run(imageFor(c, comp), [comp, '--version']);
        assert.equal(r.code, 0, show(r));
        assert.equal(r.stdout.trim(), `Kubernetes ${c.version}`);
      }
      const etcd = imageFor(c, 'etcd');
      const e = await run(etcd, ['/usr/local/bin/etcd', '--version']);
      assert.equal(e.code, 0, show(e));
      assert.match(e.stdout, /^etcd Version: 3\.6\.\d+$/m);
      const ctl = await run(etcd, ['etcdctl', 'version']);
      assert.equal(ctl.code, 0, show(ctl));
      assert.match(ctl.stdout, /^etcdctl version: 3\.6\.\d+$/m);
      const dns = await run(imageFor(c, 'coredns'), ['/coredns', '-version']);
      assert.equal(dns.code, 0, show(dns));
      assert.match(dns.stdout, /CoreDNS-1\.14\.\d+/);
    });

    await t.test('kube-proxy\'s image: iptables (nf_tables), nft and conntrack work in the node\'s network namespace', async () => {
      const proxy = imageFor(c, 'kube-proxy');
      const v = await run(proxy, ['iptables', '--version']);
      assert.equal(v.code, 0, show(v));
      assert.match(v.stdout, /^iptables v1\.8\.\d+ \(nf_tables\)/);
      for (const tool of ['ip6tables-save', 'iptables-restore', 'ip6tables-restore']) {
        const r = await run(proxy, [tool, '--version']);
        assert.equal(r.code, 0, `${tool}: ${show(r)}`);
      }
      const rule = await run(proxy, ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-p', 'tcp', '-s', '203.0.113.0/24', '-j', 'MASQUERADE'], ['--privileged']);
      assert.equal(rule.code, 0, show(rule));
      const saved = await run(proxy, ['iptables-save', '-t', 'nat'], ['--privileged']);
      assert.equal(saved.code, 0, show(saved));
      assert.match(saved.stdout, /-A POSTROUTING -s 203\.0\.113\.0\/24 -p tcp -j MASQUERADE/);
      const nft = await run(proxy, ['nft', 'list', 'ruleset'], ['--privileged']);
      assert.equal(nft.code, 0, show(nft));
      assert.match(nft.stdout, /table ip nat/);
      const ct = await run(proxy, ['conntrack', '-L'], ['--privileged']);
      assert.equal(ct.code, 0, show(ct));
      assert.match(ct.stderr, /flow entries have been shown/);
    });

    await t.test('pause and probe run from their entrypoints', async () => {
      const pause = imageFor(c, 'pause');
      const started = await node.exec('ctr', ['--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', 'run', '-d', '--net-host', pause, 'pause-1']);
      assert.equal(started.code, 0, show(started));
      const probe = await node.exec('ctr', ['--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', 'run', '-d', '--net-host', 'kubeboot.test/probe:latest', 'probe-1']);
      assert.equal(probe.code, 0, show(probe));
      let answer = '';
      for (let i = 0; i < 50 && !answer.startsWith('ok '); i++) {
        const r = await node.exec('bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && tail -n 1 <&3']);
        answer = r.stdout.trim();
        if (!answer.startsWith('ok ')) await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(answer, 'ok kb-images', 'the probe answers with the node\'s hostname (host network)');
      const tasks = await node.exec('ctr', ['--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', 'tasks', 'ls']);
      assert.match(tasks.stdout, /^pause-1\s+\d+\s+RUNNING$/m, show(tasks));
      // pause ends on SIGTERM, with status 0
      const kill = await node.exec('ctr', ['--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGTERM', 'pause-1']);
      assert.equal(kill.code, 0, show(kill));
      let status = '';
      for (let i = 0; i < 50 && !/STOPPED/.test(status); i++) {
        status = (await node.exec('ctr', ['--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', 'tasks', 'ls'])).stdout;
        if (!/pause-1\s+\d+\s+STOPPED/.test(status)) await new Promise((res) => setTimeout(res, 100));
      }
      assert.match(status, /^pause-1\s+\d+\s+STOPPED$/m);
    });
  });
});
