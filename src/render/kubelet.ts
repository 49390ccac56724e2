/**
 * The kubelet files kubelet-start writes (reference §6, deltas §6), as data:
 *   /var/lib/kubelet/kubeadm-flags.env      KUBELET_KUBEADM_ARGS="…" (per the version row's flagsEnv)
 *   /var/lib/kubelet/instance-config.yaml   `containerRuntimeEndpoint: "<socket>"`, one line (when the row has
 *                                           instanceConfig; kubeadm's WriteInstanceConfigToDisk)
 *   /var/lib/kubelet/config.yaml            template ← user KubeletConfiguration ← kubeadm defaulting (resolvConf
 *                                           when systemd-resolved runs) ← kubeletconfiguration patches ← instance
 *                                           config (kubeadm's WriteConfigToDisk applies it last, so it wins)
 * PURE: the template object, the host name and the patch function come in as arguments.
 * (src/package-files.ts reads the template from the package.)
 */
import type { Arg, ClusterSpec } from '../config/spec.js';
import { mergeArgs } from './args.js';
import { indexedIp, parseCidr } from '../util/net.js';
import { toYaml } from './yaml.js';

export const KUBELET_API_VERSION = 'kubelet.config.k8s.io/v1beta1';
export const KUBELET_FILE_MODE = 0o644;

export interface RenderedFile {
  readonly path: string;
  readonly mode: number;
  readonly content: string;
}

export type PlainObject = Record<string, unknown>;

/** A `kubeletconfiguration` patch step: takes the document, returns it patched plus one line per applied patch. */
export type KubeletPatchFn = (doc: PlainObject) => { readonly doc: PlainObject; readonly applied: readonly string[] };

export interface KubeletRenderInput {
  readonly spec: ClusterSpec;
  /** the OS hostname (host facts), for --hostname-override */
  readonly hostname: string;
  /** templates/kubelet-config.yaml, parsed */
  readonly template: PlainObject;
  /** user patches for the `kubeletconfiguration` target (none when undefined) */
  readonly patch?: KubeletPatchFn;
  /** systemd-resolved runs on the node (host facts): kubeadm then points resolvConf at its upstream file */
  readonly systemdResolved?: boolean;
}

export interface KubeletFiles {
  readonly flagsEnv: RenderedFile;
  readonly instanceConfig: RenderedFile | undefined;
  readonly config: RenderedFile;
  /** the final KubeletConfiguration as data (wait-control-plane reads healthz from it) */
  readonly configObject: PlainObject;
  /** the kubelet flags written into kubeadm-flags.env, in order */
  readonly flags: readonly string[];
  /** messages for the user (recommended values overridden, flags dropped) */
  readonly warnings: readonly string[];
  /** "[patches] …" lines: each user patch, then the instance-config patch */
  readonly patchLines: readonly string[];
}

export const STRATEGIC_MERGE = 'application/strategic-merge-patch+json';

// ---------------------------------------------------------------------------------------------
// small pure helpers

function isPlainObject(v: unknown): v is PlainObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge: mappings merge key by key, everything else (lists included) is replaced; null keeps the base. */
export function deepMerge(base: PlainObject, over: PlainObject): PlainObject {
  const out: PlainObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null || v === undefined) continue;
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : structuredClone(v);
  }
  return out;
}

function getPath(o: PlainObject, path: readonly string[]): unknown {
  let cur: unknown = o;
  for (const p of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function setPath(o: PlainObject, path: readonly string[], value: unknown): void {
  let cur: PlainObject = o;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (!isPlainObject(next)) cur[p] = {};
    cur = cur[p] as PlainObject;
  }
  cur[path[path.length - 1] as string] = value;
}

/** Go's %q for the strings kubelet flags hold. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function minorAtLeast(minor: string, min: string): boolean {
  const [a1, a2] = minor.split('.').map(Number);
  const [b1, b2] = min.split('.').map(Number);
  return (a1 as number) > (b1 as number) || ((a1 as number) === (b1 as number) && (a2 as number) >= (b2 as number));
}

/** The 10th address of the first service CIDR (kubeadm's GetDNSIP); 10.96.0.10 when it cannot be computed. */
export function clusterDnsIp(serviceSubnet: string): string {
  const first = serviceSubnet.split(',')[0] ?? '';
  const c = parseCidr(first);
  return c ? indexedIp(c, 10) : '10.96.0.10';
}

// ---------------------------------------------------------------------------------------------
// the three files

/** kubeadm-flags.env: the default kubelet flags of this version merged with nodeRegistration.kubeletExtraArgs. */
export function renderFlagsEnv(spec: ClusterSpec, hostname: string): { file: RenderedFile; flags: string[]; warnings: string[] } {
  const row = spec.version;
  const warnings: string[] = [];
  const defaults: Arg[] = [];
  if (row.flagsEnv === 'cri-and-pause') defaults.push({ name: 'container-runtime-endpoint', value: spec.criSocket });
  if (row.flagsEnv === 'cri-and-pause' || row.flagsEnv === 'pause') {
    defaults.push({ name: 'pod-infra-container-image', value: `${spec.imageRepository}/pause:${row.pauseTag}` });
  }
  // the node name: nodeRegistration.name (defaulted to the hostname), overridden by a hostname-override extra arg
  const override = [...spec.kubeletExtraArgs].reverse().find((a) => a.name === 'hostname-override');
  const nodeName = override ? override.value : spec.nodeName;
  if (nodeName !== hostname) defaults.push({ name: 'hostname-override', value: nodeName });

  let extra = spec.kubeletExtraArgs;
  // kubelet 1.35+ refuses --pod-infra-container-image (kubernetes#133779): never emit it there
  if (minorAtLeast(row.minor, '1.35') && extra.some((a) => a.name === 'pod-infra-container-image')) {
    warnings.push(
      `nodeRegistration.kubeletExtraArgs: dropped "pod-infra-container-image": the kubelet ${row.minor} rejects --pod-infra-container-image (the sandbox image is configured in the container runtime)`,
    );
    extra = extra.filter((a) => a.name !== 'pod-infra-container-image');
  }
  const merged = mergeArgs(defaults, extra);
  const flags = merged.map((a) => `--${a.name}=${a.value}`);
  const content = `KUBELET_KUBEADM_ARGS=${goQuote(flags.join(' '))}\n`;
  return { file: { path: `${spec.paths.kubeletDir}/kubeadm-flags.env`, mode: KUBELET_FILE_MODE, content }, flags, warnings };
}

/** The resolv.conf systemd-resolved keeps with the real upstream servers (not its 127.0.0.53 stub). */
export const SYSTEMD_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

/**
 * instance-config.yaml (NodeLocalCRISocket): kubeadm writes the one field as a Go-quoted string, no apiVersion or
 * kind, and applies the file to config.yaml as a strategic-merge patch.
 */
export function instanceConfigText(spec: ClusterSpec): string {
  return `containerRuntimeEndpoint: ${goQuote(spec.criSocket)}\n`;
}

interface Recommended {
  readonly path: readonly string[];
  readonly value: unknown;
  /** when the user's value is "different" (default: not deep-equal) */
  readonly differs?: (v: unknown) => boolean;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * KubeletConfiguration defaulting as kubeadm does it (reference §6.4): the template's values are kubeadm's defaults,
 * a value the user set wins but earns a warning when it differs from the recommended one; rotateCertificates is forced.
 */
export function renderKubeletConfigObject(
  spec: ClusterSpec,
  template: PlainObject,
  systemdResolved = false,
): { doc: PlainObject; warnings: string[] } {
  const warnings: string[] = [];
  const base = structuredClone(template);
  const clientCAFile = `${spec.paths.certificatesDir.replace(/\/+$/, '')}/ca.crt`;
  setPath(base, ['authentication', 'x509', 'clientCAFile'], clientCAFile);
  setPath(base, ['clusterDNS'], [clusterDnsIp(spec.networking.serviceSubnet)]);
  setPath(base, ['clusterDomain'], spec.networking.dnsDomain);
  setPath(base, ['staticPodPath'], spec.paths.manifestsDir);
  base.apiVersion = KUBELET_API_VERSION;
  base.kind = 'KubeletConfiguration';

  const user: PlainObject = structuredClone((spec.kubeletConfiguration ?? {}) as PlainObject);
  delete user.apiVersion;
  delete user.kind;
  const recommended: Recommended[] = [
    { path: ['staticPodPath'], value: spec.paths.manifestsDir },
    { path: ['clusterDNS'], value: getPath(base, ['clusterDNS']) },
    { path: ['clusterDomain'], value: spec.networking.dnsDomain },
    { path: ['authentication', 'x509', 'clientCAFile'], value: clientCAFile },
    { path: ['authentication', 'anonymous', 'enabled'], value: false, differs: (v) => v === true },
    { path: ['authentication', 'webhook', 'enabled'], value: true, differs: (v) => v === false },
    { path: ['authorization', 'mode'], value: 'Webhook' },
    { path: ['healthzBindAddress'], value: getPath(base, ['healthzBindAddress']) },
    { path: ['healthzPort'], value: getPath(base, ['healthzPort']) },
    { path: ['readOnlyPort'], value: 0 },
  ];
  for (const r of recommended) {
    const v = getPath(user, r.path);
    if (v === undefined || v === null || v === '') continue;
    if (r.differs ? r.differs(v) : !same(v, r.value)) {
      warnings.push(
        `KubeletConfiguration.${r.path.join('.')}: the value recommended by kubeadm is ${JSON.stringify(r.value)}; the config file sets ${JSON.stringify(v)} (kept)`,
      );
    }
  }
  const doc = deepMerge(base, user);
  if (doc.rotateCertificates !== true) {
    if (user.rotateCertificates === false) warnings.push('KubeletConfiguration.rotateCertificates: forced to true (kubeadm always enables client certificate rotation)');
    doc.rotateCertificates = true;
  }
  if (typeof doc.cgroupDriver !== 'string' || doc.cgroupDriver === '') doc.cgroupDriver = 'systemd';
  // kubeadm's kubelet Mutate: with systemd-resolved running, /etc/resolv.conf names only its local stub, which pods
  // cannot reach; the kubelet gets the upstream file instead. A value of the user's is kept, with a warning.
  if (systemdResolved) {
    if (user.resolvConf === undefined || user.resolvConf === null) doc.resolvConf = SYSTEMD_RESOLV_CONF;
    else if (user.resolvConf !== SYSTEMD_RESOLV_CONF) {
      warnings.push(
        `KubeletConfiguration.resolvConf: the value recommended by kubeadm is ${JSON.stringify(SYSTEMD_RESOLV_CONF)} (systemd-resolved is running); the config file sets ${JSON.stringify(user.resolvConf)} (kept)`,
      );
    }
  }
  return { doc, warnings };
}

/** All three kubelet files, in the order kubelet-start writes them. */
export function renderKubeletFiles(input: KubeletRenderInput): KubeletFiles {
  const { spec } = input;
  const dir = spec.paths.kubeletDir;
  const env = renderFlagsEnv(spec, input.hostname);
  const cfg = renderKubeletConfigObject(spec, input.template, input.systemdResolved ?? false);
  let doc = cfg.doc;
  const patchLines: string[] = [];
  if (input.patch) {
    const r = input.patch(doc);
    doc = r.doc;
    patchLines.push(...r.applied);
  }
  let instanceConfig: RenderedFile | undefined;
  if (spec.version.instanceConfig) {
    instanceConfig = { path: `${dir}/instance-config.yaml`, mode: KUBELET_FILE_MODE, content: instanceConfigText(spec) };
    // kubeadm's WriteConfigToDisk applies the instance file after the user's patches, as a strategic-merge patch
    // (deltas §6 says before; kubeadm's source, cmd/kubeadm/app/phases/kubelet/config.go, does it after)
    doc = deepMerge(doc, { containerRuntimeEndpoint: spec.criSocket });
    patchLines.push(`Applied patch of type "${STRATEGIC_MERGE}" to target "kubeletconfiguration"`);
  }
  return {
    flagsEnv: env.file,
    instanceConfig,
    config: { path: `${dir}/config.yaml`, mode: KUBELET_FILE_MODE, content: toYaml(doc) },
    configObject: doc,
    flags: env.flags,
    warnings: [...env.warnings, ...cfg.warnings],
    patchLines,
  };
}

/** The kubelet healthz endpoint a KubeletConfiguration asks for (port 0 disables it). */
export function kubeletHealthzEndpoint(doc: PlainObject): { host: string; port: number } {
  const host = typeof doc.healthzBindAddress === 'string' && doc.healthzBindAddress !== '' ? doc.healthzBindAddress : '127.0.0.1';
  const port = typeof doc.healthzPort === 'number' ? doc.healthzPort : Number(doc.healthzPort ?? 10248);
  return { host, port: Number.isFinite(port) ? port : 10248 };
}

// ---------------------------------------------------------------------------------------------
