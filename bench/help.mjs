// `kubeboot --help` and `kubeboot init --help` start-up time against `node -e 0` (medians, interleaved runs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// --dist DIR: another build (e.g. an older commit's, to compare)
const distArg = process.argv.indexOf('--dist');
const cli = path.join(distArg > 0 ? path.resolve(process.argv[distArg + 1]) : path.join(root, 'dist'), 'src', 'cli', 'main.js');
const runs = Number(process.env.BENCH_RUNS ?? 21);
const cases = {
  'node -e 0': ['-e', '0'],
  'kubeboot --help': [cli, '--help'],
  'kubeboot init --help': [cli, 'init', '--help'],
};
// A minimal environment, as the other benchmarks use: variables such as NODE_EXTRA_CA_CERTS add ~50 ms to every
// node start and would hide kubeboot's own cost.
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore', env });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    times[name].push(ms);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times['node -e 0']);
console.log(`startup (${runs} runs each, median):`);
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(`  ${name.padEnd(24)} ${m.toFixed(1).padStart(7)} ms   ${(m / base).toFixed(2)}x node -e 0   (+${(m - base).toFixed(1)} ms)`);
}
