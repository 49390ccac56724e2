#!/usr/bin/env node
/**
 * A `crictl` stand-in for tests (there is no crictl package in Debian): answers `ps -a [--name N] -o json`,
 * `logs [--tail N] ID`, `pods [-q] [-o json]`, `stopp ID…` and `rmp [-f] [-a] [ID…]` from the CRI view in a JSON file
 * (env KUBEBOOT_DOUBLE_CRI_STATE) that the test double, or a test, writes. `stopp` and `rmp` change that file as a
 * runtime would (a stopped sandbox's containers exit; a removed sandbox takes its containers with it; `rmp` refuses a
 * ready sandbox without -f). With the double, its next write wins: its "kubelet" still runs the pods, as a real one
 * would recreate them. It insists on `--runtime-endpoint <socket>` matching the state's, as a real crictl needs the
 * right socket. With KUBEBOOT_CRICTL_CALLS set, every call's arguments are appended to that file (one line each).
 * A test puts a `crictl` wrapper that runs this file first on PATH.
 */
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { CriContainer, CriSandbox } from './double.js';

const argv = process.argv.slice(2);
if (process.env.KUBEBOOT_CRICTL_CALLS) appendFileSync(process.env.KUBEBOOT_CRICTL_CALLS, `${argv.join(' ')}\n`);
const stateFile = process.env.KUBEBOOT_DOUBLE_CRI_STATE ?? '';
let state: { runtimeEndpoint: string | null; containers: CriContainer[]; sandboxes?: CriSandbox[] };
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
const sandboxes = state.sandboxes ?? [];
const save = () => {
  const tmp = `${stateFile}.shim-${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, stateFile);
};
const fatal = (msg: string) => {
  process.stderr.write(`time="2026-01-01T00:00:00Z" level=fatal msg="${msg}"\n`);
  process.exit(1);
};
const byId = (id: string) => {
  const found = sandboxes.filter((p) => p.id.startsWith(id));
  if (id === '' || found.length !== 1) fatal(`getting sandbox status of pod "${id}": rpc error: code = NotFound desc = an error occurred when try to find sandbox: not found`);
  return found[0] as CriSandbox;
};
if (cmd === 'pods') {
  if (rest.includes('-q') || rest.includes('--quiet')) {
    for (const p of sandboxes) process.stdout.write(`${p.id}\n`);
  } else if (opt('-o') === 'json' || opt('--output') === 'json') {
    const items = sandboxes.map((p) => ({
      id: p.id,
      metadata: { name: p.name, uid: p.uid, namespace: p.namespace, attempt: 0 },
      state: p.state,
      createdAt: p.createdAt,
      labels: { 'io.kubernetes.pod.name': p.name, 'io.kubernetes.pod.namespace': p.namespace, 'io.kubernetes.pod.uid': p.uid },
    }));
    process.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
  } else {
    for (const p of sandboxes) process.stdout.write(`${p.id.slice(0, 13)}  ${p.state === 'SANDBOX_READY' ? 'Ready' : 'NotReady'}  ${p.name}  ${p.namespace}\n`);
  }
  process.exit(0);
}
if (cmd === 'stopp') {
  const ids = rest.slice(1).filter((a) => !a.startsWith('-'));
  if (ids.length === 0) fatal('ID cannot be empty');
  for (const id of ids) {
    const p = byId(id);
    p.state = 'SANDBOX_NOTREADY';
    for (const c of state.containers) if (c.podName === p.name && c.state === 'CONTAINER_RUNNING') c.state = 'CONTAINER_EXITED';
    save();
    process.stdout.write(`Stopped sandbox ${p.id}\n`);
  }
  process.exit(0);
}
if (cmd === 'rmp') {
  const force = rest.includes('-f') || rest.includes('--force');
  const all = rest.includes('-a') || rest.includes('--all');
  const ids = all ? sandboxes.map((p) => p.id) : rest.slice(1).filter((a) => !a.startsWith('-'));
  if (ids.length === 0 && !all) fatal('ID cannot be empty');
  for (const id of ids) {
    const p = byId(id);
    if (p.state === 'SANDBOX_READY' && !force) fatal(`pod sandbox ${p.id} is running, please stop it first or use --force`);
    state.sandboxes = (state.sandboxes ?? []).filter((x) => x !== p);
    state.containers = state.containers.filter((c) => c.podName !== p.name);
    save();
    process.stdout.write(`Removed sandbox ${p.id}\n`);
  }
  process.exit(0);
}
process.stderr.write(`crictl (test double): unsupported command ${rest.join(' ')}\n`);
process.exit(1);
