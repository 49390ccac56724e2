/**
 * file text + flags + host facts → one readonly ClusterSpec, or a ConfigError listing every problem
 * (`path.to.field: message`, sorted). Nothing here touches the disk: the caller reads the file.
 */
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { HostFacts } from '../effects/host.js';
import { parseDuration } from '../util/duration.js';
import { canonicalIp } from '../util/net.js';
import { resolveVersion, defaultVersionRow, type VersionRow } from '../versions.js';
import { convertClusterV1beta3, convertInitV1beta3 } from './convert.js';
import { applyDefaults, DEFAULTS } from './defaults.js';
import { kubeProxySettings } from './kube-proxy.js';
import { API_V1BETA3, API_V1BETA4, KNOWN_KINDS, KUBEBOOT_API, KUBELET_API, KUBEPROXY_API } from './api.js';
import { kubeletConfigWarnings } from './kubelet-fields.js';
import type { Arg, ClusterV1beta3, ClusterV1beta4, InitV1beta3, InitV1beta4, KubebootV1alpha1 } from './schema.js';

/** zod and the schemas load only when a file is parsed (they cost ~100 ms of start-up). */
type Schemas = typeof import('./schema.js');
let schemas: Schemas | undefined;
async function loadSchemas(): Promise<Schemas> {
  schemas ??= await import('./schema.js');
  return schemas;
}

import { CONTROL_PLANE_TAINT, defaultPaths, type ClusterSpec, type EncryptionAlgorithm } from './spec.js';
import { validateDocuments, type Issue } from './validate.js';
import { applyConfigFlags, type ConfigFlags } from './flags.js';

export type { ConfigFlags } from './flags.js';

export interface LoadedConfig {
  readonly spec: ClusterSpec;
  readonly warnings: readonly string[];
  /** the apiVersion the file used (undefined without --config) */
  readonly fileApiVersion: string | undefined;
}

export interface ParsedDocuments {
  init: InitV1beta4;
  cluster: ClusterV1beta4;
  kubelet: Record<string, unknown> | undefined;
  kubeProxy: Record<string, unknown> | undefined;
  /** kubeboot's own document (kubeboot.io/v1alpha1 KubebootConfiguration), type-checked */
  kubeboot?: KubebootV1alpha1;
  apiVersion: string | undefined;
  warnings: string[];
  /**
   * Every problem found in the documents themselves: unknown fields, wrong types, unknown kinds, duplicates. buildSpec
   * reports them together with the semantic problems it finds in the rest of the file, so that one problem does not
   * hide the others: never use the documents without buildSpec when this is set.
   */
  pendingIssues?: Issue[];
  /**
   * Fields (`InitConfiguration.a.b`) left out because their value had the wrong type, or whole kinds that could not be
   * read: buildSpec drops its semantic problems there, which would be about the defaults that took their place.
   */
  unchecked?: string[];
}

// ---- unknown-field suggestions: every field name the schemas know ----
let knownFields: Map<string, string> | undefined;
function collectFields(schema: unknown, into: Map<string, string>, depth = 0): void {
  if (depth > 12 || schema === null || typeof schema !== 'object') return;
  const s = schema as { shape?: Record<string, unknown>; unwrap?: () => unknown; element?: unknown; def?: { innerType?: unknown; valueType?: unknown } };
  if (s.shape) {
    for (const [k, v] of Object.entries(s.shape)) {
      into.set(k.toLowerCase(), k);
      collectFields(v, into, depth + 1);
    }
  }
  if (s.def?.innerType) collectFields(s.def.innerType, into, depth + 1);
  if (s.element) collectFields(s.element, into, depth + 1);
  if (s.def?.valueType) collectFields(s.def.valueType, into, depth + 1);
}
function suggestField(S: Schemas, key: string): string | undefined {
  if (!knownFields) {
    knownFields = new Map();
    for (const sch of [S.initV1beta4, S.clusterV1beta4, S.initV1beta3, S.clusterV1beta3, S.kubebootV1alpha1]) collectFields(sch, knownFields);
  }
  const hit = knownFields.get(key.toLowerCase());
  if (hit !== undefined) return hit !== key ? hit : undefined;
  // a misspelling: the closest known name within two edits (case-insensitive)
  if (key.length < 4) return undefined;
  let best: { name: string; d: number } | undefined;
  for (const [lower, name] of knownFields) {
    const d = editDistance(key.toLowerCase(), lower, 2);
    if (d <= 2 && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** Levenshtein distance, giving up (returning max+1) once it exceeds max. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length] as number;
}

/** A copy of doc without the keys zod called unrecognized (paths from its issues). */
function withoutUnknownKeys(doc: unknown, err: z.ZodError): unknown {
  const copy = structuredClone(doc) as Record<string, unknown>;
  for (const iss of err.issues) {
    if (iss.code !== 'unrecognized_keys') continue;
    let node: unknown = copy;
    for (const seg of iss.path) node = (node as Record<PropertyKey, unknown> | undefined)?.[seg as string];
    if (node && typeof node === 'object') for (const k of iss.keys) delete (node as Record<string, unknown>)[k];
  }
  return copy;
}

function pathText(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}

function zodIssues(S: Schemas, kind: string, issues: readonly z.core.$ZodIssue[]): Issue[] {
  const out: Issue[] = [];
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) {
        const sug = suggestField(S, key);
        out.push({
          path: pathText(kind, [...iss.path, key]),
          message: `unknown field "${key}"${sug ? ` (did you mean "${sug}"?)` : ''}`,
        });
      }
      continue;
    }
    let message = iss.message;
    if (iss.code === 'invalid_type') {
      const expected = (iss as { expected?: string }).expected ?? 'another type';
      message = iss.input === undefined ? `required field is missing (expected ${expected})` : `expected ${expected}, got ${describe(iss.input)}`;
      const last = iss.path.at(-1);
      if (expected === 'array' && (last === 'extraArgs' || last === 'kubeletExtraArgs') && iss.input !== null && typeof iss.input === 'object' && !Array.isArray(iss.input)) {
        message = 'expected a list of {name, value} entries; a map of flag: value is the v1beta3 form (write "- name: <flag>" / "  value: <value>", or run kubeboot config migrate on a v1beta3 file)';
      }
    } else if (iss.code === 'invalid_value') {
      const values = (iss as { values?: unknown[] }).values ?? [];
      message = `invalid value ${describe(iss.input)}: must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    out.push({ path: pathText(kind, iss.path), message });
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * YAML null for a field (`apiServer:` with every child commented out) is what kubeadm's decoder makes of it: the field
 * stays unset, as if it were absent. Null items of a list stay (they are a type error).
 */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  }
  return v;
}

/**
 * Where a type problem is cut out of a document so that the rest can be checked: the field itself, or for a missing
 * required field its parent; a problem inside a list cuts the whole list (its indexes would shift otherwise).
 */
function cutPath(iss: z.core.$ZodIssue): PropertyKey[] {
  let p: PropertyKey[] = [...iss.path];
  if (iss.code === 'invalid_type' && iss.input === undefined) p = p.slice(0, -1);
  const firstIndex = p.findIndex((x) => typeof x === 'number');
  return firstIndex >= 0 ? p.slice(0, firstIndex) : p;
}

function removeAt(doc: unknown, path: readonly PropertyKey[]): void {
  let node = doc as Record<string, unknown> | undefined;
  for (const seg of path.slice(0, -1)) {
    const next = node?.[seg as string];
    node = next !== null && typeof next === 'object' ? (next as Record<string, unknown>) : undefined;
  }
  if (node && Object.hasOwn(node, path[path.length - 1] as string)) delete node[path[path.length - 1] as string];
}

/** Parses and type-checks the documents of one config file; v1beta3 is converted to v1beta4. */
export async function parseConfigText(text: string, fileName: string): Promise<ParsedDocuments> {
  const { parseYamlDocuments } = await import('../render/yaml.js');
  const S = await loadSchemas();
  let docs: unknown[];
  try {
    docs = parseYamlDocuments(text).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    const e = err as { mark?: { line: number; column: number }; reason?: string; message: string };
    const where = e.mark ? `line ${e.mark.line + 1}, column ${e.mark.column + 1}` : 'YAML';
    throw new ConfigError(`invalid configuration in ${fileName}`, [`${where}: ${e.reason ?? e.message}`]);
  }
  const issues: Issue[] = [];
  const warnings: string[] = [];
  const unchecked: string[] = [];
  let init: InitV1beta4 | undefined;
  let cluster: ClusterV1beta4 | undefined;
  let kubelet: Record<string, unknown> | undefined;
  let kubeProxy: Record<string, unknown> | undefined;
  let kubeboot: KubebootV1alpha1 | undefined;
  const apiVersions = new Set<string>();
  let v3Timeout: string | undefined;
  if (docs.length === 0) issues.push({ path: 'document 1', message: 'the file holds no YAML document' });
  type Result = { success: true; data: unknown } | { success: false; error: z.ZodError };
  /**
   * Type-checks one kubeadm document and keeps going after a problem: unknown fields are reported and left out, null
   * fields are unset (as in kubeadm), and a field of the wrong type is reported and cut out, so that the rest of the
   * document still reaches buildSpec's semantic checks. Undefined data: nothing of the document could be used.
   */
  const check = (schema: z.ZodType, doc: object, kind: string): unknown => {
    const parse = (d: unknown) => schema.safeParse(d, { reportInput: true }) as Result;
    const first = parse(doc);
    if (first.success) return first.data;
    issues.push(...zodIssues(S, kind, first.error.issues.filter((i) => i.code === 'unrecognized_keys')));
    let current = withoutNulls(withoutUnknownKeys(doc, first.error));
    for (let round = 0; round < 10; round++) {
      const r = parse(current);
      if (r.success) return r.data;
      issues.push(...zodIssues(S, kind, r.error.issues));
      current = structuredClone(current);
      for (const iss of r.error.issues) {
        const cut = cutPath(iss);
        if (cut.length === 0) break;
        removeAt(current, cut);
        unchecked.push(pathText(kind, cut));
      }
      if (r.error.issues.some((iss) => cutPath(iss).length === 0)) break;
    }
    unchecked.push(kind);
    return undefined;
  };
  docs.forEach((doc, i) => {
    const where = `document ${i + 1}`;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      issues.push({ path: where, message: 'expected a mapping with apiVersion and kind' });
      return;
    }
    const { apiVersion, kind } = doc as { apiVersion?: unknown; kind?: unknown };
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      issues.push({ path: `${where}`, message: 'apiVersion and kind are required strings' });
      return;
    }
    const kinds = KNOWN_KINDS[apiVersion];
    if (!kinds) {
      issues.push({
        path: `${where}.apiVersion`,
        message: `unknown apiVersion "${apiVersion}": supported are ${Object.keys(KNOWN_KINDS).join(', ')}`,
      });
      if (kind === 'InitConfiguration' || kind === 'ClusterConfiguration') unchecked.push(kind);
      return;
    }
    if (!kinds.includes(kind)) {
      issues.push({ path: `${where}.kind`, message: `unknown kind "${kind}" for ${apiVersion}: expected one of ${kinds.join(', ')}` });
      return;
    }
    const dup = () => issues.push({ path: kind, message: `more than one ${kind} document in the file` });
    if (apiVersion === KUBELET_API) {
      if (kubelet) dup();
      kubelet = doc as Record<string, unknown>;
      return;
    }
    if (apiVersion === KUBEPROXY_API) {
      if (kubeProxy) dup();
      kubeProxy = doc as Record<string, unknown>;
      return;
    }
    if (apiVersion === KUBEBOOT_API) {
      if (kubeboot) dup();
      const data = check(S.kubebootV1alpha1, doc, kind);
      if (data !== undefined) kubeboot = data as KubebootV1alpha1;
      return;
    }
    apiVersions.add(apiVersion);
    if (kind === 'InitConfiguration') {
      if (init) dup();
      const data = check(apiVersion === API_V1BETA4 ? S.initV1beta4 : S.initV1beta3, doc, kind);
      if (data !== undefined) init = apiVersion === API_V1BETA4 ? (data as InitV1beta4) : convertInitV1beta3(data as InitV1beta3);
    } else {
      if (cluster) dup();
      const data = check(apiVersion === API_V1BETA4 ? S.clusterV1beta4 : S.clusterV1beta3, doc, kind);
      if (data === undefined) return;
      if (apiVersion === API_V1BETA4) cluster = data as ClusterV1beta4;
      else {
        const c = convertClusterV1beta3(data as ClusterV1beta3);
        cluster = c.cluster;
        v3Timeout = c.timeoutForControlPlane;
      }
    }
  });
  if (apiVersions.size > 1) {
    issues.push({ path: 'apiVersion', message: `all kubeadm documents must use one apiVersion, found ${[...apiVersions].join(' and ')}` });
  }
  const apiVersion = apiVersions.size === 1 ? [...apiVersions][0] : undefined;
  // Like kubeadm, only warn about a doubtful KubeletConfiguration.
  if (kubelet) warnings.push(...kubeletConfigWarnings(kubelet));
  if (apiVersion === API_V1BETA3) {
    warnings.push(
      `${fileName} uses the deprecated API "${API_V1BETA3}"; kubeboot converted it to ${API_V1BETA4}, as kubeadm 1.36 does with the same warning. Run 'kubeboot config migrate --old-config ${fileName}' to get the v1beta4 form.`,
    );
  }
  const initDoc: InitV1beta4 = init ?? { apiVersion: API_V1BETA4, kind: 'InitConfiguration' };
  if (v3Timeout !== undefined) {
    initDoc.timeouts = { ...initDoc.timeouts, controlPlaneComponentHealthCheck: v3Timeout };
  }
  return {
    init: initDoc,
    cluster: cluster ?? { apiVersion: API_V1BETA4, kind: 'ClusterConfiguration' },
    kubelet,
    kubeProxy,
    ...(kubeboot ? { kubeboot } : {}),
    apiVersion,
    warnings,
    ...(issues.length > 0 ? { pendingIssues: issues } : {}),
    ...(unchecked.length > 0 ? { unchecked } : {}),
  };
}

export function configError(source: string, issues: readonly Issue[], flagLabels: Readonly<Record<string, string>>): ConfigError {
  const lines = issues
    .map((i) => {
      const base = Object.keys(flagLabels).find((p) => i.path === p || i.path.startsWith(`${p}.`) || i.path.startsWith(`${p}[`));
      const label = base ? (flagLabels[base] as string) : i.path;
      return `${label}: ${i.message}`;
    })
    .sort();
  const unique = [...new Set(lines)];
  return new ConfigError(
    `invalid configuration${source ? ` in ${source}` : ''} (${unique.length} problem${unique.length === 1 ? '' : 's'})`,
    unique,
  );
}

/** The pod subnet a pod network gets when none is set (kind's): 10.244.0.0/16, fd00:10:244::/56, or both, by the service subnet's families. */
export function defaultPodSubnet(serviceSubnet: string | undefined): string {
  const families = (serviceSubnet ?? '').split(',').map((x) => (x.includes(':') ? 6 : 4));
  const v4 = families.length === 0 || families.includes(4) || serviceSubnet === undefined || serviceSubnet === '';
  const v6 = families.includes(6);
  const first6 = families[0] === 6;
  const subnets = [...(v4 ? ['10.244.0.0/16'] : []), ...(v6 ? ['fd00:10:244::/56'] : [])];
  return (first6 ? subnets.reverse() : subnets).join(',');
}

function ms(text: string | undefined, fallback: number): number {
  const v = text === undefined ? undefined : parseDuration(text);
  return v === undefined ? fallback : v;
}

/** Builds the spec from parsed documents (or none) plus flags; throws ConfigError with every issue. */
export function buildSpec(
  parsed: Pick<ParsedDocuments, 'init' | 'cluster' | 'kubelet' | 'apiVersion' | 'pendingIssues' | 'unchecked'> & Partial<Pick<ParsedDocuments, 'kubeProxy' | 'kubeboot'>> | undefined,
  flags: ConfigFlags,
  host: HostFacts,
  source: string,
): LoadedConfig {
  const init: InitV1beta4 = structuredClone(parsed?.init ?? { apiVersion: API_V1BETA4, kind: 'InitConfiguration' });
  const clusterIn: ClusterV1beta4 = structuredClone(
    parsed?.cluster ?? { apiVersion: API_V1BETA4, kind: 'ClusterConfiguration' },
  );
  const kubebootIn: Record<string, unknown> = structuredClone(parsed?.kubeboot ?? { apiVersion: KUBEBOOT_API, kind: 'KubebootConfiguration' });
  const fromFlags = applyConfigFlags(
    { InitConfiguration: init as Record<string, unknown>, ClusterConfiguration: clusterIn as Record<string, unknown>, KubebootConfiguration: kubebootIn },
    flags,
  );
  const kubeboot = kubebootIn as KubebootV1alpha1;
  // the one-node pod network needs a pod subnet: kind's default for the service subnet's address families
  if (kubeboot.podNetwork !== undefined && !clusterIn.networking?.podSubnet) {
    clusterIn.networking = { ...clusterIn.networking, podSubnet: defaultPodSubnet(clusterIn.networking?.serviceSubnet) };
  }
  const resolved = resolveVersion(clusterIn.kubernetesVersion);
  const semantic: Issue[] = [];
  let row: VersionRow = defaultVersionRow();
  if (typeof resolved === 'string') semantic.push({ path: 'ClusterConfiguration.kubernetesVersion', message: resolved });
  else {
    row = resolved.row;
    clusterIn.kubernetesVersion = resolved.version;
  }
  const d = applyDefaults(init, clusterIn, host, row.latestPatch);
  semantic.push(...validateDocuments(d.init, d.cluster, row));
  // kubeadm's manageSkippedAddons (init only): skipping an addon's phase disables that addon in the configuration
  // init records (and uploads). spec.dns/spec.proxy keep what the file says, as kubeadm's other commands read it
  // (`config images list` still lists CoreDNS when skipPhases names addon/coredns)
  const dnsDisabled = d.cluster.dns?.disabled ?? false;
  const proxyDisabled = d.cluster.proxy?.disabled ?? false;
  const skips = new Set(d.init.skipPhases ?? []);
  const allAddons = skips.has('addon') || skips.has('addon/all');
  if (allAddons || skips.has('addon/coredns')) d.cluster.dns = { ...d.cluster.dns, disabled: true };
  if (allAddons || skips.has('addon/kube-proxy')) d.cluster.proxy = { ...d.cluster.proxy, disabled: true };
  // the KubeProxyConfiguration: decoded as kubeadm decodes it, kubeadm's defaults for this node over it
  const proxy = kubeProxySettings({
    document: parsed?.kubeProxy,
    advertiseAddress: d.init.localAPIEndpoint?.advertiseAddress ?? '',
    podSubnet: d.cluster.networking?.podSubnet ?? '',
  });
  semantic.push(...proxy.issues);
  // a field cut out for its type was replaced by its default: a problem found there is about the default, not the file
  const cut = parsed?.unchecked ?? [];
  const under = (path: string, p: string) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`);
  const issues: Issue[] = [...(parsed?.pendingIssues ?? []), ...semantic.filter((i) => !cut.some((p) => under(i.path, p)))];
  if (issues.length > 0) throw configError(source, issues, fromFlags);

  const c = d.cluster;
  const i = d.init;
  const local = c.etcd?.local;
  const ext = c.etcd?.external;
  const imageRepository = c.imageRepository as string;
  const spec: ClusterSpec = {
    kubernetesVersion: c.kubernetesVersion as string,
    version: row,
    clusterName: c.clusterName as string,
    nodeName: i.nodeRegistration?.name as string,
    criSocket: i.nodeRegistration?.criSocket as string,
    imagePullPolicy: (i.nodeRegistration?.imagePullPolicy || 'IfNotPresent') as ClusterSpec['imagePullPolicy'],
    kubeletExtraArgs: i.nodeRegistration?.kubeletExtraArgs ?? [],
    // validated above; kubeadm keeps ip.String() of what it parsed (::ffff:192.0.2.10 → 192.0.2.10)
    advertiseAddress: canonicalIp(i.localAPIEndpoint?.advertiseAddress as string),
    bindPort: i.localAPIEndpoint?.bindPort as number,
    controlPlaneEndpoint: c.controlPlaneEndpoint ?? '',
    imageRepository,
    // kubeadm's EncryptionAlgorithmType(): the deprecated PublicKeysECDSA gate, when set, wins over the field
    encryptionAlgorithm: (c.featureGates?.PublicKeysECDSA === undefined ? c.encryptionAlgorithm : c.featureGates.PublicKeysECDSA ? 'ECDSA-P256' : 'RSA-2048') as EncryptionAlgorithm,
    certificateValidityPeriodMs: ms(c.certificateValidityPeriod, 8760 * 3_600_000),
    caCertificateValidityPeriodMs: ms(c.caCertificateValidityPeriod, 87600 * 3_600_000),
    networking: {
      serviceSubnet: c.networking?.serviceSubnet as string,
      podSubnet: c.networking?.podSubnet ?? '',
      dnsDomain: c.networking?.dnsDomain as string,
    },
    apiServer: {
      extraArgs: c.apiServer?.extraArgs ?? [],
      extraVolumes: c.apiServer?.extraVolumes ?? [],
      extraEnvs: c.apiServer?.extraEnvs ?? [],
      certSANs: c.apiServer?.certSANs ?? [],
    },
    controllerManager: {
      extraArgs: c.controllerManager?.extraArgs ?? [],
      extraVolumes: c.controllerManager?.extraVolumes ?? [],
      extraEnvs: c.controllerManager?.extraEnvs ?? [],
    },
    scheduler: {
      extraArgs: c.scheduler?.extraArgs ?? [],
      extraVolumes: c.scheduler?.extraVolumes ?? [],
      extraEnvs: c.scheduler?.extraEnvs ?? [],
    },
    etcd: {
      ...(local
        ? {
            local: {
              imageRepository: local.imageRepository || imageRepository,
              imageTag: local.imageTag || row.etcdTag,
              imageTagOverridden: Boolean(local.imageTag),
              dataDir: local.dataDir as string,
              extraArgs: local.extraArgs ?? [],
              extraEnvs: local.extraEnvs ?? [],
              serverCertSANs: local.serverCertSANs ?? [],
              peerCertSANs: local.peerCertSANs ?? [],
            },
          }
        : {}),
      ...(ext
        ? {
            external: {
              endpoints: ext.endpoints,
              caFile: ext.caFile ?? '',
              certFile: ext.certFile ?? '',
              keyFile: ext.keyFile ?? '',
              httpEndpoints: ext.httpEndpoints ?? [],
            },
          }
        : {}),
    },
    featureGates: Object.fromEntries(row.featureGates.map((g) => [g.name, c.featureGates?.[g.name] ?? g.default])),
    timeouts: {
      controlPlaneComponentHealthCheckMs: ms(i.timeouts?.controlPlaneComponentHealthCheck, 240_000),
      kubeletHealthCheckMs: ms(i.timeouts?.kubeletHealthCheck, 240_000),
      kubernetesAPICallMs: ms(i.timeouts?.kubernetesAPICall, 60_000),
      etcdAPICallMs: ms(i.timeouts?.etcdAPICall, 120_000),
      tlsBootstrapMs: ms(i.timeouts?.tlsBootstrap, 300_000),
      discoveryMs: ms(i.timeouts?.discovery, 300_000),
      upgradeManifestsMs: ms(i.timeouts?.upgradeManifests, 300_000),
    },
    patchesDirectory: i.patches?.directory ?? '',
    skipPhases: i.skipPhases ?? [],
    ignorePreflightErrors: (i.nodeRegistration?.ignorePreflightErrors ?? []).map((x) => x.toLowerCase()),
    dns: {
      disabled: dnsDisabled,
      imageRepository: corednsRepository(c.dns?.imageRepository || imageRepository),
      imageTag: c.dns?.imageTag || row.corednsTag,
    },
    proxy: { disabled: proxyDisabled },
    kubeletConfiguration: parsed?.kubelet,
    kubeProxyConfiguration: parsed?.kubeProxy,
    kubeProxy: proxy.settings,
    paths: defaultPaths(c.certificatesDir as string),
    // --single-node / singleNode: the node keeps every taint but the control-plane one, so that workloads run on it
    taints: (i.nodeRegistration?.taints == null ? [CONTROL_PLANE_TAINT] : i.nodeRegistration.taints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect }))).filter(
      (t) => !(kubeboot.singleNode === true && t.key === CONTROL_PLANE_TAINT.key),
    ),
    bootstrapTokens: (i.bootstrapTokens ?? []).map((t) => ({
      token: t.token,
      description: t.description ?? '',
      ttlMs: t.expires ? undefined : ms(t.ttl, 24 * 3_600_000) || undefined,
      expires: t.expires,
      usages: t.usages ?? [],
      groups: t.groups ?? [],
    })),
    certificateKey: i.certificateKey ?? '',
    ...(kubeboot.podNetwork !== undefined ? { podNetwork: kubeboot.podNetwork } : {}),
    singleNode: kubeboot.singleNode === true,
    documents: { init: i, cluster: c, ...(kubeboot.podNetwork !== undefined || kubeboot.singleNode !== undefined ? { kubeboot } : {}) },
  };
  const warnings = [...d.warnings, ...proxy.warnings];
  if (c.featureGates?.PublicKeysECDSA !== undefined) {
    warnings.push("The PublicKeysECDSA feature gate is deprecated; ClusterConfiguration.encryptionAlgorithm replaces it (kubeadm's message). It decides the key type: " + spec.encryptionAlgorithm);
  }
  return { spec: deepFreeze(spec), warnings, fileApiVersion: parsed?.apiVersion };
}

/**
 * kubeadm's GetDNSImage: CoreDNS comes from dns.imageRepository, else imageRepository; the default registry holds it
 * under "coredns/" (registry.k8s.io/coredns/coredns), whichever of the two fields names that registry.
 */
function corednsRepository(repository: string): string {
  return repository === DEFAULTS.imageRepository ? `${repository}/coredns` : repository;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

/** Convenience: text (or none) + flags → spec. */
export async function loadConfig(
  file: { path: string; text: string } | undefined,
  flags: ConfigFlags,
  host: HostFacts,
): Promise<LoadedConfig> {
  const parsed = file ? await parseConfigText(file.text, file.path) : undefined;
  const loaded = buildSpec(parsed, flags, host, file?.path ?? 'flags');
  return { ...loaded, warnings: [...(parsed?.warnings ?? []), ...loaded.warnings] };
}
