/**
 * A certificate, field by field, for comparing kubeadm's certificates with kubeboot's. A small DER reader
 * (no dependency) walks the certificate so that what Node's X509Certificate does not expose is compared too:
 * string types in names, extension order and critical flags, key usage bits, the SKID/AKID make-up, time
 * encodings and the signature algorithm's parameters.
 */
import { X509Certificate, createHash } from 'node:crypto';

interface Tlv {
  /** first identifier octet (class, constructed bit and tag number; numbers < 31 only) */
  readonly tag: number;
  /** offset of the first content octet */
  readonly start: number;
  /** offset after the last content octet */
  readonly end: number;
  /** offset of the identifier octet */
  readonly at: number;
}

function tlv(buf: Buffer, at: number): Tlv {
  const tag = buf[at];
  if (tag === undefined || (tag & 0x1f) === 0x1f) throw new Error(`DER: unsupported tag at ${at}`);
  let off = at + 1;
  const first = buf[off++];
  if (first === undefined) throw new Error(`DER: truncated at ${at}`);
  let len = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new Error(`DER: bad length at ${at}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[off++] ?? 0);
  }
  if (off + len > buf.length) throw new Error(`DER: length overruns at ${at}`);
  return { tag, start: off, end: off + len, at };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.start; off < parent.end; ) {
    const c = tlv(buf, off);
    out.push(c);
    off = c.end;
  }
  return out;
}

const content = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.start, t.end);
const whole = (buf: Buffer, t: Tlv): Buffer => buf.subarray(t.at, t.end);

function oid(bytes: Buffer): string {
  const parts: number[] = [];
  const b0 = bytes[0] ?? 0;
  parts.push(Math.floor(b0 / 40), b0 % 40);
  let v = 0;
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const OID_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'rsaEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.10045.2.1': 'ecPublicKey',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.3.1.7': 'prime256v1',
  '1.3.132.0.34': 'secp384r1',
  '1.3.101.112': 'Ed25519',
  '2.5.4.3': 'CN',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.37': 'extKeyUsage',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
};
const oidName = (o: string): string => OID_NAMES[o] ?? o;

const STRING_TYPES: Record<number, string> = {
  0x0c: 'UTF8String',
  0x13: 'PrintableString',
  0x14: 'TeletexString',
  0x16: 'IA5String',
  0x1e: 'BMPString',
};

/** A Name as "CN=kubernetes(PrintableString), O=…": every RDN in order, with the string type of each value. */
function nameText(buf: Buffer, name: Tlv): string {
  const rdns = children(buf, name).map((set) =>
    children(buf, set)
      .map((atv) => {
        const [type, value] = children(buf, atv);
        if (!type || !value) throw new Error('DER: bad AttributeTypeAndValue');
        const kind = STRING_TYPES[value.tag] ?? `tag0x${value.tag.toString(16)}`;
        return `${oidName(oid(content(buf, type)))}=${content(buf, value).toString('utf8')}(${kind})`;
      })
      .join('+'),
  );
  return rdns.join(', ') || '(empty)';
}

function algorithm(buf: Buffer, alg: Tlv): string {
  const [id, params] = children(buf, alg);
  if (!id) throw new Error('DER: empty AlgorithmIdentifier');
  let p = 'no parameters';
  if (params) p = params.tag === 0x05 ? 'NULL parameters' : params.tag === 0x06 ? oidName(oid(content(buf, params))) : `parameters tag 0x${params.tag.toString(16)}`;
  return `${oidName(oid(content(buf, id)))} (${p})`;
}

export function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
    // RFC 5952: compress the longest run (≥2) of zero groups
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== '0') {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen) {
        best = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (best < 0) return groups.join(':');
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  }
  return `bytes:${b.toString('hex')}`;
}

const KEY_USAGE_BITS = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

function time(buf: Buffer, t: Tlv): { date: Date; kind: string } {
  const s = content(buf, t).toString('ascii');
  if (t.tag === 0x17) {
    const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw new Error(`DER: bad UTCTime ${s}`);
    const yy = Number(m[1]);
    return { date: new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))), kind: 'UTCTime' };
  }
  if (t.tag === 0x18) {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw new Error(`DER: bad GeneralizedTime ${s}`);
    return { date: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))), kind: 'GeneralizedTime' };
  }
  throw new Error(`DER: bad time tag 0x${t.tag.toString(16)}`);
}

/** What one certificate says, as comparable strings, plus the raw values the comparison needs. */
export interface CertFields {
  /** field name → value; every field is compared between kubeadm and kubeboot */
  readonly fields: Record<string, string>;
  readonly subjectDer: string;
  readonly issuerDer: string;
  readonly skid: string | undefined;
  readonly akid: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialBits: number;
}

export function certFields(der: Buffer): CertFields {
  const cert = tlv(der, 0);
  const [tbs, sigAlg] = children(der, cert);
  if (!tbs || !sigAlg) throw new Error('DER: not a certificate');
  const parts = children(der, tbs);
  let i = 0;
  let version = 'v1 (no version field)';
  if (parts[0]?.tag === 0xa0) {
    const v = children(der, parts[0])[0];
    version = `v${(v ? (content(der, v)[0] ?? 0) : 0) + 1}`;
    i = 1;
  }
  const serial = parts[i++];
  const innerSig = parts[i++];
  const issuer = parts[i++];
  const validity = parts[i++];
  const subject = parts[i++];
  const spki = parts[i++];
  if (!serial || !innerSig || !issuer || !validity || !subject || !spki) throw new Error('DER: short TBSCertificate');
  const rest = parts.slice(i);

  const fields: Record<string, string> = {};
  fields.version = version;
  const serialBytes = content(der, serial);
  let serialValue = BigInt(`0x${serialBytes.toString('hex') || '0'}`);
  if ((serialBytes[0] ?? 0) & 0x80) serialValue -= 1n << BigInt(serialBytes.length * 8);
  const serialBits = serialValue > 0n ? serialValue.toString(2).length : 0;
  // kubeadm's serials are uniform in [1, 2^63-1): the size of one is random, the range is not
  fields.serial = serialValue <= 0n ? `not positive (${serialValue})` : serialBits <= 63 ? 'positive, at most 63 bits' : `${serialBits} bits`;
  fields.signatureAlgorithm = algorithm(der, sigAlg);
  fields.tbsSignatureMatchesOuter = String(whole(der, innerSig).equals(whole(der, sigAlg)));
  fields.issuer = nameText(der, issuer);
  fields.subject = nameText(der, subject);
  const [nb, na] = children(der, validity);
  if (!nb || !na) throw new Error('DER: bad Validity');
  const notBefore = time(der, nb);
  const notAfter = time(der, na);
  fields.validityEncoding = `${notBefore.kind}/${notAfter.kind}`;
  const [pkAlg, pkBits] = children(der, spki);
  if (!pkAlg || !pkBits) throw new Error('DER: bad SubjectPublicKeyInfo');
  fields.publicKeyAlgorithm = algorithm(der, pkAlg);
  const x = new X509Certificate(der);
  const details = x.publicKey.asymmetricKeyDetails ?? {};
  fields.publicKey = `${x.publicKey.asymmetricKeyType ?? '?'} ${details.modulusLength ?? ''}${details.namedCurve ?? ''}${details.publicExponent !== undefined ? ` e=${details.publicExponent}` : ''}`.trim();
  fields.optionalTbsParts = rest.filter((t) => t.tag !== 0xa3).map((t) => `tag0x${t.tag.toString(16)}`).join(',') || 'none';

  // the public key bits (without the unused-bits octet), for the key identifier methods
  const spkBits = content(der, pkBits).subarray(1);
  let skid: string | undefined;
  let akid: string | undefined;
  const extOrder: string[] = [];
  const ext = rest.find((t) => t.tag === 0xa3);
  const extSeq = ext ? children(der, ext)[0] : undefined;
  for (const e of extSeq ? children(der, extSeq) : []) {
    const ec = children(der, e);
    const id = oidName(oid(content(der, ec[0]!)));
    let critical = false;
    let value = ec[1]!;
    if (value.tag === 0x01) {
      critical = (content(der, value)[0] ?? 0) !== 0;
      value = ec[2]!;
    }
    extOrder.push(`${id}${critical ? '(critical)' : ''}`);
    const inner = tlv(der, value.start);
    switch (id) {
      case 'keyUsage': {
        const b = content(der, inner);
        const names: string[] = [];
        for (let bit = 0; bit < (b.length - 1) * 8; bit++) {
          if (((b[1 + (bit >> 3)] ?? 0) >> (7 - (bit & 7))) & 1) names.push(KEY_USAGE_BITS[bit] ?? `bit${bit}`);
        }
        fields.keyUsage = names.join(', ');
        fields.keyUsageEncoding = content(der, inner).toString('hex');
        break;
      }
      case 'extKeyUsage':
        fields.extKeyUsage = children(der, inner).map((o) => oidName(oid(content(der, o)))).join(', ');
        break;
      case 'basicConstraints': {
        const bc = children(der, inner);
        const ca = bc.find((t) => t.tag === 0x01);
        const pl = bc.find((t) => t.tag === 0x02);
        fields.basicConstraints = `CA:${ca ? ((content(der, ca)[0] ?? 0) !== 0 ? 'TRUE' : 'FALSE (encoded)') : 'FALSE'}${pl ? `, pathlen:${content(der, pl).readUIntBE(0, content(der, pl).length)}` : ''}`;
        break;
      }
      case 'subjectKeyIdentifier':
        skid = content(der, inner).toString('hex');
        break;
      case 'authorityKeyIdentifier':
        for (const c of children(der, inner)) {
          if (c.tag === 0x80) akid = content(der, c).toString('hex');
          else fields.authorityKeyIdentifierOther = `${fields.authorityKeyIdentifierOther ?? ''}tag0x${c.tag.toString(16)} `;
        }
        break;
      case 'subjectAltName':
        fields.subjectAltName = children(der, inner)
          .map((g) => {
            const v = content(der, g);
            if (g.tag === 0x82) return `DNS:${v.toString('ascii')}`;
            if (g.tag === 0x87) return `IP:${ipText(v)}`;
            if (g.tag === 0x86) return `URI:${v.toString('ascii')}`;
            if (g.tag === 0x81) return `email:${v.toString('ascii')}`;
            return `tag0x${g.tag.toString(16)}:${v.toString('hex')}`;
          })
          .join(', ');
        break;
      default:
        fields[`extension ${id}`] = content(der, inner).toString('hex');
    }
  }
  fields.extensions = extOrder.join(', ') || 'none';
  fields.keyUsage ??= '(absent)';
  fields.extKeyUsage ??= '(absent)';
  fields.basicConstraints ??= '(absent)';
  fields.subjectAltName ??= '(absent)';
  fields.subjectKeyIdentifier = skid === undefined ? '(absent)' : `${skid.length / 2} bytes, ${keyIdMethod(skid, spkBits)}`;
  fields.authorityKeyIdentifier = akid === undefined ? '(absent)' : `${akid.length / 2} bytes`;
  return {
    fields,
    subjectDer: whole(der, subject).toString('hex'),
    issuerDer: whole(der, issuer).toString('hex'),
    skid,
    akid,
    notBefore: notBefore.date,
    notAfter: notAfter.date,
    serialBits,
  };
}

/** How a key identifier was made from the subject public key (RFC 5280 and RFC 7093 method 1), if one of those. */
function keyIdMethod(id: string, spkBits: Buffer): string {
  if (createHash('sha1').update(spkBits).digest('hex') === id) return 'SHA-1 of the public key (RFC 5280)';
  if (createHash('sha256').update(spkBits).digest('hex').slice(0, 40) === id) return 'leftmost 160 bits of SHA-256 of the public key (RFC 7093)';
  return 'not derived from the public key by SHA-1 or SHA-256';
}

/** Every PEM block in a text: its type and its DER bytes. */
export function pemBlocks(text: string): { type: string; der: Buffer }[] {
  const out: { type: string; der: Buffer }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ type: m[1]!, der: Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') });
  }
  return out;
}
