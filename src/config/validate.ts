/** kubeadm's validation rules (reference §9.3), gathered into one list: every problem at once. */
import { parseDuration } from '../util/duration.js';
import {
  cidrSize,
  isDNS1123Subdomain,
  isIP,
  isWildcardDNS1123Subdomain,
  parseCidr,
  splitHostPort,
} from '../util/net.js';
import type { VersionRow } from '../versions.js';
import type { Arg, ClusterV1beta4, EnvVar, HostPathMount, InitV1beta4 } from './schema.js';

export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** Encryption algorithms kubeboot can generate today (the version table lists what kubeadm accepts). */
export const KUBEBOOT_ALGORITHMS = ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096'] as const;

const IMAGE_REPO = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const IMAGE_REPO_HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const BOOTSTRAP_GROUP = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

function isAbs(p: string): boolean {
  return p.startsWith('/');
}

function validImageRepository(repo: string): boolean {
  return IMAGE_REPO.test(repo) || IMAGE_REPO_HOST.test(repo);
}

function validateArgs(args: readonly Arg[] | undefined, path: string, out: Issue[]): void {
  args?.forEach((a, i) => {
    if (a.name === '') out.push({ path: `${path}[${i}].name`, message: 'argument has no name' });
  });
}

function validateVolumes(vols: readonly HostPathMount[] | undefined, path: string, out: Issue[]): void {
  const seen = new Set<string>();
  vols?.forEach((v, i) => {
    const p = `${path}[${i}]`;
    if (v.name === '') out.push({ path: `${p}.name`, message: 'volume has no name' });
    else if (seen.has(v.name)) out.push({ path: `${p}.name`, message: `duplicate volume name "${v.name}"` });
    seen.add(v.name);
    if (!isAbs(v.hostPath)) out.push({ path: `${p}.hostPath`, message: `path is not absolute: "${v.hostPath}"` });
    if (!isAbs(v.mountPath)) out.push({ path: `${p}.mountPath`, message: `path is not absolute: "${v.mountPath}"` });
  });
}

function validateEnvs(envs: readonly EnvVar[] | undefined, path: string, out: Issue[]): void {
  envs?.forEach((e, i) => {
    if (e.name === '') out.push({ path: `${path}[${i}].name`, message: 'environment variable has no name' });
  });
}

function validateSANs(sans: readonly string[] | undefined, path: string, out: Issue[]): void {
  sans?.forEach((s, i) => {
    if (!(isIP(s) || isDNS1123Subdomain(s) || isWildcardDNS1123Subdomain(s))) {
      out.push({
        path: `${path}[${i}]`,
        message: `altname "${s}" is not a valid IP address, DNS label or a DNS label with subdomain wildcards`,
      });
    }
  });
}

function validateSubnets(
  text: string,
  path: string,
  minSize: number,
  out: Issue[],
  nodeMask?: { v4: number; v6: number } | undefined,
): void {
  const parts = text.split(',');
  if (parts.length > 2) {
    out.push({ path, message: `expected one CIDR or two (one per IP family), got ${parts.length}: "${text}"` });
    return;
  }
  const cidrs = [];
  for (const part of parts) {
    const c = parseCidr(part);
    if (!c) {
      out.push({ path, message: `couldn't parse subnet "${part}": expected a CIDR such as 10.96.0.0/12` });
      return;
    }
    cidrs.push(c);
  }
  if (cidrs.length === 2 && cidrs[0]?.family === cidrs[1]?.family) {
    out.push({ path, message: `two CIDRs must be one IPv4 and one IPv6 (dual-stack), got "${text}"` });
  }
  for (const c of cidrs) {
    const size = cidrSize(c);
    if (size < BigInt(minSize)) {
      out.push({ path, message: `subnet with ${size} address(es) is too small, the minimum is ${minSize}` });
    }
    if (nodeMask === undefined && c.bits - c.prefix > 20) {
      out.push({
        path,
        message: `specified service subnet is too large; for ${c.bits}-bit addresses, the mask must be >= ${c.bits - 20}`,
      });
    }
    if (nodeMask !== undefined) {
      const mask = c.family === 4 ? nodeMask.v4 : nodeMask.v6;
      if (c.prefix > mask) {
        out.push({ path, message: `the pod subnet mask /${c.prefix} must be smaller than or equal to the node CIDR mask /${mask}` });
      } else if (mask - c.prefix > 16) {
        out.push({
          path,
          message: `the difference between the pod subnet mask /${c.prefix} and the node CIDR mask /${mask} must be at most 16`,
        });
      }
    }
  }
}

function argValue(args: readonly Arg[] | undefined, name: string): string | undefined {
  const hits = args?.filter((a) => a.name === name) ?? [];
  return hits.length > 0 ? hits[hits.length - 1]?.value : undefined;
}

export function validateDocuments(init: InitV1beta4, cluster: ClusterV1beta4, row: VersionRow): Issue[] {
  const out: Issue[] = [];
  const I = 'InitConfiguration';
  const C = 'ClusterConfiguration';

  // --- InitConfiguration ---
  const nr = init.nodeRegistration ?? {};
  if (!nr.name) {
    out.push({
      path: `${I}.nodeRegistration.name`,
      message: '--node-name or .nodeRegistration.name in the config file is a required value',
    });
  } else if (!isDNS1123Subdomain(nr.name)) {
    out.push({
      path: `${I}.nodeRegistration.name`,
      message: `"${nr.name}" is not a lowercase RFC 1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)`,
    });
  }
  if (nr.criSocket !== undefined) {
    if (nr.criSocket === '') out.push({ path: `${I}.nodeRegistration.criSocket`, message: 'empty CRI socket' });
    else {
      const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(nr.criSocket);
      const scheme = m ? m[1] : '';
      if (scheme !== 'unix') {
        out.push({
          path: `${I}.nodeRegistration.criSocket`,
          message: `only URL scheme "unix" is supported, got "${scheme}" (for example unix:///var/run/containerd/containerd.sock)`,
        });
      }
    }
  }
  if (nr.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never', ''].includes(nr.imagePullPolicy)) {
    out.push({
      path: `${I}.nodeRegistration.imagePullPolicy`,
      message: `invalid pull policy "${nr.imagePullPolicy}": must be one of Always, IfNotPresent, Never`,
    });
  }
  validateArgs(nr.kubeletExtraArgs, `${I}.nodeRegistration.kubeletExtraArgs`, out);
  const ignores = nr.ignorePreflightErrors ?? [];
  if (ignores.some((x) => x.toLowerCase() === 'all') && ignores.length > 1) {
    out.push({ path: `${I}.nodeRegistration.ignorePreflightErrors`, message: "don't specify individual checks if 'all' is used" });
  }

  const ep = init.localAPIEndpoint ?? {};
  if (!ep.advertiseAddress || isIP(ep.advertiseAddress) === 0) {
    out.push({
      path: `${I}.localAPIEndpoint.advertiseAddress`,
      message: ep.advertiseAddress
        ? `ip address is not valid: "${ep.advertiseAddress}"`
        : 'no advertise address given and none could be detected from the default route; set an IP address',
    });
  } else if (ep.advertiseAddress === '0.0.0.0' || ep.advertiseAddress === '::') {
    out.push({ path: `${I}.localAPIEndpoint.advertiseAddress`, message: `cannot use "${ep.advertiseAddress}" as the advertise address: use a specific IP address of this node` });
  }
  if (ep.bindPort !== undefined && (ep.bindPort < 1 || ep.bindPort > 65535)) {
    out.push({ path: `${I}.localAPIEndpoint.bindPort`, message: `port number is not valid: ${ep.bindPort} (1-65535)` });
  }
  if (init.certificateKey !== undefined && init.certificateKey !== '') {
    if (!/^[0-9a-fA-F]*$/.test(init.certificateKey) || init.certificateKey.length % 2 !== 0) {
      out.push({ path: `${I}.certificateKey`, message: 'certificate key decoding error: expected hexadecimal' });
    } else if (init.certificateKey.length !== 64) {
      out.push({
        path: `${I}.certificateKey`,
        message: `invalid certificate key size ${init.certificateKey.length / 2}, the key must be an AES key of size 32`,
      });
    }
  }
  init.bootstrapTokens?.forEach((t, i) => {
    const p = `${I}.bootstrapTokens[${i}]`;
    if (t.token !== '' && !TOKEN.test(t.token)) {
      out.push({ path: `${p}.token`, message: 'the bootstrap token is invalid: expected the form [a-z0-9]{6}.[a-z0-9]{16}' });
    }
    for (const u of t.usages ?? []) {
      if (u !== 'signing' && u !== 'authentication') {
        out.push({ path: `${p}.usages`, message: `invalid bootstrap token usage "${u}": valid are signing, authentication` });
      }
    }
    if ((t.groups?.length ?? 0) > 0 && !(t.usages ?? []).includes('authentication')) {
      out.push({ path: `${p}.groups`, message: 'token groups cannot be specified unless usages includes "authentication"' });
    }
    for (const g of t.groups ?? []) {
      if (!BOOTSTRAP_GROUP.test(g)) {
        out.push({ path: `${p}.groups`, message: `bootstrap group "${g}" is invalid (must match ${BOOTSTRAP_GROUP.source})` });
      }
    }
    if (t.ttl !== undefined && t.expires !== undefined) {
      out.push({ path: `${p}.expires`, message: 'ttl and expires are mutually exclusive' });
    }
    if (t.ttl !== undefined && parseDuration(t.ttl) === undefined) {
      out.push({ path: `${p}.ttl`, message: `invalid duration "${t.ttl}" (e.g. 24h0m0s)` });
    }
  });
  for (const [k, v] of Object.entries(init.timeouts ?? {})) {
    if (v !== undefined && (parseDuration(v) === undefined || (parseDuration(v) as number) < 0)) {
      out.push({ path: `${I}.timeouts.${k}`, message: `invalid duration "${v}" (e.g. 4m0s)` });
    }
  }

  // --- ClusterConfiguration ---
  const netw = cluster.networking ?? {};
  if (netw.dnsDomain !== undefined && !isDNS1123Subdomain(netw.dnsDomain)) {
    out.push({ path: `${C}.networking.dnsDomain`, message: `"${netw.dnsDomain}" is not a valid RFC 1123 subdomain` });
  }
  if (netw.serviceSubnet) validateSubnets(netw.serviceSubnet, `${C}.networking.serviceSubnet`, 10, out);
  if (netw.podSubnet) {
    const kcm = cluster.controllerManager?.extraArgs;
    if (argValue(kcm, 'allocate-node-cidrs') !== 'false') {
      const v4 = Number(argValue(kcm, 'node-cidr-mask-size-ipv4') ?? argValue(kcm, 'node-cidr-mask-size') ?? 24);
      const v6 = Number(argValue(kcm, 'node-cidr-mask-size-ipv6') ?? argValue(kcm, 'node-cidr-mask-size') ?? 64);
      validateSubnets(netw.podSubnet, `${C}.networking.podSubnet`, 14, out, { v4, v6 });
    } else {
      validateSubnets(netw.podSubnet, `${C}.networking.podSubnet`, 14, out, { v4: 32, v6: 128 });
    }
  }
  if (cluster.certificatesDir !== undefined && !isAbs(cluster.certificatesDir)) {
    out.push({ path: `${C}.certificatesDir`, message: `path is not absolute: "${cluster.certificatesDir}"` });
  }
  if (cluster.controlPlaneEndpoint) {
    const hp = splitHostPort(cluster.controlPlaneEndpoint);
    if (!hp || !(isIP(hp.host) || isDNS1123Subdomain(hp.host))) {
      out.push({
        path: `${C}.controlPlaneEndpoint`,
        message: `endpoint is not valid: "${cluster.controlPlaneEndpoint}" (expected host or host:port, IPv6 as [addr]:port)`,
      });
    }
  }
  if (cluster.imageRepository !== undefined && !validImageRepository(cluster.imageRepository)) {
    out.push({ path: `${C}.imageRepository`, message: `invalid image repository format: "${cluster.imageRepository}"` });
  }
  if (cluster.dns?.imageRepository && !validImageRepository(cluster.dns.imageRepository)) {
    out.push({ path: `${C}.dns.imageRepository`, message: `invalid image repository format: "${cluster.dns.imageRepository}"` });
  }
  validateArgs(cluster.apiServer?.extraArgs, `${C}.apiServer.extraArgs`, out);
  validateArgs(cluster.controllerManager?.extraArgs, `${C}.controllerManager.extraArgs`, out);
  validateArgs(cluster.scheduler?.extraArgs, `${C}.scheduler.extraArgs`, out);
  validateVolumes(cluster.apiServer?.extraVolumes, `${C}.apiServer.extraVolumes`, out);
  validateVolumes(cluster.controllerManager?.extraVolumes, `${C}.controllerManager.extraVolumes`, out);
  validateVolumes(cluster.scheduler?.extraVolumes, `${C}.scheduler.extraVolumes`, out);
  validateEnvs(cluster.apiServer?.extraEnvs, `${C}.apiServer.extraEnvs`, out);
  validateEnvs(cluster.controllerManager?.extraEnvs, `${C}.controllerManager.extraEnvs`, out);
  validateEnvs(cluster.scheduler?.extraEnvs, `${C}.scheduler.extraEnvs`, out);
  validateSANs(cluster.apiServer?.certSANs, `${C}.apiServer.certSANs`, out);

  const etcd = cluster.etcd ?? {};
  if (etcd.local && etcd.external) {
    out.push({ path: `${C}.etcd`, message: 'etcd.local and etcd.external are mutually exclusive: set one of them' });
  }
  if (etcd.local) {
    const l = etcd.local;
    if (l.dataDir !== undefined && !isAbs(l.dataDir)) {
      out.push({ path: `${C}.etcd.local.dataDir`, message: `path is not absolute: "${l.dataDir}"` });
    }
    if (l.imageRepository && !validImageRepository(l.imageRepository)) {
      out.push({ path: `${C}.etcd.local.imageRepository`, message: `invalid image repository format: "${l.imageRepository}"` });
    }
    validateArgs(l.extraArgs, `${C}.etcd.local.extraArgs`, out);
    validateEnvs(l.extraEnvs, `${C}.etcd.local.extraEnvs`, out);
    validateSANs(l.serverCertSANs, `${C}.etcd.local.serverCertSANs`, out);
    validateSANs(l.peerCertSANs, `${C}.etcd.local.peerCertSANs`, out);
  }
  if (etcd.external) {
    const x = etcd.external;
    const p = `${C}.etcd.external`;
    if (x.endpoints.length === 0) out.push({ path: `${p}.endpoints`, message: 'at least one endpoint is required' });
    if (Boolean(x.certFile) !== Boolean(x.keyFile)) {
      out.push({ path: `${p}.certFile`, message: 'certFile and keyFile must be set together' });
    }
    if (x.certFile && x.keyFile && !x.caFile) {
      out.push({ path: `${p}.caFile`, message: 'caFile is required when certFile and keyFile are set' });
    }
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
      const v = x[key];
      if (v && !isAbs(v)) out.push({ path: `${p}.${key}`, message: `path is not absolute: "${v}"` });
    }
    const tls = Boolean(x.caFile || x.certFile || x.keyFile);
    x.endpoints.forEach((e, i) => {
      let u: URL | undefined;
      try {
        u = new URL(e);
      } catch {
        u = undefined;
      }
      if (!u || !/^https?:$/.test(u.protocol)) {
        out.push({ path: `${p}.endpoints[${i}]`, message: `URL parse error: "${e}" is not a URL with an http or https scheme` });
      } else if (tls && u.protocol !== 'https:') {
        out.push({ path: `${p}.endpoints[${i}]`, message: `URL scheme must be https when TLS files are set: "${e}"` });
      }
    });
  }

  const algo = cluster.encryptionAlgorithm;
  if (algo !== undefined && algo !== '') {
    if (!row.encryptionAlgorithms.includes(algo)) {
      out.push({
        path: `${C}.encryptionAlgorithm`,
        message: `Invalid encryption algorithm "${algo}". Must be one of [${[...row.encryptionAlgorithms].sort().join(' ')}]`,
      });
    } else if (!(KUBEBOOT_ALGORITHMS as readonly string[]).includes(algo)) {
      out.push({
        path: `${C}.encryptionAlgorithm`,
        message: `"${algo}" is not supported by kubeboot yet; supported: ${KUBEBOOT_ALGORITHMS.join(', ')}`,
      });
    }
  }
  for (const key of ['certificateValidityPeriod', 'caCertificateValidityPeriod'] as const) {
    const v = cluster[key];
    if (v !== undefined) {
      const d = parseDuration(v);
      if (d === undefined || d <= 0) out.push({ path: `${C}.${key}`, message: `invalid duration "${v}" (e.g. 8760h0m0s)` });
    }
  }
  for (const [name, value] of Object.entries(cluster.featureGates ?? {})) {
    const gate = row.featureGates.find((g) => g.name === name);
    if (!gate) {
      const known = row.featureGates.map((g) => g.name);
      out.push({
        path: `${C}.featureGates.${name}`,
        message: `${name} is not a valid feature name for Kubernetes ${row.minor}${known.length ? ` (known: ${known.join(', ')})` : ' (it has no kubeadm feature gates)'}`,
      });
    } else if (gate.locked && value !== gate.default) {
      out.push({ path: `${C}.featureGates.${name}`, message: `${name} is GA and locked to ${gate.default} in ${row.minor}` });
    } else if (name === 'RootlessControlPlane' && value === true) {
      out.push({ path: `${C}.featureGates.${name}`, message: 'RootlessControlPlane (control-plane components as non-root users) is not supported by kubeboot; leave it false' });
    }
  }
  return out;
}
