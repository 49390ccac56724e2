/** Shared by the regenerate/restart end-to-end tests: init against the double, snapshots of the node, JSON lines. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';
import { arrange, NODE_NAME, type Arrangement, type ArrangeOptions } from '../double/harness.js';

export const MANIFESTS = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];

export interface JsonEvent {
  type: string;
  target?: string;
  status?: string;
  message?: string;
  tag?: string;
  path?: string;
  exitCode?: number;
  command?: string;
  data?: Record<string, unknown>;
}

export function show(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

export function jsonLines(r: CliResult): JsonEvent[] {
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0, 'JSON output has lines');
  return lines.map((l, i) => {
    try {
      return JSON.parse(l) as JsonEvent;
    } catch {
      throw new Error(`stdout line ${i + 1} is not JSON: ${l}`);
    }
  });
}

/** An arrangement with the double, after a full init (undefined when etcd/kubectl/openssl are missing: skipped). */
export async function initialised(t: TestContext, opts: ArrangeOptions = {}, initArgs: readonly string[] = []): Promise<Arrangement | undefined> {
  if (!requireTools(t, 'etcd', 'kubectl', 'openssl')) return undefined;
  const a = await arrange({ crictl: true, ...opts });
  t.after(() => a.dispose());
  const r = await runCli(['init', '--root', a.root, '--config', a.config, '--wait-timeout', '60s', ...initArgs], { env: cleanEnv(a.env), timeoutMs: 120_000 });
  assert.equal(r.code, 0, show(r));
  return a;
}

/** kubeboot <args> --root <root>, with the double's crictl on PATH. */
export function kb(a: Arrangement, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--root', a.root], { env: cleanEnv(a.env), timeoutMs: 120_000 });
}

export function hostPath(a: Arrangement, p: string): string {
  return path.join(a.root, p);
}

export function manifest(a: Arrangement, component: string): Buffer {
  return readFileSync(hostPath(a, `/etc/kubernetes/manifests/${component}.yaml`));
}

export function recorded(a: Arrangement): Buffer {
  return readFileSync(hostPath(a, '/etc/kubernetes/kubeboot/config.yaml'));
}

/** Bytes and mtimes of the manifests, the recorded config and the ledger. */
export function snapshot(a: Arrangement): Record<string, { bytes: string; mtimeMs: number }> {
  const out: Record<string, { bytes: string; mtimeMs: number }> = {};
  const files = [...MANIFESTS.map((m) => `/etc/kubernetes/manifests/${m}`), '/etc/kubernetes/kubeboot/config.yaml', '/etc/kubernetes/kubeboot/files.json'];
  for (const f of files) {
    const p = hostPath(a, f);
    out[f] = { bytes: readFileSync(p, 'utf8'), mtimeMs: statSync(p).mtimeMs };
  }
  return out;
}

/** The backup directories under /etc/kubernetes/tmp. */
export function backupDirs(a: Arrangement): string[] {
  try {
    return readdirSync(hostPath(a, '/etc/kubernetes/tmp')).filter((n) => n.startsWith('kubeboot-backup-manifests-')).sort();
  } catch {
    return [];
  }
}

/** The static pod path holds the four manifests and nothing else (no temp file, no backup). */
export function assertCleanStaticPodPath(a: Arrangement): void {
  assert.deepEqual(readdirSync(hostPath(a, '/etc/kubernetes/manifests')).sort(), MANIFESTS);
}

export interface PodState {
  hash: string;
  containerID: string;
  ready: boolean;
  restartCount: number;
}

/** The double's own view of a mirror pod (not through kubeboot). */
export function podState(a: Arrangement, component: string): PodState {
  const name = `${component}-${NODE_NAME}`;
  const pod = a.double.mirrorPods().find((p) => (p.metadata as { name: string }).name === name);
  assert.ok(pod, `the double has ${name}`);
  const ann = (pod.metadata as { annotations: Record<string, string> }).annotations;
  const cs = ((pod.status as { containerStatuses: { containerID: string; ready: boolean; restartCount: number }[] }).containerStatuses)[0];
  assert.ok(cs);
  return { hash: ann['kubernetes.io/config.hash'] as string, containerID: cs.containerID, ready: cs.ready, restartCount: cs.restartCount };
}

export { NODE_NAME };
