/**
 * Issues X.509 certificates the way Go's crypto/x509 (and so kubeadm) lays them out. node-forge builds
 * the TBSCertificate as ASN.1; Node's native crypto.sign signs its DER (node-forge's pure-JS RSA signing
 * costs ~37 ms a certificate, the native one ~2 ms); the Certificate is then assembled here.
 *
 * Layout (Go defaults): version 3; random serial in [1, 2^63−1); subject with O then CN; extensions in
 * Go's order — keyUsage (critical), extKeyUsage, basicConstraints (critical), subjectKeyIdentifier (CAs
 * only: the first 160 bits of SHA-256 of the public key, Go ≥ 1.25), authorityKeyIdentifier (= the
 * issuer's SKID, not on self-signed certificates), subjectAltName (DNS names, then IPs).
 */
import { createHash, randomBytes, sign as nativeSign, type KeyObject } from 'node:crypto';
import { ipToBigInt, isIPv4 } from '../util/net.js';
import { OID, bytesOf, extensionMap, loadAsn1, parseDer, subjectPublicKeyBytes, tbsParts, toBin, toDer, type Asn1, type Asn1Module } from './asn1.js';
import { spkiDer } from './keys.js';
import { encodePem } from './pem.js';
import type { CertPlan, Validity } from './plan.js';
import type { KeyUsageName } from './table.js';

/** Who signs: the certificate's own key (self-signed CA) or a CA certificate and its key. */
export type Signer =
  | { readonly selfSigned: KeyObject }
  | { readonly caCertDer: Buffer; readonly caKey: KeyObject };

export interface IssueInput {
  readonly plan: CertPlan;
  readonly validity: Validity;
  /** the subject's public key */
  readonly publicKey: KeyObject;
  readonly signer: Signer;
  /** fixed serial (tests); random otherwise */
  readonly serial?: bigint;
}

export interface IssuedCert {
  readonly der: Buffer;
  readonly pem: string;
  readonly serial: bigint;
}

const MAX_INT64 = (1n << 63n) - 1n;

/** Uniform in [1, 2^63−1): a value in [0, MaxInt64−1) plus one, as kubeadm draws it. */
export function randomSerial(): bigint {
  for (;;) {
    const r = randomBytes(8).readBigUInt64BE() & MAX_INT64;
    if (r < MAX_INT64 - 1n) return r + 1n;
  }
}

function integerBytes(n: bigint): string {
  if (n < 0n) throw new Error('internal: negative serial');
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return toBin(Buffer.from(hex, 'hex'));
}

/** Go's asn1 PrintableString alphabet (with '*' allowed, '&' not); anything else is a UTF8String. */
function isPrintable(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?*]*$/.test(s);
}

function name(a: Asn1Module, cn: string, orgs: readonly string[]): Asn1 {
  const U = a.Class.UNIVERSAL;
  const T = a.Type;
  const atv = (oid: string, value: string) =>
    a.create(U, T.SEQUENCE, true, [
      a.create(U, T.OID, false, a.oidToDer(oid).getBytes()),
      isPrintable(value)
        ? a.create(U, T.PRINTABLESTRING, false, value)
        : a.create(U, T.UTF8, false, toBin(Buffer.from(value, 'utf8'))),
    ]);
  const rdns: Asn1[] = [];
  if (orgs.length > 0) rdns.push(a.create(U, T.SET, true, orgs.map((o) => atv(OID.organization, o))));
  if (cn !== '') rdns.push(a.create(U, T.SET, true, [atv(OID.commonName, cn)]));
  return a.create(U, T.SEQUENCE, true, rdns);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 and Go); whole seconds, UTC. */
function time(a: Asn1Module, d: Date): Asn1 {
  const y = d.getUTCFullYear();
  const rest = `${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return a.create(a.Class.UNIVERSAL, a.Type.UTCTIME, false, `${pad2(y % 100)}${rest}`);
  return a.create(a.Class.UNIVERSAL, a.Type.GENERALIZEDTIME, false, `${String(y).padStart(4, '0')}${rest}`);
}

const KEY_USAGE_BIT: Record<KeyUsageName, number> = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5 };

/** KeyUsage BIT STRING as Go marshals it: bit 0 is the most significant bit, trailing zero bits trimmed. */
function keyUsageBits(usages: readonly KeyUsageName[]): string {
  let bits = 0;
  for (const u of usages) bits |= 1 << KEY_USAGE_BIT[u];
  const bytes = [0, 0];
  for (let i = 0; i < 16; i++) if (bits & (1 << i)) bytes[i >> 3] = (bytes[i >> 3] as number) | (0x80 >> (i & 7));
  const len = bytes[1] !== 0 ? 2 : 1;
  let bitLength = 0;
  for (let i = 0; i < len * 8; i++) if (bits & (1 << i)) bitLength = i + 1;
  const unused = len * 8 - bitLength;
  return String.fromCharCode(unused, ...bytes.slice(0, len));
}

function extension(a: Asn1Module, oid: string, critical: boolean, value: Asn1): Asn1 {
  const U = a.Class.UNIVERSAL;
  const parts = [a.create(U, a.Type.OID, false, a.oidToDer(oid).getBytes())];
  if (critical) parts.push(a.create(U, a.Type.BOOLEAN, false, '\xff'));
  parts.push(a.create(U, a.Type.OCTETSTRING, false, a.toDer(value).getBytes()));
  return a.create(U, a.Type.SEQUENCE, true, parts);
}

function ipBytes(ip: string): string {
  const v4 = isIPv4(ip);
  const v = ipToBigInt(ip);
  const len = v4 ? 4 : 16;
  const buf = Buffer.alloc(len);
  for (let i = 0; i < len; i++) buf[len - 1 - i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return toBin(buf);
}

/** The key identifier Go ≥ 1.25 generates: SHA-256 of the subjectPublicKey bits, truncated to 160 bits. */
export function keyIdentifier(a: Asn1Module, spki: Buffer): Buffer {
  return createHash('sha256').update(subjectPublicKeyBytes(a, spki)).digest().subarray(0, 20);
}

function signatureAlgorithm(key: KeyObject): { oid: string; hash: string; nullParams: boolean } {
  if (key.asymmetricKeyType === 'rsa') return { oid: OID.sha256WithRSAEncryption, hash: 'sha256', nullParams: true };
  if (key.asymmetricKeyType === 'ec') {
    return key.asymmetricKeyDetails?.namedCurve === 'secp384r1'
      ? { oid: OID.ecdsaWithSHA384, hash: 'sha384', nullParams: false }
      : { oid: OID.ecdsaWithSHA256, hash: 'sha256', nullParams: false };
  }
  throw new Error(`cannot sign with a ${key.asymmetricKeyType ?? 'unknown'} key: kubeboot signs with RSA or ECDSA CA keys`);
}

function algorithmIdentifier(a: Asn1Module, alg: { oid: string; nullParams: boolean }): Asn1 {
  const U = a.Class.UNIVERSAL;
  const parts = [a.create(U, a.Type.OID, false, a.oidToDer(alg.oid).getBytes())];
  if (alg.nullParams) parts.push(a.create(U, a.Type.NULL, false, ''));
  return a.create(U, a.Type.SEQUENCE, true, parts);
}

export async function issueCertificate(input: IssueInput): Promise<IssuedCert> {
  const a = await loadAsn1();
  const U = a.Class.UNIVERSAL;
  const C = a.Class.CONTEXT_SPECIFIC;
  const T = a.Type;
  const { plan, validity } = input;
  if (!plan.isCA && plan.extKeyUsage.length === 0) throw new Error(`${plan.name}: must specify at least one ExtKeyUsage`);
  if (plan.commonName === '') throw new Error(`${plan.name}: must specify a CommonName`);

  const subjectSpki = spkiDer(input.publicKey);
  const subject = name(a, plan.commonName, plan.organization);
  let issuerName: Asn1;
  let signingKey: KeyObject;
  let authorityKeyId: Buffer | undefined;
  if ('selfSigned' in input.signer) {
    issuerName = subject;
    signingKey = input.signer.selfSigned;
  } else {
    const ca = tbsParts(a, input.signer.caCertDer);
    issuerName = parseDer(a, toDer(a, ca.subject)); // the CA's subject, byte for byte
    signingKey = input.signer.caKey;
    const skid = extensionMap(a, ca.extensions).get(OID.subjectKeyId);
    if (skid) authorityKeyId = bytesOf(parseDer(a, skid.value));
  }
  const alg = signatureAlgorithm(signingKey);
  const serial = input.serial ?? randomSerial();

  const exts: Asn1[] = [];
  exts.push(extension(a, OID.keyUsage, true, a.create(U, T.BITSTRING, false, keyUsageBits(plan.keyUsage))));
  if (plan.extKeyUsage.length > 0) {
    const oids = plan.extKeyUsage.map((u) => a.create(U, T.OID, false, a.oidToDer(OID[u]).getBytes()));
    exts.push(extension(a, OID.extKeyUsage, false, a.create(U, T.SEQUENCE, true, oids)));
  }
  exts.push(
    extension(a, OID.basicConstraints, true, a.create(U, T.SEQUENCE, true, plan.isCA ? [a.create(U, T.BOOLEAN, false, '\xff')] : [])),
  );
  if (plan.isCA) {
    exts.push(extension(a, OID.subjectKeyId, false, a.create(U, T.OCTETSTRING, false, toBin(keyIdentifier(a, subjectSpki)))));
  }
  if (authorityKeyId && authorityKeyId.length > 0) {
    exts.push(extension(a, OID.authorityKeyId, false, a.create(U, T.SEQUENCE, true, [a.create(C, 0, false, toBin(authorityKeyId))])));
  }
  if (plan.dnsNames.length > 0 || plan.ips.length > 0) {
    const names = [
      ...plan.dnsNames.map((d) => a.create(C, 2, false, d)),
      ...plan.ips.map((ip) => a.create(C, 7, false, ipBytes(ip))),
    ];
    exts.push(extension(a, OID.subjectAltName, false, a.create(U, T.SEQUENCE, true, names)));
  }

  const sigAlgId = algorithmIdentifier(a, alg);
  const tbs = a.create(U, T.SEQUENCE, true, [
    a.create(C, 0, true, [a.create(U, T.INTEGER, false, String.fromCharCode(2))]),
    a.create(U, T.INTEGER, false, integerBytes(serial)),
    sigAlgId,
    issuerName,
    a.create(U, T.SEQUENCE, true, [time(a, validity.notBefore), time(a, validity.notAfter)]),
    subject,
    parseDer(a, subjectSpki),
    a.create(C, 3, true, [a.create(U, T.SEQUENCE, true, exts)]),
  ]);
  const tbsDer = toDer(a, tbs);
  const signature = nativeSign(alg.hash, tbsDer, signingKey);
  const cert = a.create(U, T.SEQUENCE, true, [
    parseDer(a, tbsDer),
    algorithmIdentifier(a, alg),
    a.create(U, T.BITSTRING, false, `\x00${toBin(signature)}`),
  ]);
  const der = toDer(a, cert);
  return { der, pem: encodePem('CERTIFICATE', der), serial };
}
