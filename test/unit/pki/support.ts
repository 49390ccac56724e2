/**
 * Shared by the PKI unit and integration tests: config files that pin everything machine-dependent,
 * a free port, the built CLI, and the "PKI view" (what golden files pin: subjects, issuers, SANs,
 * usages, validity lengths and key types — never PEM).
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { cleanEnv, runCli, type CliResult } from '../../helpers/cli.js';
import { readCertificate } from '../../../src/pki/inspect.js';
import { describeKey } from '../../../src/pki/keys.js';
import type { PkiPlan } from '../../../src/pki/plan.js';
import { CERTIFICATE_BACKDATE_MS } from '../../../src/pki/table.js';
import { parseKubeconfig } from '../../../src/kube/kubeconfig.js';

export interface ConfigOptions {
  nodeName?: string;
  advertiseAddress?: string;
  bindPort?: number;
  /** extra lines appended to the ClusterConfiguration document (YAML, unindented) */
  cluster?: string;
}

export function configYaml(o: ConfigOptions = {}): string {
  const port = o.bindPort === undefined ? '' : `\n  bindPort: ${o.bindPort}`;
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: ${o.nodeName ?? 'cp1'}
  criSocket: unix:///var/run/containerd/containerd.sock
localAPIEndpoint:
  advertiseAddress: "${o.advertiseAddress ?? '192.0.2.10'}"${port}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
${o.cluster ?? ''}`;
}

export function writeConfig(dir: string, o: ConfigOptions = {}): string {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, configYaml(o));
  return file;
}

/** A TCP port nothing listens on (bound, then released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host }, () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}

/** `kubeboot init phase <name> all` (name: certs, kubeconfig) into --root with --config. */
export function phase(name: string, root: string, config: string): Promise<CliResult> {
  return runCli(['init', 'phase', name, 'all', '--root', root, '--config', config], { env: cleanEnv() });
}

export const PKI = 'etc/kubernetes/pki';
export const KDIR = 'etc/kubernetes';

/** Go-style duration text, whole minutes (seconds dropped): 8760h5m0s. */
export function hm(ms: number): string {
  const totalMin = Math.floor(ms / 60_000);
  return `${Math.floor(totalMin / 60)}h${totalMin % 60}m0s`;
}

export interface CertView {
  readonly file: string;
  readonly subject: { readonly CN: string; readonly O: readonly string[] };
  readonly issuer: string;
  readonly isCA: boolean;
  readonly keyUsage: readonly string[];
  readonly extKeyUsage: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  /** NotAfter − NotBefore */
  readonly validity: string;
  readonly keyType: string;
}

export interface KubeconfigView {
  readonly file: string;
  readonly server: string;
  readonly cluster: string;
  readonly context: string;
  readonly user: string;
  readonly cert: Omit<CertView, 'file'>;
}

export interface PkiView {
  readonly certs: readonly CertView[];
  readonly serviceAccountKey: string | null;
  readonly kubeconfigs: readonly KubeconfigView[];
}

/** The view the planner predicts (validity includes the 5-minute backdate). */
export function viewFromPlan(plan: PkiPlan, keyType: string, withSa: boolean): PkiView {
  const cert = (c: PkiPlan['certs'][number] | PkiPlan['kubeconfigs'][number]) => ({
    subject: { CN: c.commonName, O: [...c.organization] },
    issuer: c.issuer,
    isCA: c.isCA,
    keyUsage: [...c.keyUsage],
    extKeyUsage: [...c.extKeyUsage],
    dnsNames: [...c.dnsNames],
    ips: [...c.ips],
    validity: hm(c.validityMs + CERTIFICATE_BACKDATE_MS),
    keyType,
  });
  return {
    certs: plan.certs.map((c) => ({ file: `${c.baseName}.crt`, ...cert(c) })),
    serviceAccountKey: withSa ? keyType : null,
    kubeconfigs: plan.kubeconfigs.map((k) => ({
      file: k.file,
      server: k.server,
      cluster: 'kubernetes',
      context: `${k.commonName}@kubernetes`,
      user: k.commonName,
      cert: cert(k),
    })),
  };
}

async function certView(crtPem: string | Buffer, keyPem: string | Buffer): Promise<Omit<CertView, 'file'>> {
  const c = await readCertificate(crtPem);
  return {
    subject: { CN: c.subject.commonName, O: [...c.subject.organization] },
    issuer: c.issuer.commonName,
    isCA: c.isCA,
    keyUsage: [...c.keyUsage],
    extKeyUsage: [...c.extKeyUsage],
    dnsNames: [...c.dnsNames],
    ips: [...c.ips],
    validity: hm(c.notAfter.getTime() - c.notBefore.getTime()),
    keyType: describeKey(createPrivateKey(keyPem)),
  };
}

/** The view of what is on disk under root, for the given cert base names (in table order). */
export async function viewFromDisk(root: string, baseNames: readonly string[], kubeconfigFiles: readonly string[]): Promise<PkiView> {
  const certs: CertView[] = [];
  for (const b of baseNames) {
    const crt = readFileSync(path.join(root, PKI, `${b}.crt`));
    const key = readFileSync(path.join(root, PKI, `${b}.key`));
    certs.push({ file: `${b}.crt`, ...(await certView(crt, key)) });
  }
  let sa: string | null = null;
  try {
    sa = describeKey(createPrivateKey(readFileSync(path.join(root, PKI, 'sa.key'))));
  } catch {
    sa = null;
  }
  const kubeconfigs: KubeconfigView[] = [];
  for (const f of kubeconfigFiles) {
    const v = parseKubeconfig(readFileSync(path.join(root, KDIR, f), 'utf8'));
    if (typeof v === 'string') throw new Error(`${f}: ${v}`);
    kubeconfigs.push({
      file: f,
      server: v.server,
      cluster: v.clusterName,
      context: v.currentContext,
      user: v.user,
      cert: await certView(v.clientCertData ?? '', v.clientKeyData ?? ''),
    });
  }
  return { certs, serviceAccountKey: sa, kubeconfigs };
}
