/**
 * kubeboot's patches against kubeadm's own: for each case under test/fixtures/kubeadm-patches/ (a patch directory),
 * the real kubeadm v1.36.5 (built by `bash test/real/build.sh`) runs
 *   init phase etcd local, init phase control-plane all, init phase kubelet-start
 * with a config that pins kubernetesVersion v1.36.5, advertiseAddress 192.0.2.10, node name cp1 and the containerd
 * socket, and patches.directory set to the case. kubeadm runs inside a private mount namespace: tmpfs over /etc (a
 * copy of the host's) and /var/lib, and a `systemctl` on PATH that only fails, so it writes nothing on the host and
 * touches no service. kubeboot runs the same phases with the same config under --root (with the host's optional CA
 * directories made there, as kubeadm sees them). Every manifest and the kubelet's config.yaml must be the same bytes.
 *
 * Without the kubeadm binary the test is skipped (under CI=true it fails).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { TEST_SRC } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { hasTool } from '../helpers/tools.js';

const VERSION = 'v1.36.5';
const CACHE = process.env.KUBEBOOT_REAL_CACHE ?? path.join(homedir(), '.cache', 'kubeboot');
const KUBEADM = path.join(CACHE, `k8s-${VERSION}`, 'bin', 'kubeadm');
const CASES_DIR = path.join(TEST_SRC, 'fixtures', 'kubeadm-patches');
const CASES = readdirSync(CASES_DIR).sort();

/** The CA directories kubeadm mounts into the control plane when the host has them. */
const OPTIONAL_CA_DIRS = ['/etc/ca-certificates', '/etc/pki/ca-trust', '/etc/pki/tls/certs', '/usr/local/share/ca-certificates', '/usr/share/ca-certificates'];

const OUTPUTS = [
  'etc/kubernetes/manifests/etcd.yaml',
  'etc/kubernetes/manifests/kube-apiserver.yaml',
  'etc/kubernetes/manifests/kube-controller-manager.yaml',
  'etc/kubernetes/manifests/kube-scheduler.yaml',
  'var/lib/kubelet/config.yaml',
];

const PHASES = [
  ['init', 'phase', 'etcd', 'local'],
  ['init', 'phase', 'control-plane', 'all'],
  ['init', 'phase', 'kubelet-start'],
];

function config(patchDir: string): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp1
  criSocket: unix:///var/run/containerd/containerd.sock
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
patches:
  directory: ${patchDir}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${VERSION}
`;
}

function kubeadmRunnable(t: TestContext): boolean {
  let why: string | undefined;
  if (!existsSync(KUBEADM)) why = `needs kubeadm ${VERSION} at ${KUBEADM}: build it with bash test/real/build.sh`;
  else if (process.getuid?.() !== 0 || !hasTool('unshare')) why = 'needs root and unshare (util-linux) to give kubeadm a private mount namespace';
  if (why === undefined) return true;
  if (process.env.CI) throw new Error(`CI must run this test but it ${why}`);
  t.skip(`skipped: ${why}`);
  return false;
}

/** kubeadm's phases in a private mount namespace; its outputs are copied to `out` (same relative paths). */
function runKubeadm(cfg: string, out: string, shim: string): string {
  const script = `
set -eu
kubeadm=$1 cfg=$2 out=$3
scratch=$(mktemp -d)
mkdir "$scratch/etc"
mount --bind /etc "$scratch/etc"
mount -t tmpfs tmpfs /etc
cp -a "$scratch/etc/." /etc/
umount "$scratch/etc"
mkdir -p /etc/kubernetes
mount -t tmpfs tmpfs /var/lib
mkdir -p /var/lib/kubelet
${PHASES.map((p) => `"$kubeadm" ${p.join(' ')} --config "$cfg"`).join('\n')}
for f in ${OUTPUTS.join(' ')}; do
  mkdir -p "$out/$(dirname "$f")"
  cp "/$f" "$out/$f"
done
`;
  return execFileSync('unshare', ['--mount', '--propagation', 'private', 'bash', '-c', script, 'kubeadm-patches', KUBEADM, cfg, out], {
    env: { PATH: `${shim}:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: homedir() },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

describe(`patches as kubeadm ${VERSION} applies them (real kubeadm, byte for byte)`, () => {
  it('has cases for strategic lists, strategic directives, merge and json patches, and the kubelet configuration', () => {
    for (const c of ['strategic-lists', 'strategic-directives', 'merge-and-json', 'kubeletconfiguration']) assert.ok(CASES.includes(c), `missing case ${c}`);
  });

  for (const name of CASES) {
    it(name, async (t) => {
      if (!kubeadmRunnable(t)) return;
      const work = tempDir(t, 'kubeboot-kubeadm-patches-');
      const cfg = path.join(work, 'config.yaml');
      writeFileSync(cfg, config(path.join(CASES_DIR, name)));
      const shim = path.join(work, 'bin');
      mkdirSync(shim);
      writeFileSync(path.join(shim, 'systemctl'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });

      const theirs = path.join(work, 'kubeadm');
      runKubeadm(cfg, theirs, shim);

      const root = path.join(work, 'root');
      for (const d of OPTIONAL_CA_DIRS) if (existsSync(d)) mkdirSync(path.join(root, d), { recursive: true });
      for (const args of PHASES) {
        const r = await runCli([...args, '--root', root, '--config', cfg], { env: cleanEnv() });
        assert.equal(r.code, 0, `kubeboot ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
      }

      for (const f of OUTPUTS) {
        const want = readFileSync(path.join(theirs, f), 'utf8');
        const got = readFileSync(path.join(root, f), 'utf8');
        assert.equal(got, want, `${name}: ${f} differs from kubeadm's`);
      }
    });
  }
});
