/**
 * Subject Alternative Name rules (kubeadm-reference §2.2): which DNS names and IPs each serving certificate
 * gets, how user-given entries are classified, and how the list is normalised before signing
 * (DNS names: set, sorted; IPs: first-seen order, deduplicated by their canonical text).
 */
import type { ClusterSpec } from '../config/spec.js';
import { canonicalIp, indexedIp, isDNS1123Subdomain, isIP, isWildcardDNS1123Subdomain, parseCidr, splitHostPort } from '../util/net.js';

export interface AltNames {
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
}

/** What classifySANs reports for an entry it drops. */
export type SanWarn = (message: string) => void;

/**
 * Splits user SAN entries into IPs and DNS names. Anything that is neither an IP nor an RFC-1123
 * (wildcard) subdomain is dropped with kubeadm's warning. `certFile` is the name in the warning
 * ("apiserver.crt", "etcd/server.crt", "etcd/peer.crt").
 */
export function classifySANs(entries: readonly string[], certFile: string, warn: SanWarn): { dnsNames: string[]; ips: string[] } {
  const dnsNames: string[] = [];
  const ips: string[] = [];
  for (const e of entries) {
    if (isIP(e)) ips.push(canonicalIp(e));
    else if (isDNS1123Subdomain(e) || isWildcardDNS1123Subdomain(e)) dnsNames.push(e);
    else {
      warn(
        `[certificates] WARNING: '${e}' was not added to the '${certFile}' SAN, because it is not a valid IP or RFC-1123 compliant DNS entry`,
      );
    }
  }
  return { dnsNames, ips };
}

/** DNS names as a sorted set; IPs deduplicated by canonical text, first seen wins. */
export function normalizeAltNames(dnsNames: readonly string[], ips: readonly string[]): AltNames {
  const dns = [...new Set(dnsNames)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const seen = new Set<string>();
  const outIps: string[] = [];
  for (const ip of ips) {
    const c = canonicalIp(ip);
    if (seen.has(c)) continue;
    seen.add(c);
    outIps.push(c);
  }
  return { dnsNames: dns, ips: outIps };
}

export class AltNameError extends Error {}

function advertiseIp(spec: ClusterSpec): string {
  if (!isIP(spec.advertiseAddress)) {
    throw new AltNameError(
      `error parsing LocalAPIEndpoint AdvertiseAddress ${spec.advertiseAddress}: is not a valid textual representation of an IP address`,
    );
  }
  return canonicalIp(spec.advertiseAddress);
}

/** Index 1 of the first CIDR of networking.serviceSubnet (10.96.0.0/12 → 10.96.0.1). */
export function apiServerVirtualIP(serviceSubnet: string): string {
  const first = serviceSubnet.split(',')[0]?.trim() ?? '';
  const cidr = parseCidr(first);
  if (!cidr) throw new AltNameError(`unable to get first IP address from the given CIDR: ${serviceSubnet}`);
  return indexedIp(cidr, 1);
}

/** The apiserver serving certificate's SANs. */
export function apiServerAltNames(spec: ClusterSpec, warn: SanWarn): AltNames {
  const adv = advertiseIp(spec);
  const dns = [
    spec.nodeName,
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${spec.networking.dnsDomain}`,
  ];
  const ips = [apiServerVirtualIP(spec.networking.serviceSubnet), adv];
  if (spec.controlPlaneEndpoint !== '') {
    const hp = splitHostPort(spec.controlPlaneEndpoint);
    if (!hp) throw new AltNameError(`error parsing cluster controlPlaneEndpoint "${spec.controlPlaneEndpoint}"`);
    if (isIP(hp.host)) ips.push(canonicalIp(hp.host));
    else dns.push(hp.host);
  }
  const extra = classifySANs(spec.apiServer.certSANs, 'apiserver.crt', warn);
  return normalizeAltNames([...dns, ...extra.dnsNames], [...ips, ...extra.ips]);
}

/** etcd server (which = 'server') or peer certificate SANs. */
export function etcdAltNames(spec: ClusterSpec, which: 'server' | 'peer', warn: SanWarn): AltNames {
  const adv = advertiseIp(spec);
  const dns = [spec.nodeName, 'localhost'];
  const ips = [adv, '127.0.0.1', '::1'];
  const local = spec.etcd.local;
  const extraList = local ? (which === 'server' ? local.serverCertSANs : local.peerCertSANs) : [];
  const extra = classifySANs(extraList, `etcd/${which}.crt`, warn);
  return normalizeAltNames([...dns, ...extra.dnsNames], [...ips, ...extra.ips]);
}
