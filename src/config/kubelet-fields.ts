/**
 * Light checks of a KubeletConfiguration (kubelet.config.k8s.io/v1beta1) document.
 *
 * kubeadm decodes this document strictly and only warns about fields it does not know; the kubelet
 * itself refuses them when it starts. kubeboot does the same: it reports, it does not fail.
 */

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

/** Warnings (never errors) for a KubeletConfiguration document: unknown top-level fields and bad port values. */
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
  return warnings;
}
