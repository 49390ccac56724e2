/**
 * What differs per Kubernetes minor (../shared/kubeadm-deltas.md). Data only: every renderer reads
 * these fields instead of comparing version numbers itself.
 */
export type EtcdFlagStyle =
  /** --experimental-initial-corrupt-check / --experimental-watch-progress-notify-interval */
  | 'experimental'
  /** 3.6 forms when the etcd tag (or the imageTag override) is semver >= 3.6.0, else experimental (1.34, 1.35) */
  | 'by-tag'
  /** --feature-gates=InitialCorruptCheck=true / --watch-progress-notify-interval, always (1.36+) */
  | 'new';

/** What kubeadm-flags.env holds by default. */
export type FlagsEnvStyle = 'cri-and-pause' | 'pause' | 'empty';

export interface FeatureGateInfo {
  readonly name: string;
  readonly default: boolean;
  /** GA and locked: setting it to a value other than the default is an error */
  readonly locked?: boolean;
  readonly deprecated?: boolean;
}

export interface VersionRow {
  readonly minor: string; // "1.36"
  readonly latestPatch: string; // "v1.36.5"
  readonly etcdTag: string;
  readonly etcdFlags: EtcdFlagStyle;
  readonly namedProbePort: boolean;
  readonly flexVolume: boolean;
  readonly flagsEnv: FlagsEnvStyle;
  readonly instanceConfig: boolean;
  /** kubelet.conf points at the local API endpoint (ControlPlaneKubeletLocalMode on) */
  readonly kubeletConfLocalEndpoint: boolean;
  readonly pauseTag: string;
  readonly corednsTag: string;
  /** kubeadm of this minor still reads v1beta3 files (kubeboot accepts them for every minor, with a warning) */
  readonly kubeadmAcceptsV1beta3: boolean;
  readonly featureGates: readonly FeatureGateInfo[];
  readonly encryptionAlgorithms: readonly string[];
  /** kubeadm patches kube-proxy's DaemonSet (the kubeproxydaemonset target, 1.37+); corednsdeployment is in every minor */
  readonly kubeProxyDaemonSetPatches: boolean;
  /** scheduler probes: /livez + /readyz (1.32+) */
  readonly schedulerLivez: boolean;
  /** mandatory and optional binaries for the preflight in-PATH checks */
  readonly requiredBinaries: readonly string[];
  readonly optionalBinaries: readonly string[];
}

const ALGOS_134 = ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096'] as const;
const BIN_REQUIRED = ['losetup', 'mount'] as const;
const BIN_OPTIONAL = ['ebtables', 'socat'] as const;

export const VERSION_TABLE: readonly VersionRow[] = [
  {
    minor: '1.34',
    latestPatch: 'v1.34.11',
    etcdTag: '3.6.5-0',
    etcdFlags: 'by-tag',
    namedProbePort: true,
    flexVolume: true,
    flagsEnv: 'pause',
    instanceConfig: true,
    kubeletConfLocalEndpoint: true,
    pauseTag: '3.10.1',
    corednsTag: 'v1.12.1',
    kubeadmAcceptsV1beta3: true,
    featureGates: [
      { name: 'ControlPlaneKubeletLocalMode', default: true },
      { name: 'NodeLocalCRISocket', default: true },
      { name: 'PublicKeysECDSA', default: false, deprecated: true },
      { name: 'RootlessControlPlane', default: false, deprecated: true },
      { name: 'WaitForAllControlPlaneComponents', default: true, locked: true },
    ],
    encryptionAlgorithms: ALGOS_134,
    kubeProxyDaemonSetPatches: false,
    schedulerLivez: true,
    requiredBinaries: BIN_REQUIRED,
    optionalBinaries: BIN_OPTIONAL,
  },
  {
    minor: '1.35',
    latestPatch: 'v1.35.8',
    etcdTag: '3.6.6-0',
    etcdFlags: 'by-tag',
    namedProbePort: true,
    flexVolume: true,
    flagsEnv: 'empty',
    instanceConfig: true,
    kubeletConfLocalEndpoint: true,
    pauseTag: '3.10.1',
    corednsTag: 'v1.13.1',
    kubeadmAcceptsV1beta3: true,
    featureGates: [
      { name: 'ControlPlaneKubeletLocalMode', default: true, locked: true },
      { name: 'NodeLocalCRISocket', default: true },
      { name: 'PublicKeysECDSA', default: false, deprecated: true },
      { name: 'RootlessControlPlane', default: false, deprecated: true },
    ],
    encryptionAlgorithms: ALGOS_134,
    kubeProxyDaemonSetPatches: false,
    schedulerLivez: true,
    requiredBinaries: BIN_REQUIRED,
    optionalBinaries: BIN_OPTIONAL,
  },
  {
    minor: '1.36',
    latestPatch: 'v1.36.5',
    etcdTag: '3.6.8-0',
    etcdFlags: 'new',
    namedProbePort: true,
    flexVolume: false,
    flagsEnv: 'empty',
    instanceConfig: true,
    kubeletConfLocalEndpoint: true,
    pauseTag: '3.10.2',
    corednsTag: 'v1.14.2',
    kubeadmAcceptsV1beta3: true,
    featureGates: [
      { name: 'NodeLocalCRISocket', default: true, locked: true },
      { name: 'PublicKeysECDSA', default: false, deprecated: true },
      { name: 'RootlessControlPlane', default: false, deprecated: true },
    ],
    encryptionAlgorithms: ALGOS_134,
    kubeProxyDaemonSetPatches: false,
    schedulerLivez: true,
    requiredBinaries: BIN_REQUIRED,
    optionalBinaries: BIN_OPTIONAL,
  },
  {
    minor: '1.37',
    latestPatch: 'v1.37.1',
    etcdTag: '3.7.0-0',
    etcdFlags: 'new',
    namedProbePort: true,
    flexVolume: false,
    flagsEnv: 'empty',
    instanceConfig: true,
    kubeletConfLocalEndpoint: true,
    pauseTag: '3.10.2',
    corednsTag: 'v1.14.6',
    kubeadmAcceptsV1beta3: false,
    featureGates: [{ name: 'RootlessControlPlane', default: false, deprecated: true }],
    encryptionAlgorithms: ALGOS_134,
    kubeProxyDaemonSetPatches: true,
    schedulerLivez: true,
    requiredBinaries: BIN_REQUIRED,
    optionalBinaries: BIN_OPTIONAL,
  },
];

export const DEFAULT_MINOR = '1.36';

export function defaultVersionRow(): VersionRow {
  return VERSION_TABLE.find((r) => r.minor === DEFAULT_MINOR) as VersionRow;
}

export const SUPPORTED_MINORS: readonly string[] = VERSION_TABLE.map((r) => r.minor);

export interface ResolvedVersion {
  /** normalised "v1.36.5" (a "+" becomes "_" only in image tags) */
  readonly version: string;
  readonly row: VersionRow;
}

/** kubeadm's version labels, resolved offline to the table's default (kubeboot makes no network look-up). */
const OFFLINE_LABELS = new Set(['stable', 'stable-1', 'latest', 'latest-1']);

/**
 * Resolves "v1.36.5", "1.36.5", "v1.36.0-rc.1", "1.36" (newest patch in the table) or a kubeadm label.
 * Returns an error message (naming the supported minors) when it cannot.
 */
export function resolveVersion(input: string | undefined): ResolvedVersion | string {
  const supported = `supported versions are ${SUPPORTED_MINORS.map((m) => `v${m}.x`).join(', ')}`;
  const raw = (input ?? '').trim();
  if (raw === '' || OFFLINE_LABELS.has(raw) || raw === `stable-${DEFAULT_MINOR}`) {
    const row = defaultVersionRow();
    return { version: row.latestPatch, row };
  }
  const label = /^stable-(\d+\.\d+)$/.exec(raw);
  if (label) {
    const row = VERSION_TABLE.find((r) => r.minor === label[1]);
    if (!row) return `unsupported Kubernetes version "${raw}": ${supported}`;
    return { version: row.latestPatch, row };
  }
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+)([-+][0-9A-Za-z.+-]*)?)?$/.exec(raw);
  if (!m) {
    return `invalid Kubernetes version "${raw}": expected a version such as v${DEFAULT_MINOR}.0 (${supported})`;
  }
  const minor = `${Number(m[1])}.${Number(m[2])}`;
  const row = VERSION_TABLE.find((r) => r.minor === minor);
  if (!row) return `unsupported Kubernetes version "${raw}": ${supported}`;
  if (m[3] === undefined) return { version: row.latestPatch, row };
  return { version: `v${minor}.${Number(m[3])}${m[4] ?? ''}`, row };
}

/** semver compare of an etcd tag such as "3.6.8-0" against "3.6.0" (the "-0" packaging suffix is ignored). */
export function etcdTagAtLeast(tag: string, min: string): boolean | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(tag);
  const n = /^(\d+)\.(\d+)\.(\d+)/.exec(min);
  if (!m || !n) return undefined;
  for (let i = 1; i <= 3; i++) {
    const a = Number(m[i]);
    const b = Number(n[i]);
    if (a !== b) return a > b;
  }
  return true;
}

/** Compares two version texts by their first three numbers ("v1.36.5", "3.6.8-0"); undefined when one is not a version. */
export function compareVersions(a: string, b: string): number | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(a);
  const n = /^v?(\d+)\.(\d+)\.(\d+)/.exec(b);
  if (!m || !n) return undefined;
  for (let i = 1; i <= 3; i++) {
    const d = Number(m[i]) - Number(n[i]);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
