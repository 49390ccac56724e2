/**
 * Addresses as Go's net package reads and prints them (kubeadm's target): net.ParseIP (no zone, IPv4 fields in plain
 * decimal without leading zeros, as Go ≥ 1.17), net.IP.String() (IPv4-mapped IPv6 as dotted IPv4, other IPv6 in
 * RFC 5952 form) and net.ParseCIDR. Parsing and RFC 5952 text come from the ip-address package; this module only adds
 * Go's rules on top of it.
 */
import { Address4, Address6 } from 'ip-address';

interface ParsedIp {
  /** the family of the text (an IPv4-mapped IPv6 address written as IPv6 is 6, as node:net says) */
  readonly family: 4 | 6;
  readonly value: bigint;
}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

/** Go's net.ParseIP, or undefined where it returns nil. */
function parseIp(text: string): ParsedIp | undefined {
  // ip-address also reads a prefix length ("/24") and a zone ("%eth0"); ParseIP takes neither.
  if (text.includes('/') || text.includes('%')) return undefined;
  if (Address4.isValid(text)) return { family: 4, value: new Address4(text).bigInt() };
  if (Address6.isValid(text)) return { family: 6, value: new Address6(text).bigInt() };
  return undefined;
}

function mustParse(text: string): ParsedIp {
  const p = parseIp(text);
  if (!p) throw new Error(`"${text}" is not an IP address`);
  return p;
}

/** 4 or 6 for an address Go's net.ParseIP accepts (by the family of its text), else 0; as node:net's isIP. */
export function isIP(text: string): 0 | 4 | 6 {
  return parseIp(text)?.family ?? 0;
}

export function isIPv4(text: string): boolean {
  return isIP(text) === 4;
}

export function isIPv6(text: string): boolean {
  return isIP(text) === 6;
}

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

/** The address as a number (32 bits for IPv4 text, 128 for IPv6); throws for text that is not an address. */
export function ipToBigInt(ip: string): bigint {
  return mustParse(ip).value;
}

/** The text Go's net.IP.String() gives for an address of that family: IPv4-mapped IPv6 prints as dotted IPv4. */
export function bigIntToIp(v: bigint, family: 4 | 6): string {
  if (family === 4) return Address4.fromBigInt(v).correctForm();
  if (v >> 32n === 0xffffn) return Address4.fromBigInt(v - IPV4_MAPPED_PREFIX).correctForm();
  return Address6.fromBigInt(v).correctForm();
}

/** Canonical text of an IP (Go's net.IP.String()); throws for text that is not an address. */
export function canonicalIp(ip: string): string {
  const p = mustParse(ip);
  return bigIntToIp(p.value, p.family);
}

export function parseCidr(text: string): Cidr | undefined {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(0, slash);
  const pre = s.slice(slash + 1);
  // Go reads the length with dtoi: decimal digits, leading zeros allowed
  if (!/^\d{1,8}$/.test(pre)) return undefined;
  const prefix = Number(pre);
  const parsed = parseIp(ip);
  if (!parsed) return undefined;
  const fam = parsed.family;
  const bits = fam === 4 ? 32 : 128;
  if (prefix > bits) return undefined;
  const v = parsed.value;
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
