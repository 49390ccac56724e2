/**
 * node-forge's ASN.1 module (only that part of forge is loaded: the rest adds ~50 ms of start-up),
 * plus small helpers shared by signing and inspection. forge works on "binary strings" (one char per byte).
 */
import type * as Forge from 'node-forge';

export type Asn1Module = typeof Forge.asn1;
export type Asn1 = Forge.asn1.Asn1;

let cached: Asn1Module | undefined;

export async function loadAsn1(): Promise<Asn1Module> {
  if (cached) return cached;
  // node-forge has no "exports" map, so its lib/ files can be loaded one by one.
  const specifier = 'node-forge/lib/asn1.js';
  const mod = (await import(specifier)) as { default: Asn1Module };
  cached = mod.default;
  return cached;
}

export const toBin = (b: Buffer): string => b.toString('binary');
export const fromBin = (s: string): Buffer => Buffer.from(s, 'binary');

/** DER bytes → forge ASN.1, without forge's guessing at nested structures inside BIT STRINGs. */
export function parseDer(asn1: Asn1Module, der: Buffer): Asn1 {
  const fromDer = asn1.fromDer as unknown as (bytes: string, opts: { strict: boolean; decodeBitStrings: boolean }) => Asn1;
  return fromDer(toBin(der), { strict: true, decodeBitStrings: false });
}

export function toDer(asn1: Asn1Module, node: Asn1): Buffer {
  return fromBin(asn1.toDer(node).getBytes());
}

export function children(node: Asn1): Asn1[] {
  return Array.isArray(node.value) ? (node.value as Asn1[]) : [];
}

export function bytesOf(node: Asn1 | undefined): Buffer {
  return node && typeof node.value === 'string' ? fromBin(node.value) : Buffer.alloc(0);
}

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
} as const;

/** The parts of a DER certificate's TBSCertificate, by position (version is optional). */
export interface TbsParts {
  readonly tbs: Asn1;
  readonly serial: Asn1;
  readonly issuer: Asn1;
  readonly validity: Asn1;
  readonly subject: Asn1;
  readonly spki: Asn1;
  readonly extensions: Asn1[];
  readonly signatureAlgorithm: string;
}

export function tbsParts(asn1: Asn1Module, certDer: Buffer): TbsParts {
  const cert = parseDer(asn1, certDer);
  const [tbs, sigAlg] = children(cert);
  if (!tbs || !sigAlg) throw new Error('not an X.509 certificate');
  const items = children(tbs);
  let i = 0;
  if (items[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC && items[0].type === 0) i = 1;
  const [serial, , issuer, validity, subject, spki] = items.slice(i);
  if (!serial || !issuer || !validity || !subject || !spki) throw new Error('not an X.509 certificate');
  const extWrapper = items.find((x) => x.tagClass === asn1.Class.CONTEXT_SPECIFIC && x.type === 3);
  const extensions = extWrapper ? children(children(extWrapper)[0] as Asn1) : [];
  const sigOid = children(sigAlg)[0];
  return {
    tbs,
    serial,
    issuer,
    validity,
    subject,
    spki,
    extensions,
    signatureAlgorithm: sigOid ? asn1.derToOid(sigOid.value as string) : '',
  };
}

/** Extension OID → { critical, value DER }. */
export function extensionMap(asn1: Asn1Module, extensions: readonly Asn1[]): Map<string, { critical: boolean; value: Buffer }> {
  const out = new Map<string, { critical: boolean; value: Buffer }>();
  for (const ext of extensions) {
    const parts = children(ext);
    const oid = parts[0];
    if (!oid) continue;
    const critical = parts.length === 3 && (parts[1]?.value as string) === '\xff';
    const value = bytesOf(parts[parts.length - 1]);
    out.set(asn1.derToOid(oid.value as string), { critical, value });
  }
  return out;
}

/** The raw subjectPublicKey bytes of a SubjectPublicKeyInfo (what a key identifier hashes). */
export function subjectPublicKeyBytes(asn1: Asn1Module, spkiDer: Buffer): Buffer {
  const bits = children(parseDer(asn1, spkiDer))[1];
  return bytesOf(bits).subarray(1); // drop the unused-bits byte
}
