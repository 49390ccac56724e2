/**
 * Plans: what each certificate must contain, computed purely from the spec and the tables. Signing
 * (src/pki/sign.ts) turns a plan plus a key and a CA into a certificate; golden tests pin plans.
 */
import type { ClusterSpec } from '../config/spec.js';
import { controlPlaneEndpointURL, localEndpointURL } from '../render/kubeconfig.js';
import { apiServerAltNames, etcdAltNames, normalizeAltNames, type AltNames, type SanWarn } from './altnames.js';
import {
  CERT_TABLE,
  CERTIFICATE_BACKDATE_MS,
  KUBECONFIG_TABLE,
  commonNameOf,
  keyUsageOf,
  kubeconfigEndpointKind,
  kubeconfigUser,
  type CertRow,
  type ExtUsage,
  type KeyUsageName,
  type KubeconfigRow,
} from './table.js';

export interface CertPlan {
  /** row or kubeconfig name */
  readonly name: string;
  readonly commonName: string;
  readonly organization: readonly string[];
  readonly isCA: boolean;
  readonly keyUsage: readonly KeyUsageName[];
  readonly extKeyUsage: readonly ExtUsage[];
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  /** NotAfter − start */
  readonly validityMs: number;
}

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** SANs for a row (CAs: one DNS name equal to the CN). */
export function altNamesFor(row: CertRow, spec: ClusterSpec, warn: SanWarn): AltNames {
  switch (row.sans) {
    case 'none':
      return { dnsNames: [], ips: [] };
    case 'ca':
      return normalizeAltNames([commonNameOf(row, spec)], []);
    case 'apiserver':
      return apiServerAltNames(spec, warn);
    case 'etcd-server':
      return etcdAltNames(spec, 'server', warn);
    case 'etcd-peer':
      return etcdAltNames(spec, 'peer', warn);
  }
}

export function planCert(row: CertRow, spec: ClusterSpec, warn: SanWarn): CertPlan {
  if (!row.isCA && row.extKeyUsage.length === 0) throw new Error(`internal: ${row.name}: must specify at least one ExtKeyUsage`);
  const cn = commonNameOf(row, spec);
  if (cn === '') throw new Error(`${row.name}: must specify a CommonName`);
  const sans = altNamesFor(row, spec, warn);
  return {
    name: row.name,
    commonName: cn,
    organization: row.organization,
    isCA: row.isCA,
    keyUsage: keyUsageOf(row.isCA),
    extKeyUsage: row.extKeyUsage,
    dnsNames: sans.dnsNames,
    ips: sans.ips,
    validityMs: row.isCA ? spec.caCertificateValidityPeriodMs : spec.certificateValidityPeriodMs,
  };
}

/** The client certificate embedded in a kubeconfig: clientAuth, no SANs, leaf validity. */
export function planKubeconfigCert(row: KubeconfigRow, spec: ClusterSpec): CertPlan {
  return {
    name: row.name,
    commonName: kubeconfigUser(row, spec),
    organization: row.organization,
    isCA: false,
    keyUsage: keyUsageOf(false),
    extKeyUsage: ['clientAuth'],
    dnsNames: [],
    ips: [],
    validityMs: spec.certificateValidityPeriodMs,
  };
}

/** NotBefore = start − 5 min; NotAfter = start + validity. */
export function pkiValidity(plan: CertPlan, start: Date): Validity {
  return {
    notBefore: new Date(start.getTime() - CERTIFICATE_BACKDATE_MS),
    notAfter: new Date(start.getTime() + plan.validityMs),
  };
}

/** kubeadm sets no NotBefore on kubeconfig client certificates, so they take the CA's NotBefore. */
export function kubeconfigValidity(plan: CertPlan, start: Date, caNotBefore: Date): Validity {
  return { notBefore: caNotBefore, notAfter: new Date(start.getTime() + plan.validityMs) };
}

/** The rows that run for this spec (external etcd drops the etcd CA and the four certs it signs). */
export function activeCertRows(spec: ClusterSpec): CertRow[] {
  return CERT_TABLE.filter((r) => !(r.etcd && spec.etcd.external));
}

export function kubeconfigServer(row: KubeconfigRow, spec: ClusterSpec): string {
  return kubeconfigEndpointKind(row, spec) === 'local' ? localEndpointURL(spec) : controlPlaneEndpointURL(spec);
}

/** Everything the certs and kubeconfig phases would make for this spec, as data. */
export interface PkiPlan {
  readonly certs: readonly (CertPlan & { readonly baseName: string; readonly issuer: string })[];
  readonly kubeconfigs: readonly (CertPlan & { readonly file: string; readonly server: string; readonly issuer: string })[];
}

export function planPki(spec: ClusterSpec, warn: SanWarn): PkiPlan {
  const rows = activeCertRows(spec);
  const certs = rows.map((row) => {
    const plan = planCert(row, spec, warn);
    const caRow = row.ca ? CERT_TABLE.find((r) => r.name === row.ca) : row;
    return { ...plan, baseName: row.baseName, issuer: commonNameOf(caRow as CertRow, spec) };
  });
  const caCN = commonNameOf(CERT_TABLE[0] as CertRow, spec);
  const kubeconfigs = KUBECONFIG_TABLE.map((row) => ({
    ...planKubeconfigCert(row, spec),
    file: row.file,
    server: kubeconfigServer(row, spec),
    issuer: caCN,
  }));
  return { certs, kubeconfigs };
}
