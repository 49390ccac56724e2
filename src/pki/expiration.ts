/**
 * `kubeboot certs check-expiration`: what each renewable certificate and each CA looks like on disk — expiry,
 * residual time, signing CA, whether it is externally managed (its CA key is absent) or missing — as data
 * (kubeadm's output.kubeadm.k8s.io/v1alpha3 CertificateExpirationInfo) and as kubeadm's two tab-aligned tables.
 * Formatting functions are pure; reading goes through the effects.
 */
import type { ClusterSpec } from '../config/spec.js';
import type { Effects } from '../effects/types.js';
import { CertParseError, readCertificate, type CertInfo } from './inspect.js';
import { certPaths, certRow, type CertRow } from './table.js';
import { parseKubeconfig } from '../kube/kubeconfig.js';
import { caRows, renewItems, type RenewItem } from './items.js';

export const OUTPUT_API_VERSION = 'output.kubeadm.k8s.io/v1alpha3';
export const EXPIRING_SOON_MS = 30 * 24 * 3600 * 1000;

/** kubeadm's output API Certificate (field names as kubeadm writes them). */
export interface ExpirationEntry {
  readonly name: string;
  /** RFC 3339, UTC; null when missing */
  readonly expirationDate: string | null;
  /** whole seconds until expiry (negative once expired) */
  readonly residualTime: number;
  readonly externallyManaged: boolean;
  /** the signing CA (certificates only) */
  readonly caName?: string;
  readonly missing: boolean;
  /**
   * kubeboot's addition, only on an entry whose file is there but cannot be read as a certificate (it does not parse,
   * a kubeconfig has no embedded client certificate, the file may not be read): the file and why. Such an entry has
   * missing false (the file is there), expirationDate null and residualTime 0, and the command exits 1.
   */
  readonly unreadable?: string;
}

export interface CertificateExpirationInfo {
  readonly kind: 'CertificateExpirationInfo';
  readonly apiVersion: typeof OUTPUT_API_VERSION;
  readonly certificates: readonly ExpirationEntry[];
  readonly certificateAuthorities: readonly ExpirationEntry[];
}

export interface ExpirationReport {
  readonly info: CertificateExpirationInfo;
  /** "… expires in 9d …" lines for anything that has expired or expires within 30 days */
  readonly warnings: readonly string[];
  /** one line per file that is there but could not be read as a certificate: `"<file>": <why>` */
  readonly unreadable: readonly string[];
}

/** A certificate file as check-expiration finds it: read, absent, or there but unreadable (and why). */
type Found = { readonly cert: CertInfo } | { readonly unreadable: string } | undefined;

async function readRaw(fx: Effects, path: string): Promise<Buffer | { unreadable: string } | undefined> {
  try {
    return await fx.readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { unreadable: e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message };
  }
}

/** Reads a certificate file; undefined when absent, `unreadable` (with the parse error) when it is not a certificate. */
async function readCert(fx: Effects, path: string): Promise<Found> {
  const raw = await readRaw(fx, path);
  if (raw === undefined || !Buffer.isBuffer(raw)) return raw;
  try {
    return { cert: await readCertificate(raw) };
  } catch (err) {
    if (err instanceof CertParseError) return { unreadable: `not a valid certificate: ${err.message}` };
    throw err;
  }
}

/** The client certificate embedded in a kubeconfig's current user; undefined when the file is absent. */
export async function readKubeconfigCert(fx: Effects, path: string): Promise<Found> {
  const raw = await readRaw(fx, path);
  if (raw === undefined || !Buffer.isBuffer(raw)) return raw;
  const view = parseKubeconfig(raw.toString('utf8'));
  if (typeof view === 'string') return { unreadable: `not a valid kubeconfig: ${view}` };
  if (view.clientCertData === undefined) return { unreadable: 'the kubeconfig has no embedded client certificate (client-certificate-data)' };
  try {
    return { cert: await readCertificate(view.clientCertData) };
  } catch (err) {
    if (err instanceof CertParseError) return { unreadable: `its client certificate is not valid: ${err.message}` };
    throw err;
  }
}

export function itemCertPath(spec: ClusterSpec, item: RenewItem): string {
  return item.kind === 'cert' ? certPaths(spec.paths.certificatesDir, item.row.baseName).crt : `${spec.paths.kubernetesDir}/${item.row.file}`;
}

/** A CA is externally managed when its certificate is there and its key is not (kubeadm's external CA mode). */
async function externallyManaged(fx: Effects, spec: ClusterSpec, ca: CertRow): Promise<boolean> {
  const p = certPaths(spec.paths.certificatesDir, ca.baseName);
  const look = (f: string) => fx.stat(f).catch(() => ({ kind: 'other' as const, mode: 0, size: 0 }));
  const [crt, key] = await Promise.all([look(p.crt), look(p.key)]);
  return crt !== undefined && key === undefined;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function entry(name: string, cert: CertInfo, now: Date, external: boolean, caName: string | undefined): ExpirationEntry {
  return {
    name,
    expirationDate: rfc3339(cert.notAfter),
    residualTime: Math.trunc((cert.notAfter.getTime() - now.getTime()) / 1000),
    externallyManaged: external,
    ...(caName !== undefined ? { caName } : {}),
    missing: false,
  };
}

function soonWarning(what: string, e: ExpirationEntry, renewable: boolean): string | undefined {
  if (e.missing || e.expirationDate === null || e.residualTime * 1000 >= EXPIRING_SOON_MS) return undefined;
  const when = kubeadmDate(new Date(e.expirationDate));
  const fix = renewable
    ? e.externallyManaged
      ? `; it is signed by an external CA (${e.caName}): renew it with that CA`
      : `; renew it with 'kubeboot certs renew ${e.name}'`
    : '; kubeboot does not renew certificate authorities: plan to replace it (and every certificate it signed)';
  return e.residualTime < 0
    ? `the ${what} ${e.name} has expired (${when})${fix}`
    : `the ${what} ${e.name} expires in ${shortHumanDuration(e.residualTime * 1000)} (${when})${fix}`;
}

export async function checkExpiration(fx: Effects, spec: ClusterSpec, now: Date): Promise<ExpirationReport> {
  const warnings: string[] = [];
  const unreadable: string[] = [];
  const notRead = (name: string, path: string, why: string): ExpirationEntry => {
    unreadable.push(`"${path}": ${why}`);
    return { name, expirationDate: null, residualTime: 0, externallyManaged: false, missing: false, unreadable: `${path}: ${why}` };
  };
  const certificates: ExpirationEntry[] = [];
  for (const item of renewItems(spec)) {
    const path = itemCertPath(spec, item);
    const found = item.kind === 'cert' ? await readCert(fx, path) : await readKubeconfigCert(fx, path);
    if (!found) certificates.push({ name: item.name, expirationDate: null, residualTime: 0, externallyManaged: false, missing: true });
    else if ('unreadable' in found) certificates.push(notRead(item.name, path, found.unreadable));
    else certificates.push(entry(item.name, found.cert, now, await externallyManaged(fx, spec, certRow(item.caName)), item.caName));
  }
  const certificateAuthorities: ExpirationEntry[] = [];
  for (const ca of caRows(spec)) {
    const path = certPaths(spec.paths.certificatesDir, ca.baseName).crt;
    const found = await readCert(fx, path);
    if (!found) certificateAuthorities.push({ name: ca.name, expirationDate: null, residualTime: 0, externallyManaged: false, missing: true });
    else if ('unreadable' in found) certificateAuthorities.push(notRead(ca.name, path, found.unreadable));
    else certificateAuthorities.push(entry(ca.name, found.cert, now, await externallyManaged(fx, spec, ca), undefined));
  }
  for (const e of certificates) {
    const w = soonWarning('certificate', e, true);
    if (w) warnings.push(w);
  }
  for (const e of certificateAuthorities) {
    const w = soonWarning('certificate authority', e, false);
    if (w) warnings.push(w);
  }
  return {
    info: { kind: 'CertificateExpirationInfo', apiVersion: OUTPUT_API_VERSION, certificates, certificateAuthorities },
    warnings,
    unreadable,
  };
}

// ---------------------------------------------------------------------------------------------- formatting (pure)

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.Format("Jan 02, 2006 15:04 MST") for a UTC time: "Nov 22, 2027 09:41 UTC". */
export function kubeadmDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())}, ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}

/** apimachinery's duration.ShortHumanDuration: 59s, 59m, 47h, 729d, 2y; "<invalid>" below −1 s. */
export function shortHumanDuration(ms: number): string {
  // apimachinery's duration.HumanDuration, which kubeadm's check-expiration prints
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const sec = seconds % 60;
    return sec === 0 ? `${minutes}m` : `${minutes}m${sec}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${Math.trunc(hours / 24 / 365)}y` : `${Math.trunc(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/**
 * Go's text/tabwriter with kubeadm's settings (minwidth 10, padding 3, pad with spaces): tab-terminated cells are
 * padded to their column's width within each block of lines; the last cell of a line is printed as it is. A block
 * ends at a line with fewer cells (an empty line ends every block), as in Go.
 */
export function tabwrite(lines: readonly string[], minwidth = 10, padding = 3): string {
  const rows = lines.map((l) => {
    const parts = l.split('\t');
    return { cells: parts.slice(0, -1), last: parts[parts.length - 1] as string };
  });
  const widths: number[][] = rows.map((r) => r.cells.map(() => 0));
  const fill = (col: number, from: number, to: number) => {
    let w = minwidth;
    for (let i = from; i < to; i++) w = Math.max(w, (rows[i]?.cells[col]?.length ?? 0) + padding);
    for (let i = from; i < to; i++) (widths[i] as number[])[col] = w;
  };
  const maxCols = Math.max(0, ...rows.map((r) => r.cells.length));
  for (let col = 0; col < maxCols; col++) {
    let start = -1;
    for (let i = 0; i <= rows.length; i++) {
      const has = i < rows.length && (rows[i]?.cells.length ?? 0) > col;
      if (has && start < 0) start = i;
      if (!has && start >= 0) {
        fill(col, start, i);
        start = -1;
      }
    }
  }
  return rows
    .map((r, i) => r.cells.map((c, j) => c.padEnd(widths[i]?.[j] ?? 0)).join('') + r.last)
    .map((l) => `${l}\n`)
    .join('');
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** kubeadm's two tables. */
export function expirationTables(info: CertificateExpirationInfo): string {
  const lines = ['CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED'];
  for (const e of info.certificates) {
    if (e.unreadable !== undefined) lines.push(`!UNREADABLE! ${e.name}\t\t\t\t`);
    else if (e.missing || e.expirationDate === null) lines.push(`!MISSING! ${e.name}\t\t\t\t`);
    else {
      lines.push(
        `${e.name}\t${kubeadmDate(new Date(e.expirationDate))}\t${shortHumanDuration(e.residualTime * 1000)}\t${e.caName ?? ''}\t${yesNo(e.externallyManaged).padEnd(8)}`,
      );
    }
  }
  lines.push('');
  lines.push('CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED');
  for (const e of info.certificateAuthorities) {
    if (e.unreadable !== undefined) lines.push(`!UNREADABLE! ${e.name}\t\t\t`);
    else if (e.missing || e.expirationDate === null) lines.push(`!MISSING! ${e.name}\t\t\t`);
    else lines.push(`${e.name}\t${kubeadmDate(new Date(e.expirationDate))}\t${shortHumanDuration(e.residualTime * 1000)}\t${yesNo(e.externallyManaged).padEnd(8)}`);
  }
  return tabwrite(lines);
}

/** kubectl's JSON printer: 4-space indentation, kind and apiVersion first. */
export function expirationJson(info: CertificateExpirationInfo): string {
  return `${JSON.stringify(info, null, 4)}\n`;
}
