/** Runs a list of commands inside kubeadm-ns.sh's private mount and network namespace, and reads what they left. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { TEST_SRC } from '../helpers/paths.js';
import { processTempDir } from '../helpers/tmp.js';

export const NS_SCRIPT = path.join(TEST_SRC, 'oracle', 'kubeadm-ns.sh');

export interface Step {
  readonly argv: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface NamespaceRun {
  /** OUT: holds etc/kubernetes, var/lib/kubelet (and var/lib/etcd) as the commands left them */
  readonly out: string;
  readonly steps: readonly Step[];
  /** paths under /etc or /var/lib written outside /etc/kubernetes, /var/lib/kubelet and /var/lib/etcd */
  readonly otherWrites: readonly string[];
  /** wall time of the whole run, ms */
  readonly durationMs: number;
  /** Date.now() just before the namespace was made */
  readonly startedAt: number;
}

/**
 * Runs every command in order inside a fresh namespace (none sees the host's /etc/kubernetes, /var/lib/kubelet,
 * /var/lib/etcd, nor any network). seed: a directory whose etc/kubernetes and var/lib/kubelet are copied in first.
 */
export async function runInNamespace(out: string, commands: readonly (readonly string[])[], seed?: string): Promise<NamespaceRun> {
  mkdirSync(out, { recursive: true });
  for (const c of commands) {
    for (const a of c) if (/[\t\n]/.test(a)) throw new Error(`an argument with a tab or newline cannot go through the steps file: ${JSON.stringify(a)}`);
  }
  const stepsFile = `${out}.steps`;
  writeFileSync(stepsFile, commands.map((c) => c.join('\t')).join('\n') + '\n');
  const startedAt = Date.now();
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn('bash', [NS_SCRIPT, out, seed ?? '-', stepsFile], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TMPDIR: processTempDir() },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, stderr: err });
    });
  });
  const durationMs = Date.now() - startedAt;
  if (code !== 0) throw new Error(`${NS_SCRIPT} failed (exit ${code}): ${stderr}`);
  const steps = commands.map((argv, i) => {
    const f = (ext: string): string => readFileSync(path.join(out, 'steps', `${i + 1}.${ext}`), 'utf8');
    return { argv, code: Number(f('rc').trim()), stdout: f('out'), stderr: f('err') };
  });
  const ow = path.join(out, 'other-writes.txt');
  const otherWrites = existsSync(ow) ? readFileSync(ow, 'utf8').split('\n').filter(Boolean) : [];
  return { out, steps, otherWrites, durationMs, startedAt };
}
