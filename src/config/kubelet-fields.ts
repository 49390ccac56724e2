/**
 * Light checks of a KubeletConfiguration (kubelet.config.k8s.io/v1beta1) document.
 *
 * kubeadm decodes this document strictly and only warns about fields it does not know; the kubelet
 * itself refuses them when it starts. kubeboot does the same: it reports, it does not fail. Beyond unknown
 * fields it warns about what the kubelet refuses at start: a known field of the wrong type (its decoder fails),
 * a value outside what the kubelet's validation accepts (a port, a percentage, cgroupDriver, the manager policies).
 */
import { parseDurationNs } from '../util/duration.js';

/**
 * Top-level field names of KubeletConfiguration v1beta1, taken from the json tags of the struct in
 * kubernetes staging/src/k8s.io/kubelet/config/v1beta1/types.go (covers Kubernetes 1.34 to 1.36),
 * plus the TypeMeta fields apiVersion and kind.
 */
export const KUBELET_CONFIG_FIELDS: ReadonlySet<string> = new Set([
  'apiVersion',
  'kind',
  'enableServer',
  'staticPodPath',
  'podLogsDir',
  'syncFrequency',
  'fileCheckFrequency',
  'httpCheckFrequency',
  'staticPodURL',
  'staticPodURLHeader',
  'address',
  'port',
  'readOnlyPort',
  'tlsCertFile',
  'tlsPrivateKeyFile',
  'tlsCipherSuites',
  'tlsCurvePreferences',
  'tlsMinVersion',
  'rotateCertificates',
  'serverTLSBootstrap',
  'authentication',
  'authorization',
  'registryPullQPS',
  'registryBurst',
  'imagePullCredentialsVerificationPolicy',
  'preloadedImagesVerificationAllowlist',
  'eventRecordQPS',
  'eventBurst',
  'enableDebuggingHandlers',
  'enableContentionProfiling',
  'healthzPort',
  'healthzBindAddress',
  'oomScoreAdj',
  'clusterDomain',
  'clusterDNS',
  'streamingConnectionIdleTimeout',
  'nodeStatusUpdateFrequency',
  'nodeStatusReportFrequency',
  'nodeLeaseDurationSeconds',
  'imageMinimumGCAge',
  'imageMaximumGCAge',
  'imageGCHighThresholdPercent',
  'imageGCLowThresholdPercent',
  'volumeStatsAggPeriod',
  'kubeletCgroups',
  'systemCgroups',
  'cgroupRoot',
  'cgroupsPerQOS',
  'cgroupDriver',
  'cpuManagerPolicy',
  'singleProcessOOMKill',
  'cpuManagerPolicyOptions',
  'cpuManagerReconcilePeriod',
  'draManagerReconcilePeriod',
  'memoryManagerPolicy',
  'topologyManagerPolicy',
  'topologyManagerScope',
  'topologyManagerPolicyOptions',
  'qosReserved',
  'runtimeRequestTimeout',
  'hairpinMode',
  'maxPods',
  'podCIDR',
  'podPidsLimit',
  'resolvConf',
  'runOnce',
  'cpuCFSQuota',
  'cpuCFSQuotaPeriod',
  'nodeStatusMaxImages',
  'maxOpenFiles',
  'contentType',
  'kubeAPIQPS',
  'kubeAPIBurst',
  'serializeImagePulls',
  'maxParallelImagePulls',
  'evictionHard',
  'evictionSoft',
  'evictionSoftGracePeriod',
  'evictionPressureTransitionPeriod',
  'evictionMaxPodGracePeriod',
  'evictionMinimumReclaim',
  'mergeDefaultEvictionSettings',
  'podsPerCore',
  'enableControllerAttachDetach',
  'protectKernelDefaults',
  'makeIPTablesUtilChains',
  'iptablesMasqueradeBit',
  'iptablesDropBit',
  'featureGates',
  'failSwapOn',
  'memorySwap',
  'containerLogMaxSize',
  'containerLogMaxFiles',
  'containerLogMaxWorkers',
  'containerLogMonitorInterval',
  'configMapAndSecretChangeDetectionStrategy',
  'systemReserved',
  'kubeReserved',
  'reservedSystemCPUs',
  'showHiddenMetricsForVersion',
  'systemReservedCgroup',
  'kubeReservedCgroup',
  'enforceNodeAllocatable',
  'allowedUnsafeSysctls',
  'volumePluginDir',
  'providerID',
  'kernelMemcgNotification',
  'logging',
  'enableSystemLogHandler',
  'enableSystemLogQuery',
  'shutdownGracePeriod',
  'shutdownGracePeriodCriticalPods',
  'shutdownGracePeriodByPodPriority',
  'crashLoopBackOff',
  'reservedMemory',
  'enableProfilingHandler',
  'enableDebugFlagsHandler',
  'seccompDefault',
  'memoryThrottlingFactor',
  'memoryReservationPolicy',
  'registerWithTaints',
  'registerNode',
  'tracing',
  'localStorageCapacityIsolation',
  'containerRuntimeEndpoint',
  'imageServiceEndpoint',
  'failCgroupV1',
  'userNamespaces',
]);

/** Fields holding a TCP port; 0 is accepted here (it turns the endpoint off for healthzPort and readOnlyPort). */
const PORT_FIELDS = ['port', 'readOnlyPort', 'healthzPort'] as const;

/** Edit distance between a and b, or limit + 1 as soon as it is certain to be larger than limit. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next.push(Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + cost));
    }
    if (Math.min(...next) > limit) return limit + 1;
    row = next;
  }
  return row[b.length] as number;
}

/** The known field closest to name: same spelling ignoring case, else at most 2 edits away. */
function closestField(name: string): string | undefined {
  const lower = name.toLowerCase();
  let best: { field: string; d: number } | undefined;
  for (const field of KUBELET_CONFIG_FIELDS) {
    const d = field.toLowerCase() === lower ? 0 : distance(lower, field.toLowerCase(), 2);
    if (d <= 2 && (!best || d < best.d)) best = { field, d };
  }
  return best?.field;
}

function shown(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : v !== null && typeof v === 'object' ? 'a mapping' : String(v);
}

/** The JSON type of each top-level field the kubelet's decoder insists on (types.go); fields not listed are not checked. */
type FieldType = 'bool' | 'int' | 'number' | 'string' | 'duration' | 'list' | 'mapping';
const FIELD_TYPES: Readonly<Record<FieldType, readonly string[]>> = {
  bool: [
    'enableServer', 'rotateCertificates', 'serverTLSBootstrap', 'enableDebuggingHandlers', 'enableContentionProfiling',
    'cgroupsPerQOS', 'singleProcessOOMKill', 'runOnce', 'cpuCFSQuota', 'serializeImagePulls', 'enableControllerAttachDetach',
    'protectKernelDefaults', 'makeIPTablesUtilChains', 'failSwapOn', 'kernelMemcgNotification', 'enableSystemLogHandler',
    'enableSystemLogQuery', 'enableProfilingHandler', 'enableDebugFlagsHandler', 'seccompDefault', 'registerNode',
    'localStorageCapacityIsolation', 'failCgroupV1', 'mergeDefaultEvictionSettings',
  ],
  // port, readOnlyPort and healthzPort have their own check below
  int: [
    'registryPullQPS', 'registryBurst', 'eventRecordQPS', 'eventBurst', 'oomScoreAdj', 'nodeLeaseDurationSeconds',
    'imageGCHighThresholdPercent', 'imageGCLowThresholdPercent', 'maxPods', 'podPidsLimit', 'nodeStatusMaxImages',
    'maxOpenFiles', 'kubeAPIQPS', 'kubeAPIBurst', 'maxParallelImagePulls', 'evictionMaxPodGracePeriod', 'podsPerCore',
    'iptablesMasqueradeBit', 'iptablesDropBit', 'containerLogMaxFiles', 'containerLogMaxWorkers',
  ],
  number: ['memoryThrottlingFactor'],
  string: [
    'staticPodPath', 'podLogsDir', 'staticPodURL', 'address', 'tlsCertFile', 'tlsPrivateKeyFile', 'tlsMinVersion',
    'healthzBindAddress', 'clusterDomain', 'kubeletCgroups', 'systemCgroups', 'cgroupRoot', 'cgroupDriver',
    'cpuManagerPolicy', 'memoryManagerPolicy', 'topologyManagerPolicy', 'topologyManagerScope', 'hairpinMode', 'podCIDR',
    'resolvConf', 'contentType', 'containerLogMaxSize', 'configMapAndSecretChangeDetectionStrategy', 'reservedSystemCPUs',
    'showHiddenMetricsForVersion', 'systemReservedCgroup', 'kubeReservedCgroup', 'volumePluginDir', 'providerID',
    'containerRuntimeEndpoint', 'imageServiceEndpoint',
  ],
  duration: [
    'syncFrequency', 'fileCheckFrequency', 'httpCheckFrequency', 'streamingConnectionIdleTimeout', 'nodeStatusUpdateFrequency',
    'nodeStatusReportFrequency', 'imageMinimumGCAge', 'imageMaximumGCAge', 'volumeStatsAggPeriod', 'cpuManagerReconcilePeriod',
    'runtimeRequestTimeout', 'cpuCFSQuotaPeriod', 'evictionPressureTransitionPeriod', 'containerLogMonitorInterval',
    'shutdownGracePeriod', 'shutdownGracePeriodCriticalPods',
  ],
  list: [
    'tlsCipherSuites', 'clusterDNS', 'enforceNodeAllocatable', 'allowedUnsafeSysctls', 'registerWithTaints',
    'shutdownGracePeriodByPodPriority', 'reservedMemory',
  ],
  mapping: [
    'staticPodURLHeader', 'authentication', 'authorization', 'cpuManagerPolicyOptions', 'topologyManagerPolicyOptions',
    'qosReserved', 'evictionHard', 'evictionSoft', 'evictionSoftGracePeriod', 'evictionMinimumReclaim', 'featureGates',
    'memorySwap', 'systemReserved', 'kubeReserved', 'logging', 'crashLoopBackOff', 'tracing', 'userNamespaces',
  ],
};
const TYPE_OF: ReadonlyMap<string, FieldType> = new Map(
  (Object.entries(FIELD_TYPES) as [FieldType, readonly string[]][]).flatMap(([t, names]) => names.map((n) => [n, t] as const)),
);
const EXPECTED: Readonly<Record<FieldType, string>> = {
  bool: 'a boolean (true or false)',
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  duration: 'a duration such as 1m0s',
  list: 'a list',
  mapping: 'a mapping',
};

function hasType(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'bool':
      return typeof v === 'boolean';
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'string':
      return typeof v === 'string';
    case 'duration':
      return typeof v === 'string' && parseDurationNs(v) !== undefined;
    case 'list':
      return Array.isArray(v);
    case 'mapping':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
  }
}

/**
 * Values the kubelet accepts for a field, where it accepts only a few (its validation, or the manager that reads it).
 * "" is accepted everywhere: the kubelet's defaulting fills it.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  cgroupDriver: ['systemd', 'cgroupfs'],
  hairpinMode: ['promiscuous-bridge', 'hairpin-veth', 'none'],
  cpuManagerPolicy: ['none', 'static'],
  memoryManagerPolicy: ['None', 'Static'],
  topologyManagerPolicy: ['none', 'best-effort', 'restricted', 'single-numa-node'],
  topologyManagerScope: ['container', 'pod'],
  configMapAndSecretChangeDetectionStrategy: ['Get', 'Cache', 'Watch'],
};

/** Integer ranges of the kubelet's validation (pkg/kubelet/apis/config/validation). */
const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  imageGCHighThresholdPercent: [0, 100],
  imageGCLowThresholdPercent: [0, 100],
  oomScoreAdj: [-1000, 1000],
  iptablesMasqueradeBit: [0, 31],
  iptablesDropBit: [0, 31],
  nodeLeaseDurationSeconds: [0, Number.MAX_SAFE_INTEGER], // 0 is defaulted to 40
  eventBurst: [0, Number.MAX_SAFE_INTEGER],
  eventRecordQPS: [0, Number.MAX_SAFE_INTEGER],
  kubeAPIBurst: [0, Number.MAX_SAFE_INTEGER],
  kubeAPIQPS: [0, Number.MAX_SAFE_INTEGER],
  maxOpenFiles: [0, Number.MAX_SAFE_INTEGER],
  maxPods: [0, Number.MAX_SAFE_INTEGER],
  podsPerCore: [0, Number.MAX_SAFE_INTEGER],
  registryBurst: [0, Number.MAX_SAFE_INTEGER],
  registryPullQPS: [0, Number.MAX_SAFE_INTEGER],
};

function rangeText([lo, hi]: readonly [number, number]): string {
  return hi === Number.MAX_SAFE_INTEGER ? `at least ${lo}` : `${lo}-${hi}`;
}

/**
 * Warnings (never errors) for a KubeletConfiguration document: unknown top-level fields, known fields of the wrong
 * type, bad port values, values outside what the kubelet accepts. Each is something the kubelet refuses at start.
 */
export function kubeletConfigWarnings(doc: Record<string, unknown>): string[] {
  const warnings: string[] = [];
  for (const key of Object.keys(doc)) {
    if (KUBELET_CONFIG_FIELDS.has(key)) continue;
    const near = closestField(key);
    const hint = near ? ` (did you mean "${near}"?)` : '';
    warnings.push(`KubeletConfiguration: unknown field "${key}"${hint}; the kubelet will reject it`);
  }
  for (const field of PORT_FIELDS) {
    if (!(field in doc)) continue;
    const v = doc[field];
    if (v === null || v === undefined) continue;
    // 0 turns healthz and the read-only port off; the kubelet's own serving port must be a real one
    const min = field === 'port' ? 1 : 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 65535) {
      warnings.push(`KubeletConfiguration.${field}: ${shown(v)} is not a port number (${min}-65535)`);
    }
  }
  // YAML null leaves a field unset for the kubelet's decoder, as for kubeadm's documents
  const present = (k: string) => Object.hasOwn(doc, k) && doc[k] !== null && doc[k] !== undefined;
  const typed = (k: string) => present(k) && hasType(doc[k], TYPE_OF.get(k) as FieldType);
  for (const [field, t] of TYPE_OF) {
    if (!present(field) || hasType(doc[field], t)) continue;
    const got = typeof doc[field] === 'string' ? `string ${JSON.stringify(doc[field])}` : typeof doc[field] === 'object' ? shown(doc[field]) : `${typeof doc[field]} ${shown(doc[field])}`;
    warnings.push(`KubeletConfiguration.${field}: expected ${EXPECTED[t]}, got ${got}; the kubelet cannot read the file`);
  }
  for (const [field, allowed] of Object.entries(ALLOWED)) {
    if (typed(field) && doc[field] !== '' && !allowed.includes(doc[field] as string)) {
      warnings.push(`KubeletConfiguration.${field}: invalid value ${JSON.stringify(doc[field])}: the kubelet accepts ${allowed.join(', ')}`);
    }
  }
  for (const [field, range] of Object.entries(RANGES)) {
    const v = doc[field] as number;
    if (typed(field) && (v < range[0] || v > range[1])) warnings.push(`KubeletConfiguration.${field}: ${v} is out of range (${rangeText(range)})`);
  }
  // the kubelet's defaults are 85 and 80; one given alone is compared with the other's default
  const [hasHigh, hasLow] = [typed('imageGCHighThresholdPercent'), typed('imageGCLowThresholdPercent')];
  const high = hasHigh ? (doc['imageGCHighThresholdPercent'] as number) : 85;
  const low = hasLow ? (doc['imageGCLowThresholdPercent'] as number) : 80;
  if ((hasHigh || hasLow) && low >= high) {
    warnings.push(
      `KubeletConfiguration.imageGCLowThresholdPercent: ${low}${hasLow ? '' : ' (the default)'} must be less than imageGCHighThresholdPercent (${high}${hasHigh ? '' : ', the default'})`,
    );
  }
  const swap = doc['memorySwap'];
  if (typed('memorySwap')) {
    const behavior = (swap as Record<string, unknown>)['swapBehavior'];
    if (behavior !== undefined && behavior !== null && behavior !== '' && behavior !== 'NoSwap' && behavior !== 'LimitedSwap') {
      warnings.push(`KubeletConfiguration.memorySwap.swapBehavior: invalid value ${shown(behavior)}: the kubelet accepts NoSwap, LimitedSwap`);
    }
  }
  return warnings;
}
