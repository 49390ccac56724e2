/**
 * The KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) kubeboot puts into the kube-proxy ConfigMap, built as
 * kubeadm builds it: the user's document of the config file is decoded into the Go type (unknown fields dropped with
 * a warning, a value of the wrong type an error), kubeadm's defaulting sets bindAddress, clusterCIDR and
 * clientConnection.kubeconfig when they are empty (and warns when the user's differ from its recommendation), and the
 * result is encoded again: every field of the Go type appears, with its zero value when unset (`""`, `false`, `0`,
 * `0s`, `null`), durations in Go's form (`1m` → `1m0s`), quantities in their canonical form (`1024Ki` → `1Mi`).
 *
 * The field table follows k8s.io/kube-proxy config/v1alpha1 and k8s.io/component-base (ClientConnectionConfiguration,
 * LoggingConfiguration) at v0.34.11, v0.35.8, v0.36.5 and v0.37.1: their JSON forms are the same, so one table serves
 * every minor kubeboot supports. Pure: no I/O.
 */
import { formatDurationNs, parseDurationNs } from '../util/duration.js';
import { canonicalIp, isIP } from '../util/net.js';
import type { Issue } from './validate.js';

export const KUBEPROXY_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';
export const KUBEPROXY_KIND = 'KubeProxyConfiguration';
/** kubeadm's clientConnection.kubeconfig: the file the kube-proxy DaemonSet mounts from the ConfigMap */
export const KUBEPROXY_KUBECONFIG = '/var/lib/kube-proxy/kubeconfig.conf';

/** A Go type as encoding/json sees it. */
type GoType =
  | { readonly t: 'string' | 'bool' | 'int32' | 'uint32' | 'float32' | 'duration' | 'quantity' | 'timeOrDuration' }
  | { readonly t: 'ptr'; readonly of: GoType }
  | { readonly t: 'slice'; readonly of: GoType }
  | { readonly t: 'map'; readonly of: GoType }
  | { readonly t: 'struct'; readonly fields: Readonly<Record<string, Field>> };

/** A struct field: its type, and whether its json tag says omitempty. */
interface Field {
  readonly type: GoType;
  readonly omitempty?: boolean;
}

const f = (type: GoType, omitempty = false): Field => ({ type, ...(omitempty ? { omitempty } : {}) });
const STRING: GoType = { t: 'string' };
const BOOL: GoType = { t: 'bool' };
const INT32: GoType = { t: 'int32' };
const DURATION: GoType = { t: 'duration' };
const ptr = (of: GoType): GoType => ({ t: 'ptr', of });
const struct = (fields: Record<string, Field>): GoType => ({ t: 'struct', fields });

const OUTPUT_ROUTING = { splitStream: f(BOOL, true), infoBufferSize: f({ t: 'quantity' }, true) };

/** k8s.io/kube-proxy config/v1alpha1 KubeProxyConfiguration (without TypeMeta). */
const KUBE_PROXY_CONFIGURATION = struct({
  featureGates: f({ t: 'map', of: BOOL }, true),
  clientConnection: f(
    struct({
      kubeconfig: f(STRING),
      acceptContentTypes: f(STRING),
      contentType: f(STRING),
      qps: f({ t: 'float32' }),
      burst: f(INT32),
    }),
  ),
  logging: f(
    struct({
      format: f(STRING, true),
      flushFrequency: f({ t: 'timeOrDuration' }),
      verbosity: f({ t: 'uint32' }),
      vmodule: f({ t: 'slice', of: struct({ filePattern: f(STRING), verbosity: f({ t: 'uint32' }) }) }, true),
      options: f(struct({ text: f(struct(OUTPUT_ROUTING), true), json: f(struct(OUTPUT_ROUTING), true) }), true),
    }),
    true,
  ),
  hostnameOverride: f(STRING),
  bindAddress: f(STRING),
  healthzBindAddress: f(STRING),
  metricsBindAddress: f(STRING),
  bindAddressHardFail: f(BOOL),
  enableProfiling: f(BOOL),
  showHiddenMetricsForVersion: f(STRING),
  mode: f(STRING),
  iptables: f(
    struct({
      masqueradeBit: f(ptr(INT32)),
      masqueradeAll: f(BOOL),
      localhostNodePorts: f(ptr(BOOL)),
      syncPeriod: f(DURATION),
      minSyncPeriod: f(DURATION),
    }),
  ),
  ipvs: f(
    struct({
      syncPeriod: f(DURATION),
      minSyncPeriod: f(DURATION),
      scheduler: f(STRING),
      excludeCIDRs: f({ t: 'slice', of: STRING }),
      strictARP: f(BOOL),
      tcpTimeout: f(DURATION),
      tcpFinTimeout: f(DURATION),
      udpTimeout: f(DURATION),
    }),
  ),
  nftables: f(struct({ masqueradeBit: f(ptr(INT32)), masqueradeAll: f(BOOL), syncPeriod: f(DURATION), minSyncPeriod: f(DURATION) })),
  winkernel: f(
    struct({
      networkName: f(STRING),
      sourceVip: f(STRING),
      enableDSR: f(BOOL),
      rootHnsEndpointName: f(STRING),
      forwardHealthCheckVip: f(BOOL),
    }),
  ),
  detectLocalMode: f(STRING),
  detectLocal: f(struct({ bridgeInterface: f(STRING), interfaceNamePrefix: f(STRING) })),
  clusterCIDR: f(STRING),
  nodePortAddresses: f({ t: 'slice', of: STRING }),
  oomScoreAdj: f(ptr(INT32)),
  conntrack: f(
    struct({
      maxPerCore: f(ptr(INT32)),
      min: f(ptr(INT32)),
      tcpEstablishedTimeout: f(ptr(DURATION)),
      tcpCloseWaitTimeout: f(ptr(DURATION)),
      tcpBeLiberal: f(BOOL),
      udpTimeout: f(DURATION),
      udpStreamTimeout: f(DURATION),
    }),
  ),
  configSyncPeriod: f(DURATION),
  portRange: f(STRING),
  windowsRunAsService: f(BOOL, true),
});

// ---------- Go's encodings of the scalar types ----------

/** The zero value as encoding/json writes it (null for pointers, slices and maps). */
function zero(type: GoType): unknown {
  switch (type.t) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int32':
    case 'uint32':
    case 'float32':
    case 'timeOrDuration':
      return 0;
    case 'duration':
      return '0s';
    case 'quantity':
      return '0';
    case 'ptr':
    case 'slice':
    case 'map':
      return null;
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const [k, fld] of Object.entries(type.fields)) {
        const z = zero(fld.type);
        if (!(fld.omitempty && isEmpty(fld.type, z))) out[k] = z;
      }
      return out;
    }
  }
}

/** encoding/json's omitempty: false, 0, "", nil and empty slices and maps (never a struct). */
function isEmpty(type: GoType, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  switch (type.t) {
    case 'string':
      return v === '';
    case 'bool':
      return v === false;
    case 'int32':
    case 'uint32':
    case 'float32':
      return v === 0;
    case 'slice':
      return Array.isArray(v) && v.length === 0;
    case 'map':
      return typeof v === 'object' && Object.keys(v as object).length === 0;
    default:
      return false;
  }
}

/**
 * A float32 as encoding/json writes it and go-yaml then reads and writes it: the shortest decimal that gives the same
 * float32, as a number (123456789 is the float32 123456792, written 123456790).
 */
export function goFloat32(n: number): number {
  const v = Math.fround(n);
  if (v === 0) return 0;
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return s;
  }
  return v;
}

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const SUFFIX_OF_EXP = new Map(Object.entries(DECIMAL_SUFFIX).map(([s, e]) => [e, s]));

/**
 * A resource.Quantity in apimachinery's canonical form ("1024Ki" → "1Mi", "1000" → "1k", "1.5" → "1500m", "12e6"),
 * or undefined when the text is not a quantity or its canonical form needs rounding (below 1n, above 999E).
 */
export function canonicalQuantity(text: string): string | undefined {
  const m = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?[0-9]+))?$/.exec(text.trim());
  if (!m) return undefined;
  const neg = m[1] === '-';
  const [whole = '', frac = ''] = (m[2] as string).split('.');
  // the value as digits × 10^scale (exact), times 2^(10k) for a binary suffix
  let digits = BigInt(`${whole}${frac}` || '0');
  let scale = -frac.length;
  const binary = m[3] !== undefined && m[3] in BINARY_SUFFIX;
  const exponentForm = m[4] !== undefined;
  if (binary) digits *= 1024n ** BigInt(BINARY_SUFFIX[m[3] as string] as number);
  else if (exponentForm) scale += Number(m[4]);
  else scale += DECIMAL_SUFFIX[m[3] ?? ''] as number;
  if (digits === 0n) return '0';
  // normalise: no trailing zeros in the digits
  while (digits % 10n === 0n) {
    digits /= 10n;
    scale++;
  }
  const sign = neg ? '-' : '';
  if (binary) {
    // a whole number of 1024 or more stays binary: the largest power of 1024 that divides it
    const value = scale >= 0 ? digits * 10n ** BigInt(scale) : undefined;
    if (value !== undefined && value >= 1024n) {
      let k = 0;
      let v = value;
      while (k < 6 && v % 1024n === 0n) {
        v /= 1024n;
        k++;
      }
      const suffix = Object.keys(BINARY_SUFFIX)[k - 1];
      return `${sign}${v}${k > 0 ? suffix : ''}`;
    }
  }
  // decimal: an exponent that is a multiple of 3, the digits scaled to it
  const exp = Math.floor(scale / 3) * 3;
  const mantissa = digits * 10n ** BigInt(scale - exp);
  if (exponentForm) return `${sign}${mantissa}${exp === 0 ? '' : `e${exp}`}`;
  const suffix = SUFFIX_OF_EXP.get(exp);
  if (suffix === undefined) return undefined;
  return `${sign}${mantissa}${suffix}`;
}

// ---------- decoding the user's document into the Go type ----------

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a timestamp';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

interface DecodeState {
  readonly issues: Issue[];
  readonly unknown: string[];
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);

/** Decodes v into `type` over `into` (JSON null leaves a value as it was, as encoding/json does). */
function decode(type: GoType, v: unknown, into: unknown, path: string, st: DecodeState): unknown {
  if (v === null || v === undefined) return type.t === 'ptr' || type.t === 'slice' || type.t === 'map' ? null : into;
  const bad = (expected: string): unknown => {
    st.issues.push({ path, message: `expected ${expected}, got ${describe(v)}` });
    return into;
  };
  switch (type.t) {
    case 'string':
      return typeof v === 'string' ? v : bad('a string');
    case 'bool':
      return typeof v === 'boolean' ? v : bad('true or false');
    case 'int32':
      return typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? v : bad('a 32-bit integer');
    case 'uint32':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32 ? v : bad('an unsigned 32-bit integer');
    case 'float32':
      return typeof v === 'number' && Number.isFinite(v) ? goFloat32(v) : bad('a number');
    case 'duration': {
      if (typeof v !== 'string') return bad('a duration such as "30s" or "1m0s"');
      const ns = parseDurationNs(v);
      return ns === undefined ? bad('a duration such as "30s" or "1m0s"') : formatDurationNs(ns);
    }
    case 'timeOrDuration': {
      // component-base's TimeOrMetaDuration: a string is a duration (and stays one), a number is nanoseconds
      if (typeof v === 'number') return Number.isInteger(v) ? v : bad('a duration or a whole number of nanoseconds');
      if (typeof v !== 'string') return bad('a duration such as "5s"');
      const ns = parseDurationNs(v);
      return ns === undefined ? bad('a duration such as "5s"') : formatDurationNs(ns);
    }
    case 'quantity': {
      if (typeof v !== 'string' && typeof v !== 'number') return bad('a quantity such as "0" or "1Mi"');
      const q = canonicalQuantity(String(v));
      return q === undefined ? bad('a quantity such as "0" or "1Mi"') : q;
    }
    case 'ptr':
      return decode(type.of, v, zero(type.of), path, st);
    case 'slice':
      if (!Array.isArray(v)) return bad('a list');
      return v.map((x, i) => decode(type.of, x, zero(type.of), `${path}[${i}]`, st));
    case 'map': {
      if (!isMap(v)) return bad('a mapping');
      const out: Record<string, unknown> = isMap(into) ? { ...into } : {};
      for (const [k, x] of Object.entries(v)) out[k] = decode(type.of, x, zero(type.of), `${path}.${k}`, st);
      return out;
    }
    case 'struct': {
      if (!isMap(v)) return bad('a mapping');
      const out: Record<string, unknown> = isMap(into) ? { ...into } : (zero(type) as Record<string, unknown>);
      for (const [k, x] of Object.entries(v)) {
        const fld = type.fields[k];
        if (!fld) {
          st.unknown.push(`${path}.${k}`);
          continue;
        }
        out[k] = decode(fld.type, x, out[k] ?? zero(fld.type), `${path}.${k}`, st);
      }
      // encoding/json leaves out an omitempty field that holds its empty value
      for (const [k, fld] of Object.entries(type.fields)) if (fld.omitempty && isEmpty(fld.type, out[k])) delete out[k];
      return out;
    }
  }
}

export interface KubeProxySettings {
  /** the KubeProxyConfiguration kube-proxy gets (config.conf of the kube-proxy ConfigMap), as data */
  readonly configuration: Readonly<Record<string, unknown>>;
  /** the config file had a KubeProxyConfiguration document (kubeadm then does not sign the ConfigMap) */
  readonly userSupplied: boolean;
}

export interface KubeProxyInputs {
  /** the KubeProxyConfiguration document of the config file, when there is one */
  readonly document: Readonly<Record<string, unknown>> | undefined;
  readonly advertiseAddress: string;
  /** networking.podSubnet ('' when unset) */
  readonly podSubnet: string;
}

/** kubeadm's recommendation warning (componentconfigs' warnDefaultComponentConfigValue), word for word. */
function recommended(field: string, want: string, have: unknown): string {
  return `The recommended value for "${field}" in "${KUBEPROXY_KIND}" is: ${want}; the provided value is: ${String(have)}`;
}

/**
 * The KubeProxyConfiguration for this configuration: kubeadm's defaulting over the decoded user document. Problems
 * (a value of the wrong type) are issues under `KubeProxyConfiguration.<field>`; unknown fields and values other than
 * kubeadm's recommendation are warnings, as in kubeadm.
 */
export function kubeProxySettings(input: KubeProxyInputs): { settings: KubeProxySettings; warnings: string[]; issues: Issue[] } {
  const st: DecodeState = { issues: [], unknown: [] };
  const doc = input.document ?? {};
  const body: Record<string, unknown> = { ...doc };
  delete body.apiVersion;
  delete body.kind;
  const cfg = decode(KUBE_PROXY_CONFIGURATION, body, zero(KUBE_PROXY_CONFIGURATION), KUBEPROXY_KIND, st) as Record<string, unknown>;
  const warnings = st.unknown.map((p) => `${p}: unknown field "${p.split('.').pop() as string}" (ignored, as kubeadm ignores it with a warning)`);

  // kubeadm's kubeProxyConfig.Default
  // IPv4 unless the address is IPv6 (an IPv4-mapped IPv6 address counts as IPv4, as Go's To4 says)
  const family = isIP(input.advertiseAddress);
  const bindDefault = family === 6 && isIP(canonicalIp(input.advertiseAddress)) === 6 ? '::' : '0.0.0.0';
  if (cfg.bindAddress === '') cfg.bindAddress = bindDefault;
  else if (cfg.bindAddress !== bindDefault) warnings.push(recommended('bindAddress', bindDefault, cfg.bindAddress));
  if (cfg.clusterCIDR === '' && input.podSubnet !== '') cfg.clusterCIDR = input.podSubnet;
  else if (input.podSubnet !== '' && cfg.clusterCIDR !== input.podSubnet) warnings.push(recommended('clusterCIDR', input.podSubnet, cfg.clusterCIDR));
  const cc = cfg.clientConnection as Record<string, unknown>;
  if (cc.kubeconfig === '') cc.kubeconfig = KUBEPROXY_KUBECONFIG;
  else if (cc.kubeconfig !== KUBEPROXY_KUBECONFIG) warnings.push(recommended('clientConnection.kubeconfig', KUBEPROXY_KUBECONFIG, cc.kubeconfig));

  return {
    settings: { configuration: { apiVersion: KUBEPROXY_API_VERSION, kind: KUBEPROXY_KIND, ...cfg }, userSupplied: input.document !== undefined },
    warnings,
    issues: st.issues,
  };
}
