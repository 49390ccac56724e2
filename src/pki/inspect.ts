/**
 * Reading certificates back: subject, issuer, SANs, key usages, validity, key identifiers; whether a
 * certificate was signed by a CA, whether a private key belongs to it, and which required SANs it lacks.
 * Parsing is node-forge ASN.1 plus Node's X509Certificate (signature checks, host/IP matching); any key
 * type is accepted, so user-provided (external CA) ECDSA certificates can be read too.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { bigIntToIp } from '../util/net.js';
import { OID, bytesOf, children, extensionMap, loadAsn1, parseDer, tbsParts, type Asn1, type Asn1Module } from './asn1.js';
import { firstPem } from './pem.js';
import type { ExtUsage } from './table.js';

export interface DistinguishedName {
  readonly commonName: string;
  readonly organization: readonly string[];
}

export interface CertInfo {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  readonly serial: bigint;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCA: boolean;
  /** digitalSignature, keyEncipherment, keyCertSign, … in bit order */
  readonly keyUsage: readonly string[];
  readonly keyUsageCritical: boolean;
  /** 'serverAuth', 'clientAuth', or the OID of any other usage */
  readonly extKeyUsage: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  readonly subjectKeyId: Buffer | undefined;
  readonly authorityKeyId: Buffer | undefined;
  /** OIDs of the extensions, in certificate order */
  readonly extensionOrder: readonly string[];
  readonly signatureAlgorithm: string;
  readonly publicKey: KeyObject;
}

export class CertParseError extends Error {}

const KEY_USAGE_NAMES = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

function readName(a: Asn1Module, node: Asn1): DistinguishedName {
  let commonName = '';
  const organization: string[] = [];
  for (const set of children(node)) {
    for (const atv of children(set)) {
      const [oid, value] = children(atv);
      if (!oid || !value) continue;
      const id = a.derToOid(oid.value as string);
      const text = bytesOf(value).toString('utf8');
      if (id === OID.commonName) commonName = text;
      else if (id === OID.organization) organization.push(text);
    }
  }
  return { commonName, organization };
}

function readTime(a: Asn1Module, node: Asn1 | undefined): Date {
  if (!node) throw new CertParseError('certificate has no validity');
  return node.type === a.Type.UTCTIME ? a.utcTimeToDate(node.value as string) : a.generalizedTimeToDate(node.value as string);
}

function ipText(b: Buffer): string {
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  return bigIntToIp(v, b.length === 4 ? 4 : 6);
}

/** Parses the first CERTIFICATE block of a PEM text. Throws CertParseError when there is none or it is malformed. */
export async function readCertificate(pem: string | Buffer): Promise<CertInfo> {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  const block = firstPem(text, 'CERTIFICATE');
  if (!block) throw new CertParseError('no PEM "CERTIFICATE" block found');
  const a = await loadAsn1();
  let x509: X509Certificate;
  let parts: ReturnType<typeof tbsParts>;
  try {
    x509 = new X509Certificate(block.der);
    parts = tbsParts(a, block.der);
  } catch (err) {
    throw new CertParseError(`the certificate could not be parsed: ${(err as Error).message}`);
  }
  const exts = extensionMap(a, parts.extensions);
  let isCA = false;
  const bc = exts.get(OID.basicConstraints);
  if (bc) {
    const first = children(parseDer(a, bc.value))[0];
    isCA = first?.type === a.Type.BOOLEAN && first.value === '\xff';
  }
  const keyUsage: string[] = [];
  const ku = exts.get(OID.keyUsage);
  if (ku) {
    const bits = bytesOf(parseDer(a, ku.value)).subarray(1);
    KEY_USAGE_NAMES.forEach((n, i) => {
      if (((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0) keyUsage.push(n);
    });
  }
  const extKeyUsage: string[] = [];
  const eku = exts.get(OID.extKeyUsage);
  if (eku) {
    for (const o of children(parseDer(a, eku.value))) {
      const id = a.derToOid(o.value as string);
      extKeyUsage.push(id === OID.serverAuth ? 'serverAuth' : id === OID.clientAuth ? 'clientAuth' : id);
    }
  }
  const dnsNames: string[] = [];
  const ips: string[] = [];
  const san = exts.get(OID.subjectAltName);
  if (san) {
    for (const gn of children(parseDer(a, san.value))) {
      if (gn.tagClass !== a.Class.CONTEXT_SPECIFIC) continue;
      if (gn.type === 2) dnsNames.push(bytesOf(gn).toString('latin1'));
      else if (gn.type === 7) ips.push(ipText(bytesOf(gn)));
    }
  }
  const skid = exts.get(OID.subjectKeyId);
  const akid = exts.get(OID.authorityKeyId);
  let authorityKeyId: Buffer | undefined;
  if (akid) {
    const keyId = children(parseDer(a, akid.value)).find((n) => n.tagClass === a.Class.CONTEXT_SPECIFIC && n.type === 0);
    authorityKeyId = keyId ? bytesOf(keyId) : undefined;
  }
  const validity = children(parts.validity);
  const serialBytes = bytesOf(parts.serial);
  return {
    der: block.der,
    x509,
    subject: readName(a, parts.subject),
    issuer: readName(a, parts.issuer),
    serial: serialBytes.length === 0 ? 0n : BigInt(`0x${serialBytes.toString('hex')}`),
    notBefore: readTime(a, validity[0]),
    notAfter: readTime(a, validity[1]),
    isCA,
    keyUsage,
    keyUsageCritical: ku?.critical ?? false,
    extKeyUsage,
    dnsNames,
    ips,
    subjectKeyId: skid ? bytesOf(parseDer(a, skid.value)) : undefined,
    authorityKeyId,
    extensionOrder: parts.extensions.map((e) => a.derToOid((children(e)[0] as Asn1).value as string)),
    signatureAlgorithm: parts.signatureAlgorithm,
    publicKey: x509.publicKey,
  };
}

/** True when `ca` issued `cert`: names chain and the signature verifies with the CA's public key. */
export function signedBy(cert: CertInfo, ca: CertInfo): boolean {
  try {
    return cert.x509.checkIssued(ca.x509) && cert.x509.verify(ca.publicKey);
  } catch {
    return false;
  }
}

export function keyMatches(cert: CertInfo, privateKey: KeyObject): boolean {
  try {
    return cert.x509.checkPrivateKey(privateKey);
  } catch {
    return false;
  }
}

/** Required names the certificate does not cover (DNS through hostname matching, so wildcards count). */
export function missingAltNames(cert: CertInfo, dnsNames: readonly string[], ips: readonly string[]): { dnsNames: string[]; ips: string[] } {
  return {
    dnsNames: dnsNames.filter((d) => cert.x509.checkHost(d, { subject: 'never' }) === undefined),
    ips: ips.filter((ip) => cert.x509.checkIP(ip) === undefined),
  };
}

export function missingExtKeyUsages(cert: CertInfo, usages: readonly ExtUsage[]): ExtUsage[] {
  return usages.filter((u) => !cert.extKeyUsage.includes(u));
}

/** 'expired', 'not-yet-valid' or undefined, relative to `now`. */
export function validityProblem(cert: CertInfo, now: Date): 'expired' | 'not-yet-valid' | undefined {
  if (now.getTime() < cert.notBefore.getTime()) return 'not-yet-valid';
  if (now.getTime() > cert.notAfter.getTime()) return 'expired';
  return undefined;
}

/** Go's time.Time String() form used in kubeadm's messages: 2026-01-01 00:00:00 +0000 UTC. */
export function goTime(d: Date): string {
  return `${d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} +0000 UTC`;
}
