/**
 * The oracle tier's gate: the real kubeadm that test/real/build.sh builds, at the version the oracle pins.
 * Absent: the tests are skipped with the command that builds it. Under CI (CI=true) absent is a failure.
 * Also needs root, unshare (util-linux) and overlayfs for kubeadm's private mount namespace, and openssl.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';

/** The Kubernetes version every oracle configuration pins; test/real/tools/go.mod builds this kubeadm. */
export const K8S_VERSION = 'v1.36.5';

export const BUILD_COMMAND = 'bash test/real/build.sh';

/** Where build.sh puts kubeadm: $KUBEBOOT_REAL_CACHE (default ~/.cache/kubeboot)/k8s-<version>/bin/kubeadm. */
export function kubeadmPath(): string {
  const root = process.env.KUBEBOOT_REAL_CACHE || path.join(homedir(), '.cache', 'kubeboot');
  return path.join(root, `k8s-${K8S_VERSION}`, 'bin', 'kubeadm');
}

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the oracle cannot run here, or undefined when it can. */
export function oracleMissing(): string | undefined {
  const kubeadm = kubeadmPath();
  if (!existsSync(kubeadm)) return `needs the real kubeadm ${K8S_VERSION} at ${kubeadm}; run \`${BUILD_COMMAND}\` to build it`;
  let version = '';
  try {
    version = execFileSync(kubeadm, ['version', '-o', 'short'], { encoding: 'utf8', timeout: 30_000 }).trim();
  } catch (e) {
    return `${kubeadm} does not run (${(e as Error).message.split('\n')[0]}); run \`${BUILD_COMMAND}\` again`;
  }
  if (version !== K8S_VERSION) return `${kubeadm} says it is ${JSON.stringify(version)}, not ${K8S_VERSION}; run \`${BUILD_COMMAND}\` again`;
  if (process.getuid?.() !== 0) return 'needs root: kubeadm runs in a private mount namespace (unshare, mount) so that it never writes the host';
  for (const tool of ['unshare', 'openssl']) if (!has(tool)) return `needs ${tool} on PATH (apt-get install -y ${tool === 'unshare' ? 'util-linux' : tool})`;
  return undefined;
}

/** True when the oracle can run; otherwise skips the test (or fails it under CI, where .ci/run builds kubeadm). */
export function requireOracle(t: TestContext): boolean {
  const why = oracleMissing();
  if (why === undefined) return true;
  if (process.env.CI) throw new Error(`CI must run the kubeadm oracle, but it ${why}`);
  t.skip(`skipped: ${why}`);
  return false;
}
