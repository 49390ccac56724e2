#!/usr/bin/env node
// `kubeboot regenerate kube-apiserver` with nothing to change, against `kubeboot --help` (medians, interleaved runs).
//   node bench/regenerate.mjs [--dist DIR] [--runs N]
// The node is a temp --root set up by `init --skip-phases kubelet-start,wait-control-plane` (no kubelet needed: the
// no-change path reads and validates the recorded configuration, renders one manifest, compares bytes and exits).
// A figure, not a target: there is no cache; a no-op costs what a full render costs.
// Also lists which packages the no-change path loads (it must not load diff or listr2), and, for scale, what
// `node -e 0` and importing zod alone cost (zod parses the recorded configuration).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
let dist = 'dist';
let runs = Number(process.env.BENCH_RUNS ?? 21);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--dist') dist = args[++i];
  else if (args[i] === '--runs') runs = Number(args[++i]);
}
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(path.resolve(repo, dist), 'src', 'cli', 'main.js');
const dir = mkdtempSync(path.join(tmpdir(), 'kubeboot-bench-regen-'));
const root = path.join(dir, 'root');
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
try {
  // the files only: no kubelet and no API server here, so the phases from kubelet-start on are skipped (an older
  // build, compared with --dist, may not know the later phases' names: then without them)
  const initWith = (skip) =>
    spawnSync(process.execPath, [cli, 'init', '--root', root, '--skip-phases', skip, '--ignore-preflight-errors', 'all', '--apiserver-advertise-address', '127.0.0.1', '--node-name', 'bench'], {
      env,
      encoding: 'utf8',
    });
  let init = initWith('kubelet-start,wait-control-plane,upload-config,upload-certs,mark-control-plane,bootstrap-token,kubelet-finalize,addon,show-join-command');
  if (init.status === 3 && /invalid phase name/.test(init.stderr)) init = initWith('kubelet-start,wait-control-plane');
  if (init.status !== 0) throw new Error(`init failed (${init.status}):\n${init.stdout}\n${init.stderr}`);

  const cases = {
    'node -e 0': ['-e', '0'],
    'import zod (alone)': ['--input-type=module', '-e', "await import('zod')"],
    'kubeboot --help': [cli, '--help'],
    'regenerate (no change)': [cli, 'regenerate', 'kube-apiserver', '--root', root],
  };
  // the run must find nothing to change
  const fill = spawnSync(process.execPath, [...cases['regenerate (no change)'], '--output', 'json'], { env, encoding: 'utf8' });
  if (fill.status !== 0) throw new Error(`regenerate exited ${fill.status}:\n${fill.stdout}\n${fill.stderr}`);
  const resultOf = (stdout) => stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'result');
  const first = resultOf(fill.stdout);
  if (first?.data?.changed !== false) throw new Error(`regenerate did not find the manifest up to date:\n${fill.stdout}`);
  // which packages the no-change path loads (Node's ESM loader debug log names every module it loads)
  const probe = spawnSync(process.execPath, cases['regenerate (no change)'], { env: { ...env, NODE_DEBUG: 'esm' }, encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`regenerate exited ${probe.status}:\n${probe.stdout}\n${probe.stderr}`);
  if (!/is up to date; nothing to do/.test(probe.stdout)) throw new Error(`regenerate found a change:\n${probe.stdout}`);
  const loaded = [...new Set([...probe.stderr.matchAll(/node_modules\/((?:@[^/]+\/)?[\w.-]+)\//g)].map((m) => m[1]))].sort().join(', ');

  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, argv] of Object.entries(cases)) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, argv, { env, stdio: 'ignore', cwd: repo });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
      times[name].push(ms);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(times['kubeboot --help']);
  console.log(`regenerate, nothing to change (${runs} interleaved runs each, median):`);
  for (const [name, xs] of Object.entries(times)) {
    const m = median(xs);
    console.log(`  ${name.padEnd(24)} ${m.toFixed(1).padStart(7)} ms   ${(m / base).toFixed(2)}x kubeboot --help`);
  }
  const ratio = median(times['regenerate (no change)']) / base;
  console.log(`  packages loaded by the no-change path: ${loaded}`);
  console.log(`  regenerate (no change) / kubeboot --help: ${ratio.toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
