/** Temporary directories per test, removed afterwards. */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';

export function tempDir(t: TestContext | { after: (fn: () => void) => void }, prefix = 'kubeboot-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let processTmp: string | undefined;

/**
 * One temporary directory for everything the kubeboot processes a test starts leave in their temp dir (a dry run
 * keeps its directory for the user to read, as kubeadm does): the CLI helpers pass it as TMPDIR, and it is removed
 * when the test process exits, so that `npm test` leaves no private keys behind.
 */
export function processTempDir(): string {
  if (processTmp === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), `kubeboot-tests-${process.pid}-`));
    // as /tmp is: the tests also run kubeboot as an unprivileged user
    chmodSync(dir, 0o1777);
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    processTmp = dir;
  }
  return processTmp;
}
