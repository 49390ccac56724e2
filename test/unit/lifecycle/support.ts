/**
 * Shared by the lifecycle tests (certs, reset, idempotent init, crash): a node under a temp --root whose
 * configuration sends every port to a free loopback port (test/double/harness.ts's config), the built CLI, and
 * readers for what is on disk.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cleanEnv, runCli, type CliResult } from '../../helpers/cli.js';
import { configText, type Ports } from '../../double/harness.js';
import { freePorts } from '../../double/ports.js';
import { parseKubeconfig } from '../../../src/kube/kubeconfig.js';
import { AFTER_WAIT } from '../../helpers/paths.js';

export const PKI = 'etc/kubernetes/pki';

export interface Node {
  readonly dir: string;
  readonly root: string;
  readonly config: string;
  readonly ports: Ports;
  /** a host path under the root */
  at(hostPath: string): string;
}

export async function randomPorts(): Promise<Ports> {
  const [apiserver, controllerManager, scheduler, etcdClient, etcdPeer, etcdMetrics, kubeletHealthz, kubeletPort] = await freePorts(8);
  return { apiserver, controllerManager, scheduler, etcdClient, etcdPeer, etcdMetrics, kubeletHealthz, kubeletPort } as Ports;
}

/** configText with extra lines in the ClusterConfiguration document. */
export function withCluster(text: string, extra: string): string {
  return text.replace('kind: ClusterConfiguration\n', `kind: ClusterConfiguration\n${extra.endsWith('\n') ? extra : `${extra}\n`}`);
}

export async function newNode(t: { after: (fn: () => void) => void }, clusterExtra = ''): Promise<Node> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeboot-life-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ports = await randomPorts();
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, clusterExtra ? withCluster(configText(ports), clusterExtra) : configText(ports));
  const root = path.join(dir, 'root');
  return { dir, root, config, ports, at: (p: string) => path.join(root, p) };
}

export function cli(args: readonly string[], opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
  return runCli(args, { env: cleanEnv(opts.env ?? {}), timeoutMs: opts.timeoutMs ?? 90_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

/**
 * init under --root (wait-control-plane and the phases that need its API server skipped: no kubelet here;
 * kubelet-start writes its files, no systemctl).
 */
export function initRoot(n: Node, ...extra: string[]): Promise<CliResult> {
  return cli(['init', '--root', n.root, '--config', n.config, '--skip-phases', `wait-control-plane,${AFTER_WAIT}`, ...extra]);
}

export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

export function jsonEvents(r: CliResult): { type: string; [k: string]: unknown }[] {
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as { type: string };
      } catch {
        throw new Error(`stdout line is not JSON: ${l}`);
      }
    });
}

/** Every file under dir (relative paths), sorted. */
export function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** path → content, for every file under dir. */
export function snapshot(dir: string): Map<string, string> {
  return new Map(tree(dir).map((f) => [f, readFileSync(path.join(dir, f), 'latin1')]));
}

export function modeOf(p: string): number {
  return statSync(p).mode & 0o777;
}

export function cert(p: string): X509Certificate {
  return new X509Certificate(readFileSync(p));
}

/** The client certificate and key embedded in a kubeconfig. */
export function kubeconfigCert(p: string): { cert: X509Certificate; keyPem: string; caPem: string } {
  const v = parseKubeconfig(readFileSync(p, 'utf8'));
  assert.ok(typeof v !== 'string', `${p}: ${String(v)}`);
  return { cert: new X509Certificate(v.clientCertData ?? ''), keyPem: v.clientKeyData ?? '', caPem: v.caData ?? '' };
}

/** The RSA modulus of a certificate's public key (hex), to compare keys. */
export function modulus(c: X509Certificate): string {
  return String(c.publicKey.export({ format: 'jwk' }).n);
}

export function keyMatches(c: X509Certificate, keyPem: string | Buffer): boolean {
  return c.checkPrivateKey(createPrivateKey(keyPem)) && createPublicKey(keyPem).export({ format: 'jwk' }).n === modulus(c);
}

/** Leaf base names with their CA base name (local etcd). */
export const LEAVES: readonly (readonly [string, string])[] = [
  ['apiserver', 'ca'],
  ['apiserver-kubelet-client', 'ca'],
  ['front-proxy-client', 'front-proxy-ca'],
  ['etcd/server', 'etcd/ca'],
  ['etcd/peer', 'etcd/ca'],
  ['etcd/healthcheck-client', 'etcd/ca'],
  ['apiserver-etcd-client', 'etcd/ca'],
];
export const CAS = ['ca', 'front-proxy-ca', 'etcd/ca'] as const;
export const KUBECONFIGS = ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'controller-manager.conf', 'scheduler.conf'] as const;
