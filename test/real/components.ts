/**
 * The real tier's components: the binaries and images that `bash test/real/build.sh` puts into a cache outside the
 * repository ($KUBEBOOT_REAL_CACHE, default $HOME/.cache/kubeboot, then k8s-<version>/), and the host tools the node
 * harness needs. Without them (or without root) a real-node test is skipped with a message naming the build command;
 * under CI (CI=true) that is a failure, because .ci/run builds them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { REPO_ROOT } from '../helpers/paths.js';

export const BUILD_COMMAND = 'bash test/real/build.sh';

/** The binaries a test node runs (from the cache) */
export const NODE_BINARIES = ['kubelet', 'containerd', 'containerd-shim-runc-v2', 'ctr', 'crictl', 'pause'] as const;
/** Host programs the harness calls (Debian packages: util-linux, iproute2, runc) */
export const HOST_TOOLS = ['unshare', 'nsenter', 'ip', 'mount', 'tar', 'kubectl'] as const;
export const RUNC = '/usr/sbin/runc';
export const CNI_BIN_DIR = '/usr/lib/cni';

export interface Components {
  /** Kubernetes version the tools module pins, e.g. v1.36.5 */
  readonly version: string;
  readonly bin: string;
  readonly imagesDir: string;
  /** image reference → tar file (absolute), from images.json */
  readonly images: ReadonlyMap<string, string>;
  /** kubeadm's image list for this version (kubeadm-images.txt) */
  readonly kubeadmImages: readonly string[];
}

/** The Kubernetes version pinned by test/real/tools/go.mod. */
export function pinnedVersion(): string {
  const gomod = readFileSync(path.join(REPO_ROOT, 'test/real/tools/go.mod'), 'utf8');
  const m = /^\s*(?:require\s+)?k8s\.io\/kubernetes\s+(v\d+\.\d+\.\d+)\s*(?:\/\/.*)?$/m.exec(gomod);
  if (!m?.[1]) throw new Error('test/real/tools/go.mod does not pin k8s.io/kubernetes');
  return m[1];
}

export function cacheDir(version = pinnedVersion()): string {
  const root = process.env.KUBEBOOT_REAL_CACHE || path.join(homedir(), '.cache', 'kubeboot');
  return path.join(root, `k8s-${version}`);
}

function onPath(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What is there, or the list of what is missing. */
export function findComponents(): { ok: true; components: Components } | { ok: false; missing: string[] } {
  const missing: string[] = [];
  if (process.platform !== 'linux') return { ok: false, missing: ['Linux'] };
  if (process.getuid?.() !== 0) missing.push('root (the harness creates namespaces and mounts)');
  const version = pinnedVersion();
  const dir = cacheDir(version);
  const bin = path.join(dir, 'bin');
  const imagesDir = path.join(dir, 'images');
  if (!existsSync(bin)) missing.push(`the components in ${dir} (not built)`);
  else for (const b of NODE_BINARIES) if (!existsSync(path.join(bin, b))) missing.push(path.join(bin, b));
  for (const t of HOST_TOOLS) if (!onPath(t)) missing.push(`${t} on PATH`);
  if (!existsSync(RUNC)) missing.push(`${RUNC} (apt-get install -y runc)`);
  if (!existsSync(path.join(CNI_BIN_DIR, 'loopback'))) missing.push(`${CNI_BIN_DIR} (apt-get install -y containernetworking-plugins)`);
  let kubeadmImages: string[] = [];
  const images = new Map<string, string>();
  try {
    kubeadmImages = readFileSync(path.join(imagesDir, 'kubeadm-images.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    const list = JSON.parse(readFileSync(path.join(imagesDir, 'images.json'), 'utf8')) as Record<string, string>;
    for (const [ref, file] of Object.entries(list)) {
      const p = path.join(imagesDir, file);
      if (existsSync(p)) images.set(ref, p);
    }
  } catch {
    if (existsSync(bin)) missing.push(`the images in ${imagesDir}`);
  }
  for (const ref of kubeadmImages) if (!images.has(ref)) missing.push(`image ${ref}`);
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, components: { version, bin, imagesDir, images, kubeadmImages } };
}

/**
 * Returns the components when the real tier can run; otherwise skips the test with a message naming the build
 * command, or throws under CI.
 */
export function requireRealTier(t: TestContext): Components | undefined {
  const r = findComponents();
  if (r.ok) return r.components;
  const why = `the real-node tier needs ${r.missing.join(', ')}; run \`${BUILD_COMMAND}\` (as root) to build the components`;
  if (process.env.CI) throw new Error(`CI must run the real-node tests but ${why}`);
  t.skip(`skipped: ${why}`);
  return undefined;
}

/** The image reference kubeadm uses for a component ('kube-apiserver', 'etcd', 'pause', …). */
export function imageFor(c: Components, component: string): string {
  const ref = c.kubeadmImages.find((r) => r.split(':')[0]?.split('/').pop() === component);
  if (!ref) throw new Error(`kubeadm's image list (${c.kubeadmImages.join(', ')}) has no ${component}`);
  return ref;
}
