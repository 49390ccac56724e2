/**
 * What `kubeboot certs renew` and `check-expiration` cover, as data derived from the certificate and kubeconfig
 * tables (src/pki/table.ts): every leaf certificate and the client certificates embedded in admin.conf,
 * super-admin.conf, controller-manager.conf and scheduler.conf — never a CA, never kubelet.conf (the kubelet
 * rotates its own client certificate). Sorted by name, as kubeadm lists them. Light at import time.
 */
import type { ClusterSpec } from '../config/spec.js';
import { CERT_TABLE, KUBECONFIG_TABLE, certRow, type CertRow, type KubeconfigRow } from './table.js';
import { COMPONENT_TABLE, type StaticPodComponent } from '../components.js';

export type RenewItem =
  | { readonly kind: 'cert'; readonly name: string; readonly longName: string; readonly caName: string; readonly row: CertRow }
  | { readonly kind: 'kubeconfig'; readonly name: string; readonly longName: string; readonly caName: 'ca'; readonly row: KubeconfigRow };

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** All renewable items (external etcd leaves out the four etcd-signed certificates, as kubeadm does). */
export function renewItems(spec?: Pick<ClusterSpec, 'etcd'>): RenewItem[] {
  const external = spec?.etcd.external !== undefined;
  const certs: RenewItem[] = CERT_TABLE.filter((r) => !r.isCA && !(r.etcd && external)).map((row) => ({
    kind: 'cert',
    name: row.name,
    longName: row.longName,
    caName: row.ca as string,
    row,
  }));
  const kcs: RenewItem[] = KUBECONFIG_TABLE.filter((r) => r.name !== 'kubelet').map((row) => ({
    kind: 'kubeconfig',
    name: row.file,
    longName: row.longName,
    caName: 'ca',
    row,
  }));
  return [...certs, ...kcs].sort(byName);
}

/** Every item name, independent of the configuration (for the command list and validation). */
export const RENEW_NAMES: readonly string[] = renewItems().map((i) => i.name);

/** The CAs check-expiration reports, sorted: ca, etcd-ca (local etcd), front-proxy-ca. */
export function caRows(spec?: Pick<ClusterSpec, 'etcd'>): CertRow[] {
  const external = spec?.etcd.external !== undefined;
  return CERT_TABLE.filter((r) => r.isCA && !(r.etcd && external)).sort(byName);
}

export function caRowOf(item: RenewItem): CertRow {
  return certRow(item.caName);
}

/** The components that read the given items' files (the component table), in kubeadm's restart order. */
export function componentsFor(names: readonly string[]): StaticPodComponent[] {
  return COMPONENT_TABLE.filter((r) => r.readsCertificates.some((c) => names.includes(c))).map((r) => r.name);
}

/** "a", "a and b", "a, b and c" */
export function andList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
