/**
 * Real tools the tests use (etcd, etcdctl, openssl, kubectl). Absent on a fresh machine: the test is skipped
 * and says why. Under CI (CI=true) an absent tool is a failure, because .ci/run installs them.
 */
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

const INSTALL: Record<string, string> = {
  etcd: 'apt-get install -y etcd-server',
  etcdctl: 'apt-get install -y etcd-client',
  openssl: 'apt-get install -y openssl',
  kubectl: 'install kubectl (1.27+) on PATH',
};

export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Returns true when the tools are there; otherwise skips the test (or fails it under CI). */
export function requireTools(t: TestContext, ...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  const why = `needs ${missing.join(', ')} on PATH (${missing.map((m) => INSTALL[m] ?? m).join('; ')})`;
  if (process.env.CI) throw new Error(`CI must run this test but it ${why}; .ci/run should have installed it`);
  t.skip(`skipped: ${why}`);
  return false;
}
