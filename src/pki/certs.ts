/**
 * What the certs phase does with each row of the table, including kubeadm's rules for files that exist
 * already (kubeadm-reference §2.4). Nothing is overwritten: a file that is present is either reused
 * (and said so) or is an error naming the file, what is wrong and the command that fixes it.
 * All disk access goes through ctx.fx (host paths; --root and dry-run are the effects' business).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { recordFile, writeFile } from '../workflow/files.js';
import { usingExternalCA, type PkiEnv } from './env.js';
import { OperationError } from '../errors.js';
import { slot } from '../workflow/slots.js';
import { KeyPool, parsePrivateKey, parsePublicKey, privateKeyPem, publicKeyPem } from './keys.js';
import { CertParseError, goTime, keyMatches, missingAltNames, missingExtKeyUsages, readCertificate, signedBy, validityProblem, type CertInfo } from './inspect.js';
import { recoverPair, writePair } from './intent.js';
import { activeCertRows, planCert, pkiValidity } from './plan.js';
import { issueCertificate } from './sign.js';
import { SA_KEY, certPaths, certRow, type CertRow } from './table.js';

/** One start time per run: every certificate's NotBefore/NotAfter derive from it. */
export const PKI_START = slot<Date>('pki-start');
/** Keys generated ahead of time (certs and kubeconfig parents fill it; sub-phases take from it). */
export const KEY_POOL = slot<KeyPool>('pki-key-pool');

export function pkiStart(ctx: PkiEnv): Date {
  let start = ctx.slots.get(PKI_START);
  if (!start) {
    start = ctx.fx.now();
    ctx.slots.set(PKI_START, start);
  }
  return start;
}

export function keyPool(ctx: PkiEnv): KeyPool {
  let pool = ctx.slots.get(KEY_POOL);
  if (!pool) {
    pool = new KeyPool(ctx.spec.encryptionAlgorithm, ctx.fx.away);
    ctx.slots.set(KEY_POOL, pool);
  }
  return pool;
}

const MODE_CERT = 0o644;
const MODE_KEY = 0o600;

const warnFn = (ctx: PkiEnv) => (m: string) => ctx.out.warn(m);

/**
 * Files reused as they are count as `unchanged` in the run's file list and events (the summary of an init run again
 * on the same node then says that nothing changed).
 */
export async function reportReused(ctx: PkiEnv, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const st = await ctx.fx.stat(path);
    if (st?.kind !== 'file') continue;
    ctx.out.file(path, st.mode, 'unchanged');
    recordFile(ctx, path, st.mode, 'unchanged');
  }
}

const writer = (ctx: PkiEnv) => (path: string, content: string, mode: number) => writeFile(ctx, path, content, mode);

/** Completes a pair an interrupted run left half-written (src/pki/intent.ts), and says so. */
async function recoverInterrupted(ctx: PkiEnv, pair: string, label: string, paths: { key: string; cert: string }): Promise<void> {
  const r = await recoverPair(ctx.fx, pair, paths, writer(ctx));
  if (r.outcome === 'completed') {
    ctx.out.log('certs', `Completed the "${label}" pair an interrupted kubeboot run left half-written: wrote "${r.path}" for the key it had written`);
  } else if (r.outcome === 'stale') {
    ctx.out.log('certs', `Dropped the stale record of an interrupted write of the "${label}" pair (its files were not written, or changed since)`);
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A shell command that moves a pair aside (into a kubeboot-* directory under /etc/kubernetes/tmp, which reset removes). */
export function moveAsideCommand(ctx: PkiEnv, files: readonly string[]): string {
  const d = ctx.fx.now();
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  const root = ctx.options.root;
  const real = (p: string) => (root === '' ? p : `${root.replace(/\/+$/, '')}${p}`);
  const dir = real(`${ctx.spec.paths.tmpDir}/kubeboot-certs-${stamp}`);
  return `mkdir -p ${dir} && mv ${files.map(real).join(' ')} ${dir}/`;
}

/** Reads and parses a certificate file; a file that does not parse is an error naming it. */
export async function readCertFile(path: string, data: Buffer): Promise<CertInfo> {
  try {
    return await readCertificate(data);
  } catch (err) {
    if (err instanceof CertParseError) {
      throw new OperationError(`"${path}" is not a valid certificate: ${err.message}`, {
        hint: `replace "${path}" with a PEM certificate, or move it away so that kubeboot can make a new one`,
      });
    }
    throw err;
  }
}

export function readKeyFile(path: string, data: Buffer): KeyObject {
  const key = parsePrivateKey(data);
  if (!key) {
    throw new OperationError(`"${path}" is not a valid private key (expected PEM "RSA PRIVATE KEY", "EC PRIVATE KEY" or "PRIVATE KEY")`, {
      hint: `replace "${path}" with the right key, or move it and its certificate away so that kubeboot can make a new pair`,
    });
  }
  return key;
}

export interface LoadedCA {
  readonly row: CertRow;
  readonly crtPath: string;
  readonly keyPath: string;
  readonly cert: CertInfo;
  /** undefined: external CA (certificate without its key) */
  readonly key: KeyObject | undefined;
}

/**
 * Loads a CA from disk (init's leaf and kubeconfig phases, certs renew); `undefined` when its certificate does not
 * exist. A key that does not match the certificate is an error.
 */
export async function loadCA(ctx: Pick<PkiEnv, 'fx' | 'spec'>, caName: string): Promise<LoadedCA | undefined> {
  const row = certRow(caName);
  const p = certPaths(ctx.spec.paths.certificatesDir, row.baseName);
  const [crt, key] = await Promise.all([ctx.fx.readFile(p.crt), ctx.fx.readFile(p.key)]);
  if (!crt) return undefined;
  const cert = await readCertFile(p.crt, crt);
  const k = key ? readKeyFile(p.key, key) : undefined;
  if (k && !keyMatches(cert, k)) {
    throw new OperationError(`the private key "${p.key}" does not match the certificate "${p.crt}" of the ${row.baseName} certificate authority`, {
      hint: `restore the key that belongs to "${p.crt}"; a CA cannot be replaced without re-issuing every certificate it signed`,
    });
  }
  return { row, crtPath: p.crt, keyPath: p.key, cert, key: k };
}

/** Starts the keys of every pair that is absent on disk, so that they are generated in parallel. */
export async function prestartCertKeys(ctx: PkiEnv): Promise<void> {
  const dir = ctx.spec.paths.certificatesDir;
  const absent = async (paths: readonly string[]) => (await Promise.all(paths.map((p) => ctx.fx.stat(p)))).every((s) => s === undefined);
  const names = await Promise.all([
    ...activeCertRows(ctx.spec).map(async (r) => {
      const p = certPaths(dir, r.baseName);
      return (await absent([p.crt, p.key])) ? r.name : undefined;
    }),
    absent([`${dir}/${SA_KEY.privateFile}`, `${dir}/${SA_KEY.publicFile}`]).then((yes) => (yes ? SA_KEY.name : undefined)),
  ]);
  keyPool(ctx).prestart(names.filter((n): n is string => n !== undefined));
}

function notOverwritingKey(what: string, keyPath: string, crtPath: string): OperationError {
  return new OperationError(`found the private key "${keyPath}" but not its certificate "${crtPath}" (${what}); kubeboot does not overwrite an existing key`, {
    hint: `restore "${crtPath}", or move "${keyPath}" away so that kubeboot can make a new pair`,
  });
}

/** A CA sub-phase: ca, front-proxy-ca, etcd-ca. */
export async function ensureCA(ctx: PkiEnv, row: CertRow): Promise<void> {
  const spec = ctx.spec;
  if (row.etcd && spec.etcd.external) {
    ctx.out.log('certs', `External etcd mode: Skipping ${row.baseName} certificate authority generation`);
    return;
  }
  const start = pkiStart(ctx);
  const p = certPaths(spec.paths.certificatesDir, row.baseName);
  await recoverInterrupted(ctx, row.name, row.baseName, { key: p.key, cert: p.crt });
  const [crt, key] = await Promise.all([ctx.fx.readFile(p.crt), ctx.fx.readFile(p.key)]);
  if (crt) {
    const cert = await readCertFile(p.crt, crt);
    if (!cert.isCA) {
      throw new OperationError(`certificate ${row.baseName} is not a CA: "${p.crt}" has no CA basic constraint`, {
        hint: `put the ${row.baseName} CA certificate at "${p.crt}", or move the file away so that kubeboot can make a new CA`,
      });
    }
    const problem = validityProblem(cert, start);
    if (problem) {
      ctx.out.warn(
        `could not validate bounds for certificate ${row.baseName}: the certificate ${problem === 'expired' ? 'has expired' : 'is not valid yet'}: NotBefore: ${goTime(cert.notBefore)}, NotAfter: ${goTime(cert.notAfter)}`,
      );
    }
    if (key) {
      const k = readKeyFile(p.key, key);
      if (!keyMatches(cert, k)) {
        throw new OperationError(`the private key "${p.key}" does not match the certificate "${p.crt}" of the ${row.baseName} certificate authority`, {
          hint: `restore the key that belongs to "${p.crt}"; a CA cannot be replaced without re-issuing every certificate it signed`,
        });
      }
      ctx.out.log('certs', `Using existing ${row.baseName} certificate authority`);
      await reportReused(ctx, [p.crt, p.key]);
    } else {
      ctx.out.log('certs', `Using existing ${row.baseName} keyless certificate authority`);
      await reportReused(ctx, [p.crt]);
    }
    return;
  }
  if (key) throw notOverwritingKey(`${row.baseName} certificate authority`, p.key, p.crt);

  const plan = planCert(row, spec, warnFn(ctx));
  const kp = await keyPool(ctx).take(row.name);
  ctx.out.log('certs', `Generating "${row.baseName}" certificate and key`);
  const cert = await issueCertificate({ plan, validity: pkiValidity(plan, start), publicKey: kp.publicKey, signer: { selfSigned: kp.privateKey } });
  await writeCertAndKey(ctx, row.name, p, privateKeyPem(kp.privateKey), cert.pem);
}

/** Writes a certificate's key then the certificate, under an intent record (src/pki/intent.ts). */
function writeCertAndKey(ctx: PkiEnv, pair: string, p: { key: string; crt: string }, keyPem: string, certPem: string): Promise<void> {
  return writePair(ctx.fx, pair, { path: p.key, content: keyPem, mode: MODE_KEY }, { path: p.crt, content: certPem, mode: MODE_CERT }, writer(ctx));
}

function sansText(dnsNames: readonly string[], ips: readonly string[]): string {
  return `DNS names [${dnsNames.join(' ')}] and IPs [${ips.join(' ')}]`;
}

/** A leaf sub-phase: apiserver, apiserver-kubelet-client, front-proxy-client, the etcd leaves. */
export async function ensureLeaf(ctx: PkiEnv, row: CertRow): Promise<void> {
  const spec = ctx.spec;
  if (row.etcd && spec.etcd.external) {
    ctx.out.log('certs', `External etcd mode: Skipping ${row.baseName} certificate generation`);
    return;
  }
  const start = pkiStart(ctx);
  const caRow = certRow(row.ca as string);
  const plan = planCert(row, spec, warnFn(ctx));
  const p = certPaths(spec.paths.certificatesDir, row.baseName);
  const caPaths = certPaths(spec.paths.certificatesDir, caRow.baseName);
  await recoverInterrupted(ctx, row.name, row.baseName, { key: p.key, cert: p.crt });
  const [crt, key] = await Promise.all([ctx.fx.readFile(p.crt), ctx.fx.readFile(p.key)]);
  const ca = await loadCA(ctx, caRow.name);
  const noCA = () =>
    new OperationError(`couldn't load CA certificate ${caRow.baseName}: "${caPaths.crt}" does not exist`, {
      hint: `run \`kubeboot init phase certs ${caRow.name}\` first (or \`kubeboot init phase certs all\`)`,
    });

  if (crt || key) {
    if (!crt) throw notOverwritingKey(row.baseName, p.key, p.crt);
    const cert = await readCertFile(p.crt, crt);
    if (!ca) throw noCA();
    if (!signedBy(cert, ca.cert)) {
      throw new OperationError(
        `certificate ${row.baseName} ("${p.crt}") is not signed by CA certificate ${caRow.baseName} ("${caPaths.crt}"); its issuer is "${cert.issuer.commonName}"`,
        {
          hint: `restore the CA that signed it, or move "${p.crt}" and "${p.key}" away and run \`kubeboot init phase certs ${row.name}\` to issue one from the current CA`,
        },
      );
    }
    const problem = validityProblem(cert, start);
    if (problem === 'expired') {
      throw new OperationError(`certificate ${row.baseName} ("${p.crt}") has expired: NotBefore: ${goTime(cert.notBefore)}, NotAfter: ${goTime(cert.notAfter)}`, {
        hint: `renew it with \`kubeboot certs renew ${row.name}\``,
      });
    }
    if (problem === 'not-yet-valid') {
      ctx.out.warn(
        `could not validate bounds for certificate ${row.baseName}: the certificate is not valid yet: NotBefore: ${goTime(cert.notBefore)}, NotAfter: ${goTime(cert.notAfter)}`,
      );
    }
    if (!key) {
      throw new OperationError(`certificate ${row.baseName} ("${p.crt}") exists but its private key "${p.key}" does not`, {
        hint: `restore "${p.key}", or move "${p.crt}" away and run \`kubeboot init phase certs ${row.name}\` to make a new pair`,
      });
    }
    const k = readKeyFile(p.key, key);
    if (!keyMatches(cert, k)) {
      throw new OperationError(`the private key "${p.key}" does not match the certificate "${p.crt}"`, {
        hint: `restore the matching key, or move both files away and run \`kubeboot init phase certs ${row.name}\` to make a new pair`,
      });
    }
    const missing = missingAltNames(cert, plan.dnsNames, plan.ips);
    if (missing.dnsNames.length > 0 || missing.ips.length > 0) {
      throw new OperationError(`certificate ${row.baseName} ("${p.crt}") is missing required SANs: ${sansText(missing.dnsNames, missing.ips)}`, {
        hint: `the configuration asks for names this certificate does not cover. A new ${row.baseName} certificate is a new identity, so kubeboot does not replace it by itself: move the pair aside with \`${moveAsideCommand(ctx, [p.crt, p.key])}\`, then run this same kubeboot command again (it issues a new ${row.baseName} certificate from the existing CA and keeps everything else); the ${row.name.startsWith('etcd') ? 'etcd' : 'kube-apiserver'} uses it after a restart`,
      });
    }
    const usages = missingExtKeyUsages(cert, row.extKeyUsage);
    if (usages.length > 0) {
      throw new OperationError(`certificate ${row.baseName} ("${p.crt}") lacks the extended key usage(s) ${usages.join(', ')}`, {
        hint: `move "${p.crt}" and "${p.key}" away and run \`kubeboot init phase certs ${row.name}\` to issue a new one`,
      });
    }
    ctx.out.log('certs', `Using existing ${row.baseName} certificate and key on disk`);
    await reportReused(ctx, [p.crt, p.key]);
    return;
  }

  if (!ca) throw noCA();
  if (!ca.key) {
    throw new OperationError(
      `invalid or incomplete external CA: certificate ${row.baseName} ("${p.crt}") is missing and cannot be signed without the CA key "${caPaths.key}"`,
      {
        hint: `with an external ${caRow.baseName} CA, provide "${p.crt}" and "${p.key}" signed by it; or put the CA key at "${caPaths.key}" so that kubeboot can sign`,
      },
    );
  }
  const kp = await keyPool(ctx).take(row.name);
  ctx.out.log('certs', `Generating "${row.baseName}" certificate and key`);
  const cert = await issueCertificate({
    plan,
    validity: pkiValidity(plan, start),
    publicKey: kp.publicKey,
    signer: { caCertDer: ca.cert.der, caKey: ca.key },
  });
  await writeCertAndKey(ctx, row.name, p, privateKeyPem(kp.privateKey), cert.pem);
  if (row.extKeyUsage.includes('serverAuth')) {
    ctx.out.log('certs', `${row.baseName} serving cert is signed for ${sansText(plan.dnsNames, plan.ips)}`);
  }
}

/** The sa sub-phase: sa.key (private, PKCS#1 for RSA) and sa.pub (PKIX), both 0600. */
export async function ensureServiceAccountKey(ctx: PkiEnv): Promise<void> {
  const dir = ctx.spec.paths.certificatesDir;
  const keyPath = `${dir}/${SA_KEY.privateFile}`;
  const pubPath = `${dir}/${SA_KEY.publicFile}`;
  await recoverInterrupted(ctx, SA_KEY.name, SA_KEY.baseName, { key: keyPath, cert: pubPath });
  const [key, pub] = await Promise.all([ctx.fx.readFile(keyPath), ctx.fx.readFile(pubPath)]);
  if (key) {
    const k = parsePrivateKey(key);
    if (!k) {
      throw new OperationError(`file ${SA_KEY.privateFile} existed but it could not be loaded properly: "${keyPath}" is not a valid private key`, {
        hint: `restore "${keyPath}" (every API server must share it), or move it and "${pubPath}" away so that kubeboot makes a new pair`,
      });
    }
    const derived = publicKeyPem(createPublicKey(k));
    if (pub) {
      const given = parsePublicKey(pub);
      const same = given !== undefined && given.export({ type: 'spki', format: 'der' }).equals(createPublicKey(k).export({ type: 'spki', format: 'der' }));
      if (!same) {
        throw new OperationError(`"${pubPath}" is not the public key of "${keyPath}"`, {
          hint: `move "${pubPath}" away; kubeboot writes it again from "${keyPath}"`,
        });
      }
      await reportReused(ctx, [keyPath, pubPath]);
    } else {
      await reportReused(ctx, [keyPath]);
      await writeFile(ctx, pubPath, derived, MODE_KEY);
    }
    const external = await usingExternalCA(ctx.fx, dir);
    ctx.out.log('certs', external ? 'Using existing sa keys' : `Using the existing "${SA_KEY.baseName}" key`);
    return;
  }
  if (pub) {
    throw new OperationError(`found "${pubPath}" but not "${keyPath}"; kubeboot does not overwrite an existing public key`, {
      hint: `restore "${keyPath}", or move "${pubPath}" away so that kubeboot makes a new pair`,
    });
  }
  const kp = await keyPool(ctx).take(SA_KEY.name);
  ctx.out.log('certs', `Generating "${SA_KEY.baseName}" key and public key`);
  await writePair(
    ctx.fx,
    SA_KEY.name,
    { path: keyPath, content: privateKeyPem(kp.privateKey), mode: MODE_KEY },
    { path: pubPath, content: publicKeyPem(kp.publicKey), mode: MODE_KEY },
    writer(ctx),
  );
}

export async function ensureCertRow(ctx: PkiEnv, row: CertRow): Promise<void> {
  return row.isCA ? ensureCA(ctx, row) : ensureLeaf(ctx, row);
}
