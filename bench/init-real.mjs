#!/usr/bin/env node
// kubeboot init against kubeadm init, side by side on the same real test node (test/real: containerd, runc, the
// kubelet and the control-plane images built by test/real/build.sh), in one run, alternating:
//   kubeadm init --config C   then kubeadm reset -f   (kubeadm waits for the kubelet and the components' health,
//                                                       then uploads its configuration, marks the node, makes the
//                                                       bootstrap token and the addons' objects)
//   kubeboot init --config C  then kubeboot reset -f  (the same phases, and it waits for the mirror pods Ready)
// Two figures per run, from the command's start:
//   - to the four mirror pods Ready (issue 13's measure): the latest Ready condition's lastTransitionTime of the
//     etcd, kube-apiserver, kube-controller-manager and kube-scheduler mirror pods, read once the command has
//     exited and the four are Ready. The kubelet stamps it in whole seconds, so the figure is that second + 0.5 s
//     (±0.5 s), the same for both tools;
//   - to the command's exit (kubeadm exits before its pods are Ready; kubeboot after);
//   and, to explain them, when the last of the four pods' containers started.
// And kubeboot's own time: init --output json's timings.ownMs, the process's whole life less the time it waited on the
// node (the kubelet, the pods, the API server, retry pauses) or on key generation (bench/pki.mjs compares that with
// openssl). Prints the medians and the ratio kubeboot / kubeadm (issue 13's targets: ≤ 0.8×, own time ≤ 1 s).
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
const MIRROR_PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => `${c}-${NODE}`);
/**
 * From the kubelet's own stamps, in ms from `start` (epoch ms): the last of the four mirror pods turning Ready, and the
 * last of their containers starting (whole seconds, so each figure is that second + 0.5 s)
 */
const readyAfter = (start) =>
  node.until('the four mirror pods Ready', 180_000, async () => {
    const list = await node.kubectlJson(['get', 'pods', '-n', 'kube-system']);
    const pods = MIRROR_PODS.map((name) => list.items.find((p) => p.metadata.name === name));
    const ready = pods.map((pod) => pod?.status?.conditions?.find((c) => c.type === 'Ready'));
    if (!ready.every((c) => c?.status === 'True')) return undefined;
    const started = pods.map((pod) => Date.parse(pod.status.containerStatuses?.[0]?.state?.running?.startedAt ?? ''));
    return { readyMs: Math.max(...ready.map((c) => Date.parse(c.lastTransitionTime))) + 500 - start, startedMs: Math.max(...started) + 500 - start };
  });
const timed = async (what, cmd, argv) => {
  const start = Date.now();
  const r = cmd === 'kubeboot' ? await node.kubeboot(argv, { timeoutMs: 600_000 }) : await node.exec(cmd, argv, { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}\n${node.diagnostics(30)}`);
  return { start, exitMs: r.durationMs, stdout: r.stdout };
};
const BEFORE_WAIT = ['preflight', 'certs', 'kubeconfig', 'etcd', 'control-plane', 'kubelet-start'];
const AFTER_WAIT = ['upload-config', 'upload-certs', 'mark-control-plane', 'bootstrap-token', 'kubelet-finalize', 'addon', 'show-join-command'];
const initRun = async (tool) => {
  const r = tool === 'kubeboot' ? await timed('kubeboot init', 'kubeboot', ['init', '--config', config, '--output', 'json']) : await timed('kubeadm init', join(c.bin, 'kubeadm'), ['init', '--config', config]);
  const { readyMs, startedMs } = await readyAfter(r.start);
  if (tool !== 'kubeboot') return { exitMs: r.exitMs, readyMs, startedMs };
  const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const ownMs = events.find((e) => e.type === 'result')?.data?.timings?.ownMs;
  if (typeof ownMs !== 'number') throw new Error('kubeboot init --output json printed no timings.ownMs');
  // the top-level phases' durations before and after the wait (the latter are API requests and a kubelet restart)
  // (a phase with sub-phases reports its own run and each sub-phase's: all are summed)
  const within = (names, phase) => names.some((n) => phase === n || phase.startsWith(`${n}/`));
  const phaseMs = (names) => events.filter((e) => e.type === 'phase' && e.status === 'finished' && within(names, e.phase)).reduce((a, e) => a + e.durationMs, 0);
  // restarts kubeboot's wait saw (to explain an outlier)
  const restarts = events.filter((e) => e.type === 'wait' && e.data?.event === 'container-restarted').map((e) => e.message);
  const phases = Object.fromEntries(events.filter((e) => e.type === 'phase' && e.status === 'finished').map((e) => [e.phase, e.durationMs]));
  return { exitMs: r.exitMs, readyMs, startedMs, ownMs, beforeWaitMs: phaseMs(BEFORE_WAIT), afterWaitMs: phaseMs(AFTER_WAIT), phases, restarts };
};
try {
  const runsOf = { kubeadm: [], kubeboot: [] };
  for (let i = 0; i < runs; i++) {
    for (const tool of ['kubeadm', 'kubeboot']) {
      const r = await initRun(tool);
      runsOf[tool].push(r);
      const own = r.ownMs !== undefined ? `; own time ${r.ownMs} ms; phases before the wait ${r.beforeWaitMs} ms, after it ${r.afterWaitMs} ms` : '';
      console.log(`run ${i + 1} ${tool}: containers started after ${(r.startedMs / 1000).toFixed(1)} s, mirror pods Ready after ${(r.readyMs / 1000).toFixed(1)} s, exit after ${(r.exitMs / 1000).toFixed(1)} s${own}`);
      for (const m of r.restarts ?? []) console.log(`  kubeboot's wait saw: ${m}`);
      await timed(`${tool} reset`, tool === 'kubeboot' ? 'kubeboot' : join(c.bin, 'kubeadm'), ['reset', '-f']);
    }
  }
  const s = (xs) => `median ${(median(xs) / 1000).toFixed(1)} s  [${xs.map((x) => (x / 1000).toFixed(1)).join(' ')}]`;
  const col = (tool, k) => runsOf[tool].map((r) => r[k]);
  for (const tool of ['kubeadm', 'kubeboot']) {
    console.log(`${tool} init: to four mirror pods Ready ${s(col(tool, 'readyMs'))}; to exit ${s(col(tool, 'exitMs'))}; to the last container started ${s(col(tool, 'startedMs'))}`);
  }
  const ratio = median(col('kubeboot', 'readyMs')) / median(col('kubeadm', 'readyMs'));
  const exitRatio = median(col('kubeboot', 'exitMs')) / median(col('kubeadm', 'exitMs'));
  console.log(`ratio kubeboot / kubeadm to four mirror pods Ready: ${ratio.toFixed(2)}× (target ≤ 0.80×); to exit: ${exitRatio.toFixed(2)}×`);
  const own = col('kubeboot', 'ownMs');
  console.log(`kubeboot's own time (all but waiting on the node and on key generation): median ${median(own)} ms [${own.join(' ')}] (target ≤ 1000 ms)`);
  console.log(`  phases before the wait (preflight … kubelet-start): median ${median(col('kubeboot', 'beforeWaitMs'))} ms; after it (API objects, kubelet restart, addons): median ${median(col('kubeboot', 'afterWaitMs'))} ms`);
  // where kubeboot's time goes, phase by phase (medians; sub-phases indented under their phase)
  const names = Object.keys(runsOf.kubeboot[0]?.phases ?? {});
  console.log('  kubeboot phase durations (median ms):');
  for (const n of names) console.log(`    ${'  '.repeat(n.split('/').length - 1)}${n.padEnd(40)} ${String(Math.round(median(runsOf.kubeboot.map((r) => r.phases[n] ?? 0)))).padStart(6)}`);
  console.log(`${runs} runs each, alternating, Kubernetes ${c.version}`);
} finally {
  await node.stop();
  rmSync(work, { recursive: true, force: true });
}
