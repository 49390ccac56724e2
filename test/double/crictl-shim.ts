#!/usr/bin/env node
/**
 * A `crictl` stand-in for tests (there is no crictl package in Debian): answers `ps -a [--name N] -o json` and
 * `logs [--tail N] ID` from the CRI view the test double writes (env KUBEBOOT_DOUBLE_CRI_STATE). It insists on
 * `--runtime-endpoint <socket>` matching the double's, as a real crictl needs the right socket.
 * A test puts a `crictl` wrapper that runs this file first on PATH.
 */
import { readFileSync } from 'node:fs';
import type { CriContainer } from './double.js';

const argv = process.argv.slice(2);
const stateFile = process.env.KUBEBOOT_DOUBLE_CRI_STATE ?? '';
let state: { runtimeEndpoint: string | null; containers: CriContainer[] };
try {
  state = JSON.parse(readFileSync(stateFile, 'utf8'));
} catch {
  process.stderr.write(`crictl (test double): no runtime state at "${stateFile}"\n`);
  process.exit(1);
}
let endpoint: string | undefined;
const rest: string[] = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i] as string;
  if (a === '--runtime-endpoint' || a === '-r') endpoint = argv[++i];
  else if (a.startsWith('--runtime-endpoint=')) endpoint = a.slice('--runtime-endpoint='.length);
  else rest.push(a);
}
if (state.runtimeEndpoint && endpoint !== state.runtimeEndpoint) {
  process.stderr.write(`crictl (test double): validate service connection: cannot connect to "${endpoint ?? 'the default endpoints'}"\n`);
  process.exit(1);
}
const opt = (name: string) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const cmd = rest[0];
if (cmd === 'ps') {
  const name = opt('--name');
  const all = rest.includes('-a') || rest.includes('--all');
  const list = state.containers
    .filter((c) => (name === undefined || new RegExp(name).test(c.name)) && (all || c.state === 'CONTAINER_RUNNING'))
    .map((c) => ({
      id: c.id,
      podSandboxId: c.podName,
      metadata: { name: c.name, attempt: c.attempt },
      state: c.state,
      createdAt: c.createdAt,
      labels: { 'io.kubernetes.pod.name': c.podName, 'io.kubernetes.pod.namespace': 'kube-system' },
    }));
  if (opt('-o') === 'json' || opt('--output') === 'json') process.stdout.write(`${JSON.stringify({ containers: list }, null, 2)}\n`);
  else for (const c of list) process.stdout.write(`${c.id.slice(0, 13)}  ${c.state}  ${c.metadata.name}  ${c.metadata.attempt}  ${c.podSandboxId}\n`);
  process.exit(0);
}
if (cmd === 'logs') {
  const tail = Number(opt('--tail') ?? -1);
  const id = rest[rest.length - 1] ?? '';
  const c = state.containers.find((x) => x.id.startsWith(id));
  if (!c || id === '') {
    process.stderr.write(`crictl (test double): container "${id}" not found\n`);
    process.exit(1);
  }
  const lines = tail >= 0 ? c.logs.slice(-tail) : c.logs;
  // components log to stderr
  process.stderr.write(lines.map((l) => `${l}\n`).join(''));
  process.exit(0);
}
process.stderr.write(`crictl (test double): unsupported command ${rest.join(' ')}\n`);
process.exit(1);
