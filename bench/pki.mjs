#!/usr/bin/env node
// PKI speed: `init phase certs all` + `init phase kubeconfig all` through the built CLI into a fresh temp
// --root, against the same number of openssl key generations (`openssl genrsa 2048`, or `openssl ecparam
// -genkey -name prime256v1` for ECDSA-P256) run two at a time (the machine's cores), measured in the same run.
// Prints both medians and the ratio for each algorithm (target: ≤ 1.3×), and ECDSA-P256 against RSA-2048.
//   node bench/pki.mjs [--dist DIR] [--runs N]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
let dist = 'dist';
let runs = 5;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--dist') dist = args[++i];
  else if (args[i] === '--runs') runs = Number(args[++i]);
}
const CLI = resolve(dist, 'src', 'cli', 'main.js');
// 10 certificates + sa + 5 kubeconfig client certificates: one RSA key each
const KEYS = 16;
const PARALLEL = Math.max(1, Math.min(2, cpus().length));

function run(cmd, argv) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', rej);
    child.on('close', (code) => (code === 0 ? res() : rej(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${err}`))));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const work = mkdtempSync(join(tmpdir(), 'kubeboot-bench-pki-'));
const configText = (algorithm) => `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: bench-node
  criSocket: unix:///var/run/containerd/containerd.sock
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
encryptionAlgorithm: ${algorithm}
`;
const ALGORITHMS = {
  'RSA-2048': ['genrsa', '-out', 'OUT', '2048'],
  'ECDSA-P256': ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', 'OUT'],
};

async function kubeboot(config, i) {
  const root = join(work, `root-${i}`);
  const t0 = performance.now();
  await run(process.execPath, [CLI, 'init', 'phase', 'certs', 'all', '--root', root, '--config', config]);
  await run(process.execPath, [CLI, 'init', 'phase', 'kubeconfig', 'all', '--root', root, '--config', config]);
  const ms = performance.now() - t0;
  rmSync(root, { recursive: true, force: true });
  return ms;
}

async function openssl(argv, i) {
  const dir = join(work, `openssl-${i}`);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < KEYS) {
      const n = next++;
      await run('openssl', argv.map((a) => (a === 'OUT' ? join(dir, `k${n}.key`) : a)));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const ms = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

try {
  const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
  const medians = {};
  for (const [algorithm, argv] of Object.entries(ALGORITHMS)) {
    const config = join(work, `${algorithm}.yaml`);
    writeFileSync(config, configText(algorithm));
    const a = [];
    const b = [];
    await kubeboot(config, 'warmup');
    for (let i = 0; i < runs; i++) {
      // interleave so that machine noise hits both sides alike
      a.push(await kubeboot(config, i));
      b.push(await openssl(argv, i));
    }
    const ma = median(a);
    const mb = median(b);
    medians[algorithm] = ma;
    console.log(`kubeboot certs all + kubeconfig all (${KEYS} ${algorithm} keys, 2 processes): median ${ma.toFixed(0)} ms  [${fmt(a)}]`);
    console.log(`openssl ${argv[0]} (${algorithm}) × ${KEYS}, ${PARALLEL} at a time:          median ${mb.toFixed(0)} ms  [${fmt(b)}]`);
    console.log(`ratio kubeboot / openssl (${algorithm}): ${(ma / mb).toFixed(2)}× (target ≤ 1.30×), ${runs} runs, ${cpus().length} cores`);
  }
  console.log(`ECDSA-P256 / RSA-2048 (kubeboot): ${(medians['ECDSA-P256'] / medians['RSA-2048']).toFixed(2)}×`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
