import { isIP, isIPv4, isIPv6 } from 'node:net';

export { isIP, isIPv4, isIPv6 };

/** host:port with IPv6 hosts in brackets, as Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Splits "host:port", "[v6]:port", "host" or "v6" into its parts; port is undefined when absent. */
export function splitHostPort(endpoint: string): { host: string; port: number | undefined } | undefined {
  const s = endpoint.trim();
  if (s.length === 0) return undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    const host = s.slice(1, close);
    if (!isIPv6(host)) return undefined;
    const rest = s.slice(close + 1);
    if (rest === '') return { host, port: undefined };
    if (!rest.startsWith(':')) return undefined;
    const port = parsePort(rest.slice(1));
    return port === undefined ? undefined : { host, port };
  }
  if (isIPv6(s)) return { host: s, port: undefined };
  const parts = s.split(':');
  if (parts.length > 2) return undefined;
  const host = parts[0] as string;
  if (host.length === 0) return undefined;
  if (parts.length === 1) return { host, port: undefined };
  const port = parsePort(parts[1] as string);
  return port === undefined ? undefined : { host, port };
}

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);

/** RFC 1123 subdomain, as Kubernetes' validation.IsDNS1123Subdomain. */
export function isDNS1123Subdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** "*.example.com" forms accepted by IsWildcardDNS1123Subdomain. */
export function isWildcardDNS1123Subdomain(s: string): boolean {
  return s.startsWith('*.') && isDNS1123Subdomain(s.slice(2));
}

// ---- CIDRs as bigints ----

export interface Cidr {
  family: 4 | 6;
  /** network address as bigint */
  base: bigint;
  prefix: number;
  bits: 32 | 128;
  text: string;
}

export function ipToBigInt(ip: string): bigint {
  if (isIPv4(ip)) {
    return ip.split('.').reduce((acc, oct) => (acc << 8n) + BigInt(Number(oct)), 0n);
  }
  // expand IPv6 (may contain an embedded IPv4 tail)
  let s = ip;
  const v4tail = s.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4tail) {
    const v = ipToBigInt(v4tail[1] as string);
    s = s.slice(0, -(v4tail[1] as string).length) + `${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':').filter((x) => x.length > 0) : [];
  const t = tail !== undefined && tail.length > 0 ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  const groups = [...h, ...fill, ...t];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

export function bigIntToIp(v: bigint, family: 4 | 6): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((sh) => String((v >> sh) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16));
  // compress the longest run of zeros (length >= 2) as Go does
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] === '0') {
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen && j - i >= 2) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    } else i++;
  }
  if (bestStart < 0) return groups.join(':');
  const left = groups.slice(0, bestStart).join(':');
  const right = groups.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/** Canonical text of an IP (Go's net.IP.String()). */
export function canonicalIp(ip: string): string {
  const fam = isIPv4(ip) ? 4 : 6;
  return bigIntToIp(ipToBigInt(ip), fam);
}

export function parseCidr(text: string): Cidr | undefined {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(0, slash);
  const pre = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(pre)) return undefined;
  const prefix = Number(pre);
  const fam = isIP(ip);
  if (fam === 0) return undefined;
  const bits = fam === 4 ? 32 : 128;
  if (prefix > bits) return undefined;
  const v = ipToBigInt(ip);
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { family: fam as 4 | 6, base: v & mask, prefix, bits, text: s };
}

/** The n-th address of a CIDR (GetIndexedIP). */
export function indexedIp(c: Cidr, n: number): string {
  return bigIntToIp(c.base + BigInt(n), c.family);
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(c.bits - c.prefix);
}
