#!/usr/bin/env node
// Runs the compiled tests with Node's built-in runner.
//   node scripts/run-tests.mjs [--dist DIR] [--node PATH] [--tier all|portable] [substring …]
// Every *.test.js under DIR/test (default dist) runs, or only those whose path contains a substring.
//   --node PATH     run the tests (and so the CLI they spawn: process.execPath) with another node binary; the
//                   compiled JavaScript is the same
//   --tier portable leave out what needs a real node (test/real/) or root-only machinery (PORTABLE_EXCLUDED below);
//                   what CI runs on the other Node.js majors
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Test files that are not in the portable tier, and why. */
const PORTABLE_EXCLUDED = [
  // the real components: a kubelet, containerd and a real API server on this machine
  ['test/real/', 'runs the real Kubernetes components (the real-node tier)'],
  // kubeadm itself in a private mount namespace: needs root, unshare and a kubeadm build
  ['test/integration/kubeadm-patches.test.js', 'runs kubeadm as root in a private mount namespace'],
  // the kubeadm oracle: the same, for every configuration (its results do not depend on the Node.js version)
  ['test/oracle/oracle.test.js', 'runs kubeadm as root in private mount namespaces (the kubeadm oracle)'],
  ['test/oracle/init-dry-run.test.js', 'runs kubeadm as root in private mount namespaces (the kubeadm oracle)'],
  ['test/oracle/addons.test.js', 'runs kubeadm as root in private mount namespaces (the kubeadm oracle)'],
];

const args = process.argv.slice(2);
let dist = 'dist';
let node = process.execPath;
let tier = 'all';
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--dist') dist = args[++i];
  else if (args[i] === '--node') node = args[++i];
  else if (args[i] === '--tier') tier = args[++i];
  else filters.push(args[i]);
}
if (tier !== 'all' && tier !== 'portable') {
  console.error(`--tier: invalid value "${tier}": valid values are all, portable`);
  process.exit(2);
}
if (!node) {
  console.error('--node: give the path of a node binary');
  process.exit(2);
}
const version = spawnSync(node, ['--version'], { encoding: 'utf8' });
if (version.status !== 0) {
  console.error(`--node: cannot run "${node}": ${version.error?.message ?? version.stderr}`);
  process.exit(2);
}
function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const excluded = (f) => tier === 'portable' && PORTABLE_EXCLUDED.some(([p]) => relative(dist, f).startsWith(p));
const files = walk(join(dist, 'test'))
  .filter((f) => filters.length === 0 || filters.some((s) => relative(dist, f).includes(s)))
  .filter((f) => !excluded(f))
  .sort();
if (files.length === 0) {
  console.error(`no test files found under ${join(dist, 'test')}${filters.length ? ` matching ${filters.join(', ')}` : ''}${tier !== 'all' ? ` in the ${tier} tier` : ''}`);
  process.exit(1);
}
console.error(`node ${version.stdout.trim()} (${node}), tier ${tier}`);
console.error(`running ${files.length} test file(s): ${files.map((f) => relative(dist, f)).join(' ')}`);
const r = spawnSync(node, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
