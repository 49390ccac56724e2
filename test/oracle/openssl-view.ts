/**
 * A second reader for the certificate fields the oracle compares: `openssl x509 -noout -text`. The oracle test
 * checks that its own DER reader (x509-fields.ts) and openssl agree on every certificate both tools wrote, so a
 * bug in the reader cannot hide a difference.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { certFields, ipText } from './x509-fields.js';

const KEY_USAGE: Record<string, string> = {
  'Digital Signature': 'digitalSignature',
  'Non Repudiation': 'contentCommitment',
  'Key Encipherment': 'keyEncipherment',
  'Data Encipherment': 'dataEncipherment',
  'Key Agreement': 'keyAgreement',
  'Certificate Sign': 'keyCertSign',
  'CRL Sign': 'cRLSign',
};
const EKU: Record<string, string> = { 'TLS Web Server Authentication': 'serverAuth', 'TLS Web Client Authentication': 'clientAuth' };

function ipv6(s: string): string {
  const halves = s.split('::');
  const parts = (p: string | undefined): string[] => (p ? p.split(':') : []);
  const head = parts(halves[0]);
  const tail = parts(halves[1]);
  const groups = halves.length > 1 ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return ipText(b);
}

const pem = (der: Buffer): string => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}(?=.)/g, '$&\n')}\n-----END CERTIFICATE-----\n`;

/**
 * The comparable view of each certificate, as openssl prints it, in order. One `openssl storeutl` reads them all
 * (one process per certificate would take seconds).
 */
export function opensslViews(ders: readonly Buffer[]): Record<string, string>[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeboot-oracle-openssl-'));
  try {
    const file = path.join(dir, 'all.pem');
    writeFileSync(file, ders.map(pem).join(''));
    const out = execFileSync('openssl', ['storeutl', '-noout', '-text', '-certs', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const texts = out.split(/^\d+: Certificate\n/m).slice(1);
    if (texts.length !== ders.length) throw new Error(`openssl storeutl printed ${texts.length} certificates of ${ders.length}`);
    return texts.map(view);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function view(text: string): Record<string, string> {
  const ext = (name: string): { critical: boolean; value: string } | undefined => {
    const m = new RegExp(`X509v3 ${name}:( critical)?\\s*\\n\\s+(.*)`).exec(text);
    return m ? { critical: m[1] !== undefined, value: m[2]!.trim() } : undefined;
  };
  const ku = ext('Key Usage');
  const eku = ext('Extended Key Usage');
  const bc = ext('Basic Constraints');
  const san = ext('Subject Alternative Name');
  return {
    signatureAlgorithm: /Signature Algorithm: (\S+)/.exec(text)?.[1] ?? '?',
    publicKeyBits: /Public-Key: \((\d+) bit\)/.exec(text)?.[1] ?? '?',
    keyUsage: ku ? `${ku.value.split(', ').map((u) => KEY_USAGE[u] ?? u).join(', ')}${ku.critical ? ' (critical)' : ''}` : '(absent)',
    extKeyUsage: eku ? `${eku.value.split(', ').map((u) => EKU[u] ?? u).join(', ')}${eku.critical ? ' (critical)' : ''}` : '(absent)',
    basicConstraints: bc ? `${bc.value}${bc.critical ? ' (critical)' : ''}` : '(absent)',
    subjectKeyIdentifier: ext('Subject Key Identifier') ? 'present' : '(absent)',
    authorityKeyIdentifier: ext('Authority Key Identifier') ? 'present' : '(absent)',
    subjectAltName: san
      ? san.value
          .split(', ')
          .map((g) => (g.startsWith('IP Address:') ? `IP:${g.includes(':', 11) ? ipv6(g.slice(11)) : g.slice(11)}` : g))
          .join(', ')
      : '(absent)',
  };
}

/** The same view from x509-fields.ts (and Node's X509Certificate for the subject and issuer). */
export function ownView(der: Buffer): Record<string, string> {
  const f = certFields(der).fields;
  const critical = (name: string): string => (f.extensions!.split(', ').includes(`${name}(critical)`) ? ' (critical)' : '');
  const bits = /^rsa (\d+)/.exec(f.publicKey!)?.[1] ?? { 'ec prime256v1': '256', 'ec secp384r1': '384' }[f.publicKey!.replace(/ e=.*/, '')] ?? '?';
  return {
    signatureAlgorithm: f.signatureAlgorithm!.split(' ')[0]!,
    publicKeyBits: bits,
    keyUsage: f.keyUsage === '(absent)' ? '(absent)' : `${f.keyUsage}${critical('keyUsage')}`,
    extKeyUsage: f.extKeyUsage === '(absent)' ? '(absent)' : `${f.extKeyUsage}${critical('extKeyUsage')}`,
    basicConstraints: f.basicConstraints === '(absent)' ? '(absent)' : `${f.basicConstraints}${critical('basicConstraints')}`,
    subjectKeyIdentifier: f.subjectKeyIdentifier === '(absent)' ? '(absent)' : 'present',
    authorityKeyIdentifier: f.authorityKeyIdentifier === '(absent)' ? '(absent)' : 'present',
    subjectAltName: f.subjectAltName!,
  };
}

/** Node's subject and issuer against the reader's (string types dropped). */
export function namesAgree(der: Buffer): boolean {
  const x = new X509Certificate(der);
  const f = certFields(der).fields;
  const strip = (s: string): string => s.replace(/\([A-Za-z0-9]+\)/g, '');
  return strip(f.subject!) === x.subject.split('\n').join(', ') && strip(f.issuer!) === x.issuer.split('\n').join(', ');
}
