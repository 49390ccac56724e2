/**
 * `kubeboot certs renew`: a new key and a new certificate for an existing leaf certificate or kubeconfig client
 * certificate, signed by the local CA, keeping the old certificate's CN, O, DNS and IP SANs and extended key usages;
 * NotBefore = now − 5 min, NotAfter = now + certificateValidityPeriod (kubeadm 1.31+). CAs and kubelet.conf are
 * never renewed. A pair is written under an intent record (src/pki/intent.ts), key then certificate, with the modes
 * the files had; a kubeconfig is rewritten atomically with only the current user's certificate and key (and the
 * cluster's embedded CA) changed.
 */
import type { ClusterSpec } from '../config/spec.js';
import type { Effects, WriteStatus } from '../effects/types.js';
import { OperationError } from '../errors.js';
import { goTime, readCertificate, type CertInfo } from './inspect.js';
import { recoverPair, writePair } from './intent.js';
import { loadCA, type LoadedCA } from './certs.js';
import { generateKey, privateKeyPem, type KeyPool } from './keys.js';
import { encodePem } from './pem.js';
import { pkiValidity, type CertPlan } from './plan.js';
import { issueCertificate } from './sign.js';
import { certPaths, certRow, keyUsageOf, type ExtUsage } from './table.js';
import { parseKubeconfig } from '../kube/kubeconfig.js';
import { parseYaml, toYaml } from '../render/yaml.js';
import type { Output } from '../workflow/events.js';
import { itemCertPath } from './expiration.js';
import type { RenewItem } from './items.js';

export type RenewStatus = 'renewed' | 'missing' | 'external';

export interface RenewOutcome {
  readonly name: string;
  readonly longName: string;
  readonly status: RenewStatus;
  /** files written */
  readonly files: readonly string[];
  readonly notAfter?: string;
}

export interface RenewEnv {
  readonly fx: Effects;
  readonly spec: ClusterSpec;
  readonly out: Output;
  /** called for every file written (the ledger) */
  readonly onFile: (path: string, mode: number) => void;
  /** keys started ahead of time, by item name (otherwise generated on demand) */
  readonly keys?: KeyPool;
}

const TAG = 'renew';

function writer(env: RenewEnv, files: string[]) {
  return async (path: string, content: string, mode: number): Promise<WriteStatus> => {
    const status = await env.fx.writeFileAtomic(path, content, mode);
    env.out.file(path, mode, status);
    env.onFile(path, mode);
    files.push(path);
    return status;
  };
}

/** The CA of an item: its certificate (required) and key (undefined: external CA). */
async function loadCa(env: RenewEnv, caName: string): Promise<LoadedCA> {
  const ca = await loadCA(env, caName);
  if (!ca) {
    const p = certPaths(env.spec.paths.certificatesDir, certRow(caName).baseName);
    throw new OperationError(`couldn't load CA certificate ${caName}: "${p.crt}" does not exist`, {
      hint: `a certificate is renewed with the CA that signs it; restore "${p.crt}" (and its key "${p.key}")`,
    });
  }
  return ca;
}

async function parseCert(path: string, data: Buffer | string): Promise<CertInfo> {
  try {
    return await readCertificate(data);
  } catch (err) {
    throw new OperationError(`"${path}" is not a valid certificate: ${(err as Error).message}`, {
      hint: `restore "${path}", or issue it again with 'kubeboot init phase certs …' / 'kubeboot init phase kubeconfig …' after moving it away`,
    });
  }
}

/** The plan that reproduces an existing certificate's identity with the configured validity. */
export function renewalPlan(name: string, old: CertInfo, validityMs: number, warn: (m: string) => void): CertPlan {
  const known = old.extKeyUsage.filter((u): u is ExtUsage => u === 'serverAuth' || u === 'clientAuth');
  const other = old.extKeyUsage.filter((u) => u !== 'serverAuth' && u !== 'clientAuth');
  if (other.length > 0) warn(`the certificate ${name} has extended key usage(s) ${other.join(', ')} that kubeboot does not issue; the renewed certificate keeps ${known.join(', ') || 'none'}`);
  if (known.length === 0) throw new OperationError(`the certificate ${name} has no serverAuth or clientAuth extended key usage; kubeboot cannot renew it`);
  return {
    name,
    commonName: old.subject.commonName,
    organization: old.subject.organization,
    isCA: false,
    keyUsage: keyUsageOf(false),
    extKeyUsage: known,
    dnsNames: old.dnsNames,
    ips: old.ips,
    validityMs,
  };
}

async function issue(env: RenewEnv, item: RenewItem, old: CertInfo, ca: { cert: CertInfo; key: import('node:crypto').KeyObject }, now: Date) {
  const plan = renewalPlan(item.name, old, env.spec.certificateValidityPeriodMs, (m) => env.out.warn(m));
  const validity = pkiValidity(plan, now);
  if (validity.notAfter.getTime() > ca.cert.notAfter.getTime()) {
    env.out.warn(
      `the renewed certificate ${item.name} is valid until ${goTime(validity.notAfter)}, after its CA ${item.caName} expires (${goTime(ca.cert.notAfter)}); it is only usable while the CA is valid`,
    );
  }
  const kp = env.keys ? await env.keys.take(item.name) : await generateKey(env.spec.encryptionAlgorithm);
  const cert = await issueCertificate({ plan, validity, publicKey: kp.publicKey, signer: { caCertDer: ca.cert.der, caKey: ca.key } });
  return { certPem: cert.pem, keyPem: privateKeyPem(kp.privateKey), notAfter: validity.notAfter };
}

type Obj = Record<string, unknown>;
const named = (list: unknown, name: string): Obj | undefined =>
  Array.isArray(list) ? (list as Obj[]).find((x) => x !== null && typeof x === 'object' && x.name === name) : undefined;

/** Renews one item; prints kubeadm's line for it. */
export async function renewItem(env: RenewEnv, item: RenewItem, now: Date): Promise<RenewOutcome> {
  const files: string[] = [];
  const write = writer(env, files);
  const base = { name: item.name, longName: item.longName };
  const caRow = certRow(item.caName);

  if (item.kind === 'cert') {
    const p = certPaths(env.spec.paths.certificatesDir, item.row.baseName);
    const rec = await recoverPair(env.fx, item.row.name, { key: p.key, cert: p.crt }, write);
    if (rec.outcome === 'completed') env.out.log(TAG, `Completed the "${item.row.baseName}" pair an interrupted kubeboot run left half-written`);
    const crt = await env.fx.readFile(p.crt);
    if (!crt) {
      env.out.log('', `MISSING! ${item.longName}`);
      return { ...base, status: 'missing', files };
    }
    const old = await parseCert(p.crt, crt);
    const ca = await loadCa(env, item.caName);
    if (!ca.key) {
      env.out.log('', `Detected external ${caRow.baseName}, ${item.longName} can't be renewed`);
      return { ...base, status: 'external', files };
    }
    const [crtStat, keyStat] = await Promise.all([env.fx.stat(p.crt), env.fx.stat(p.key)]);
    const issued = await issue(env, item, old, { cert: ca.cert, key: ca.key }, now);
    await writePair(
      env.fx,
      item.row.name,
      { path: p.key, content: issued.keyPem, mode: keyStat?.mode ?? 0o600 },
      { path: p.crt, content: issued.certPem, mode: crtStat?.mode ?? 0o644 },
      write,
    );
    env.out.log('', `${item.longName} renewed`);
    return { ...base, status: 'renewed', files, notAfter: issued.notAfter.toISOString() };
  }

  const path = itemCertPath(env.spec, item);
  const raw = await env.fx.readFile(path);
  if (!raw) {
    env.out.log('', `MISSING! ${item.longName}`);
    return { ...base, status: 'missing', files };
  }
  const text = raw.toString('utf8');
  const view = parseKubeconfig(text);
  if (typeof view === 'string') throw new OperationError(`failed to load kubeconfig file "${path}": ${view}`, { hint: `fix "${path}" or write it again with 'kubeboot init phase kubeconfig ${item.row.name}' after moving it away` });
  if (view.clientCertData === undefined) {
    throw new OperationError(`"${path}" has no embedded client certificate (client-certificate-data) for user "${view.user}"; kubeboot renews embedded certificates only`, {
      hint: `renew the file that "${path}" refers to yourself, or move "${path}" away and run 'kubeboot init phase kubeconfig ${item.row.name}'`,
    });
  }
  const old = await parseCert(path, view.clientCertData);
  const ca = await loadCa(env, 'ca');
  if (!ca.key) {
    env.out.log('', `Detected external ${caRow.baseName}, ${item.longName} can't be renewed`);
    return { ...base, status: 'external', files };
  }
  const issued = await issue(env, item, old, { cert: ca.cert, key: ca.key }, now);
  const doc = parseYaml(text) as Obj;
  const user = named(doc.users, view.user);
  const cluster = named(doc.clusters, view.clusterName);
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  if (!user || typeof user.user !== 'object' || user.user === null) throw new OperationError(`"${path}": user "${view.user}" not found`);
  const u = user.user as Obj;
  u['client-certificate-data'] = b64(issued.certPem);
  u['client-key-data'] = b64(issued.keyPem);
  if (cluster && typeof cluster.cluster === 'object' && cluster.cluster !== null) {
    const c = cluster.cluster as Obj;
    if (c['certificate-authority'] === undefined) c['certificate-authority-data'] = b64(encodePem('CERTIFICATE', ca.cert.der));
  }
  const mode = (await env.fx.stat(path))?.mode ?? 0o600;
  await write(path, toYaml(doc), mode);
  env.out.log('', `${item.longName} renewed`);
  return { ...base, status: 'renewed', files, notAfter: issued.notAfter.toISOString() };
}

