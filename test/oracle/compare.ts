/**
 * Compares what kubeadm wrote with what kubeboot wrote for one configuration: every file and directory (presence
 * and mode), the manifests and kubelet files byte for byte, kubeconfigs with their embedded data set aside and
 * that data compared as certificates and keys, every certificate field by field, and PEM block types.
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { certFields, pemBlocks, type CertFields } from './x509-fields.js';

export interface Difference {
  readonly config: string;
  /** path relative to / (etc/kubernetes/…), or a pseudo-file such as "kubeadm certs check-expiration" */
  readonly file: string;
  readonly field: string;
  readonly kubeadm: string;
  readonly kubeboot: string;
  /** a unified diff, for text files */
  readonly diff?: string;
}

/** The directories both tools write into, relative to / */
export const ROOTS = ['etc/kubernetes', 'var/lib/kubelet', 'var/lib/etcd'] as const;

interface Entry {
  readonly kind: 'file' | 'dir' | 'other';
  readonly mode: string;
}

/** Every file and directory under OUT's roots, by relative path. */
export function readTree(out: string): Map<string, Entry> {
  const m = new Map<string, Entry>();
  const walk = (rel: string): void => {
    const st = lstatSync(path.join(out, rel));
    const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    m.set(rel, { kind, mode: (st.mode & 0o7777).toString(8).padStart(4, '0') });
    if (kind === 'dir') for (const name of readdirSync(path.join(out, rel)).sort()) walk(`${rel}/${name}`);
  };
  for (const r of ROOTS) if (existsSync(path.join(out, r))) walk(r);
  return m;
}

/** The files compared byte for byte (besides any other file that is not a certificate, key or kubeconfig). */
export function isByteCompared(rel: string): boolean {
  return /^etc\/kubernetes\/manifests\/[^/]+\.yaml$/.test(rel) || /^var\/lib\/kubelet\/(config\.yaml|instance-config\.yaml|kubeadm-flags\.env)$/.test(rel);
}

export function unifiedDiff(file: string, a: string, b: string): string {
  return createTwoFilesPatch(`kubeadm/${file}`, `kubeboot/${file}`, a, b, undefined, undefined, { context: 3 });
}

const KUBECONFIG_DATA = /^(\s*)(certificate-authority-data|client-certificate-data|client-key-data): (\S+)$/gm;

/** A kubeconfig with its embedded data replaced by <name>, and the data decoded, by name. */
export function splitKubeconfig(text: string): { text: string; data: Map<string, string> } {
  const data = new Map<string, string>();
  const stripped = text.replace(KUBECONFIG_DATA, (_m, indent: string, name: string, value: string) => {
    data.set(name, Buffer.from(value, 'base64').toString('utf8'));
    return `${indent}${name}: <${name} set aside>`;
  });
  return { text: stripped, data };
}

export interface ToolRun {
  /** the directory holding etc/kubernetes, var/lib/kubelet */
  readonly out: string;
  /** Date.now() when the tool's first phase was started */
  readonly startedAt: number;
}

export interface CompareOptions {
  readonly config: string;
  /** seconds: two times that depend on when each process started may differ this much */
  readonly toleranceSeconds: number;
}

interface CertInTree {
  readonly file: string;
  readonly x: X509Certificate;
  readonly f: CertFields;
}

const dur = (s: number): string => {
  const sign = s < 0 ? '-' : '';
  let r = Math.abs(Math.round(s));
  const d = Math.floor(r / 86400);
  r -= d * 86400;
  const h = Math.floor(r / 3600);
  r -= h * 3600;
  const m = Math.floor(r / 60);
  return `${sign}${d}d${h}h${m}m${r - m * 60}s`;
};

function keyText(k: KeyObject): string {
  const d = k.asymmetricKeyDetails ?? {};
  return `${k.asymmetricKeyType ?? '?'} ${d.modulusLength ?? ''}${d.namedCurve ?? ''}`.trim();
}

/** The CA certificates of a tree (for AKID and signature checks), from every .crt and kubeconfig CA. */
function collectCerts(out: string, tree: Map<string, Entry>): CertInTree[] {
  const certs: CertInTree[] = [];
  for (const [rel, e] of tree) {
    if (e.kind !== 'file' || !rel.endsWith('.crt')) continue;
    for (const b of pemBlocks(readFileSync(path.join(out, rel), 'utf8'))) {
      if (b.type === 'CERTIFICATE') certs.push({ file: rel, x: new X509Certificate(b.der), f: certFields(b.der) });
    }
  }
  return certs;
}

/** Fields of one certificate that depend on its tree (issuer found, AKID, signature) and on the run's start time. */
function certRecord(der: Buffer, tree: CertInTree[], run: ToolRun): { fields: Record<string, string>; times: Record<string, number> } {
  const f = certFields(der);
  const x = new X509Certificate(der);
  const fields: Record<string, string> = { ...f.fields };
  const selfSigned = f.subjectDer === f.issuerDer;
  const issuer = selfSigned ? { x, f } : tree.find((c) => c.f.subjectDer === f.issuerDer && c.x.ca);
  if (!issuer) {
    fields.issuerInTree = 'no CA in the tree has this issuer name';
  } else {
    fields.issuerInTree = selfSigned ? 'self-signed' : `issued by ${issuer.f.fields.subject}`;
    fields.signatureVerifies = String(x.verify(issuer.x.publicKey));
    if (!selfSigned) fields.akidMatchesIssuerSkid = f.akid === undefined ? 'no AKID' : String(f.akid === issuer.f.skid);
  }
  return {
    fields,
    times: {
      // NotAfter − NotBefore, and NotBefore relative to when the tool was started
      validity: (f.notAfter.getTime() - f.notBefore.getTime()) / 1000,
      notBeforeOffset: (f.notBefore.getTime() - run.startedAt) / 1000,
    },
  };
}

/** Compares the same file's certificate records; times within the tolerance count as equal. */
function compareCertRecords(
  opts: CompareOptions,
  file: string,
  a: ReturnType<typeof certRecord>,
  b: ReturnType<typeof certRecord>,
  diffs: Difference[],
): void {
  for (const k of new Set([...Object.keys(a.fields), ...Object.keys(b.fields)])) {
    const va = a.fields[k] ?? '(none)';
    const vb = b.fields[k] ?? '(none)';
    if (va !== vb) diffs.push({ config: opts.config, file, field: k, kubeadm: va, kubeboot: vb });
  }
  for (const k of Object.keys(a.times)) {
    const ta = a.times[k]!;
    const tb = b.times[k]!;
    if (Math.abs(ta - tb) > opts.toleranceSeconds) {
      diffs.push({ config: opts.config, file, field: k, kubeadm: dur(ta), kubeboot: dur(tb) });
    }
  }
}

/** The certificates, keys and other PEM blocks of one file, as records by position. */
function pemRecords(
  text: string,
  tree: CertInTree[],
  run: ToolRun,
): { types: string; certs: ReturnType<typeof certRecord>[]; keys: { text: string; pub: KeyObject }[] } {
  const blocks = pemBlocks(text);
  const certs: ReturnType<typeof certRecord>[] = [];
  const keys: { text: string; pub: KeyObject }[] = [];
  for (const b of blocks) {
    if (b.type === 'CERTIFICATE') certs.push(certRecord(b.der, tree, run));
    else if (/PRIVATE KEY$/.test(b.type)) {
      const pem = `-----BEGIN ${b.type}-----\n${b.der.toString('base64')}\n-----END ${b.type}-----\n`;
      const k = createPrivateKey(pem);
      keys.push({ text: keyText(k), pub: createPublicKey(k) });
    } else if (/PUBLIC KEY$/.test(b.type)) {
      const pem = `-----BEGIN ${b.type}-----\n${b.der.toString('base64')}\n-----END ${b.type}-----\n`;
      const k = createPublicKey(pem);
      keys.push({ text: keyText(k), pub: k });
    }
  }
  return { types: blocks.map((b) => b.type).join(', ') || '(no PEM block)', certs, keys };
}

function comparePem(opts: CompareOptions, file: string, ta: string, tb: string, ctx: { treeA: CertInTree[]; treeB: CertInTree[]; a: ToolRun; b: ToolRun }, diffs: Difference[]): void {
  const ra = pemRecords(ta, ctx.treeA, ctx.a);
  const rb = pemRecords(tb, ctx.treeB, ctx.b);
  if (ra.types !== rb.types) diffs.push({ config: opts.config, file, field: 'PEM block types', kubeadm: ra.types, kubeboot: rb.types });
  for (let i = 0; i < Math.min(ra.certs.length, rb.certs.length); i++) {
    compareCertRecords(opts, ra.certs.length > 1 ? `${file} [certificate ${i + 1}]` : file, ra.certs[i]!, rb.certs[i]!, diffs);
  }
  for (let i = 0; i < Math.min(ra.keys.length, rb.keys.length); i++) {
    if (ra.keys[i]!.text !== rb.keys[i]!.text) diffs.push({ config: opts.config, file, field: 'key', kubeadm: ra.keys[i]!.text, kubeboot: rb.keys[i]!.text });
  }
}

/** Is the private key in `keyFile` the one of the certificate in the matching .crt? (both tools) */
function keyMatchesCert(out: string, keyRel: string): string | undefined {
  const crt = keyRel.replace(/\.key$/, '.crt');
  if (!existsSync(path.join(out, crt))) return undefined;
  try {
    const k = createPublicKey(createPrivateKey(readFileSync(path.join(out, keyRel))));
    const c = new X509Certificate(readFileSync(path.join(out, crt)));
    return String(k.equals(c.publicKey));
  } catch (e) {
    return `unreadable: ${(e as Error).message}`;
  }
}

/** Every difference between kubeadm's tree and kubeboot's tree. */
export function compareTrees(opts: CompareOptions, a: ToolRun, b: ToolRun): Difference[] {
  const diffs: Difference[] = [];
  const treeA = readTree(a.out);
  const treeB = readTree(b.out);
  const ctx = { treeA: collectCerts(a.out, treeA), treeB: collectCerts(b.out, treeB), a, b };
  const all = [...new Set([...treeA.keys(), ...treeB.keys()])].sort();
  for (const rel of all) {
    const ea = treeA.get(rel);
    const eb = treeB.get(rel);
    if (!ea || !eb) {
      diffs.push({ config: opts.config, file: rel, field: 'presence', kubeadm: ea ? `${ea.kind} ${ea.mode}` : 'absent', kubeboot: eb ? `${eb.kind} ${eb.mode}` : 'absent' });
      continue;
    }
    if (ea.kind !== eb.kind) {
      diffs.push({ config: opts.config, file: rel, field: 'kind', kubeadm: ea.kind, kubeboot: eb.kind });
      continue;
    }
    if (ea.mode !== eb.mode) diffs.push({ config: opts.config, file: rel, field: 'mode', kubeadm: ea.mode, kubeboot: eb.mode });
    if (ea.kind !== 'file') continue;
    const ba = readFileSync(path.join(a.out, rel));
    const bb = readFileSync(path.join(b.out, rel));
    const ta = ba.toString('utf8');
    const tb = bb.toString('utf8');
    if (/^etc\/kubernetes\/[^/]+\.conf$/.test(rel)) {
      const ka = splitKubeconfig(ta);
      const kb = splitKubeconfig(tb);
      if (ka.text !== kb.text) diffs.push({ config: opts.config, file: rel, field: 'bytes (embedded data set aside)', kubeadm: `${ka.text.length} bytes`, kubeboot: `${kb.text.length} bytes`, diff: unifiedDiff(rel, ka.text, kb.text) });
      for (const name of new Set([...ka.data.keys(), ...kb.data.keys()])) {
        const da = ka.data.get(name);
        const db = kb.data.get(name);
        if (da === undefined || db === undefined) {
          diffs.push({ config: opts.config, file: rel, field: name, kubeadm: da === undefined ? 'absent' : 'present', kubeboot: db === undefined ? 'absent' : 'present' });
          continue;
        }
        comparePem(opts, `${rel} ${name}`, da, db, ctx, diffs);
      }
      // the embedded CA is the cluster CA on disk, and the embedded key is the client certificate's
      const check = (out: string, k: ReturnType<typeof splitKubeconfig>): string => {
        const caData = k.data.get('certificate-authority-data');
        const caFile = ['etc/kubernetes/pki/ca.crt', ...[...treeA.keys(), ...treeB.keys()].filter((p) => /\/ca\.crt$/.test(p) && !p.includes('etcd'))].find((p) => existsSync(path.join(out, p)));
        const caOnDisk = caFile ? readFileSync(path.join(out, caFile), 'utf8') : undefined;
        const cert = k.data.get('client-certificate-data');
        const key = k.data.get('client-key-data');
        let keyMatch = 'no client key';
        if (cert && key) keyMatch = String(createPublicKey(createPrivateKey(key)).equals(new X509Certificate(cert).publicKey));
        return `embedded CA ${caData === caOnDisk ? 'is byte-identical to' : 'differs from'} ${caFile ?? 'the CA file'}; client key matches client certificate: ${keyMatch}`;
      };
      const ca = check(a.out, ka);
      const cb = check(b.out, kb);
      if (ca !== cb) diffs.push({ config: opts.config, file: rel, field: 'embedded data consistency', kubeadm: ca, kubeboot: cb });
      continue;
    }
    if (/\.(crt|key|pub)$/.test(rel)) {
      comparePem(opts, rel, ta, tb, ctx, diffs);
      if (rel.endsWith('.key')) {
        const ma = keyMatchesCert(a.out, rel);
        const mb = keyMatchesCert(b.out, rel);
        if (ma !== mb) diffs.push({ config: opts.config, file: rel, field: 'key matches certificate', kubeadm: String(ma), kubeboot: String(mb) });
      }
      if (rel.endsWith('sa.pub')) {
        // sa.pub is the public half of sa.key
        const m = (out: string): string => {
          try {
            return String(createPublicKey(createPrivateKey(readFileSync(path.join(out, rel.replace(/sa\.pub$/, 'sa.key'))))).equals(createPublicKey(readFileSync(path.join(out, rel)))));
          } catch (e) {
            return `unreadable: ${(e as Error).message}`;
          }
        };
        const ma = m(a.out);
        const mb = m(b.out);
        if (ma !== mb) diffs.push({ config: opts.config, file: rel, field: 'sa.pub is the public key of sa.key', kubeadm: ma, kubeboot: mb });
      }
      continue;
    }
    // manifests, kubelet files and anything else: byte for byte
    if (!ba.equals(bb)) diffs.push({ config: opts.config, file: rel, field: 'bytes', kubeadm: `${ba.length} bytes`, kubeboot: `${bb.length} bytes`, diff: unifiedDiff(rel, ta, tb) });
  }
  return diffs;
}

/** kubeadm's `certs check-expiration -o json`, with its times reduced to what two runs have in common. */
export interface ExpirationRow {
  readonly name: string;
  readonly caName?: string;
  readonly externallyManaged: boolean;
  readonly missing: boolean;
  readonly residualTime: number;
}

export function parseExpiration(json: string): { certificates: ExpirationRow[]; certificateAuthorities: ExpirationRow[] } {
  const o = JSON.parse(json) as { certificates?: ExpirationRow[]; certificateAuthorities?: ExpirationRow[] };
  const strip = (r: ExpirationRow): ExpirationRow => ({ name: r.name, caName: r.caName, externallyManaged: r.externallyManaged, missing: r.missing, residualTime: r.residualTime });
  return { certificates: (o.certificates ?? []).map(strip), certificateAuthorities: (o.certificateAuthorities ?? []).map(strip) };
}

export function compareExpiration(opts: CompareOptions, file: string, a: string, b: string): Difference[] {
  const diffs: Difference[] = [];
  const pa = parseExpiration(a);
  const pb = parseExpiration(b);
  for (const list of ['certificates', 'certificateAuthorities'] as const) {
    const names = [...new Set([...pa[list].map((r) => r.name), ...pb[list].map((r) => r.name)])];
    const order = (p: typeof pa): string => p[list].map((r) => r.name).join(', ');
    if (order(pa) !== order(pb)) diffs.push({ config: opts.config, file, field: `${list} listed`, kubeadm: order(pa), kubeboot: order(pb) });
    for (const n of names) {
      const ra = pa[list].find((r) => r.name === n);
      const rb = pb[list].find((r) => r.name === n);
      if (!ra || !rb) continue;
      for (const k of ['caName', 'externallyManaged', 'missing'] as const) {
        if (String(ra[k]) !== String(rb[k])) diffs.push({ config: opts.config, file, field: `${list}[${n}].${k}`, kubeadm: String(ra[k]), kubeboot: String(rb[k]) });
      }
      if (Math.abs(ra.residualTime - rb.residualTime) > opts.toleranceSeconds) {
        diffs.push({ config: opts.config, file, field: `${list}[${n}].residualTime`, kubeadm: dur(ra.residualTime), kubeboot: dur(rb.residualTime) });
      }
    }
  }
  return diffs;
}
