#!/usr/bin/env node
// kubeboot init against kubeadm init, side by side on the same real test node (test/real: containerd, runc, the
// kubelet and the control-plane images built by test/real/build.sh), in one run, alternating:
//   kubeadm init --config C   then kubeadm reset -f   (kubeadm waits for the kubelet and the components' health,
//                                                       then uploads its configuration, marks the node, makes the
//                                                       bootstrap token and the addons' objects)
//   kubeboot init --config C  then kubeboot reset -f  (the same phases, and the mirror pods Ready)
// Each figure is the wall time of the init command, from start to exit, with every image already imported. Prints
// the medians and the ratio kubeboot / kubeadm (issue 13's target: ≤ 0.8×).
//   node bench/init-real.mjs [--runs N]        (root; the real tier's components; the build: npm run build)
// Skipped, with the command that builds them, when the components are missing.
import { resolve } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
let runs = 3;
for (let i = 0; i < args.length; i++) if (args[i] === '--runs') runs = Number(args[++i]);

const dist = resolve('dist', 'test', 'real');
const { findComponents, imageFor } = await import(join(dist, 'components.js'));
const { RealNode, nodeConfig } = await import(join(dist, 'node.js'));
const found = findComponents();
if (!found.ok) {
  console.log(`skipped: the real tier needs ${found.missing.join(', ')}; run \`bash test/real/build.sh\` (as root)`);
  process.exit(0);
}
if (process.getuid?.() !== 0) {
  console.log('skipped: the real test node needs root (namespaces, mounts)');
  process.exit(0);
}
const c = found.components;
const NODE = 'kb-bench';
const IP = '192.0.2.10';
const work = mkdtempSync(join(tmpdir(), 'kubeboot-bench-init-'));
const config = join(work, 'config.yaml');
writeFileSync(config, nodeConfig({ name: NODE, ip: IP, version: c.version, nodeRegistration: '  ignorePreflightErrors: [all]\n' }));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const images = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'pause', 'coredns', 'kube-proxy'].map((x) => imageFor(c, x));
const node = await RealNode.start(c, { name: NODE, ip: IP, images, log: () => {} });
const timed = async (what, cmd, argv) => {
  const r = cmd === 'kubeboot' ? await node.kubeboot(argv, { timeoutMs: 600_000 }) : await node.exec(cmd, argv, { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}\n${node.diagnostics(30)}`);
  return r.durationMs;
};
try {
  const kubeadm = [];
  const kubeboot = [];
  const kubeadmBin = join(c.bin, 'kubeadm');
  for (let i = 0; i < runs; i++) {
    kubeadm.push(await timed('kubeadm init', kubeadmBin, ['init', '--config', config]));
    await timed('kubeadm reset', kubeadmBin, ['reset', '-f']);
    kubeboot.push(await timed('kubeboot init', 'kubeboot', ['init', '--config', config]));
    await timed('kubeboot reset', 'kubeboot', ['reset', '-f']);
  }
  const fmt = (xs) => xs.map((x) => (x / 1000).toFixed(1)).join(' ');
  const a = median(kubeadm);
  const b = median(kubeboot);
  console.log(`kubeadm init (to exit):  median ${(a / 1000).toFixed(1)} s  [${fmt(kubeadm)}]`);
  console.log(`kubeboot init (to exit): median ${(b / 1000).toFixed(1)} s  [${fmt(kubeboot)}]`);
  console.log(`ratio kubeboot / kubeadm: ${(b / a).toFixed(2)}× (target ≤ 0.80×), ${runs} runs, Kubernetes ${c.version}`);
} finally {
  await node.stop();
  rmSync(work, { recursive: true, force: true });
}
