/**
 * The configuration `kubeboot certs …` and `kubeboot reset` work with: --config's file, else the configuration init
 * recorded on this node (/etc/kubernetes/kubeboot/config.yaml, under --root when given), else kubeadm's defaults.
 * --cert-dir overrides certificatesDir in every case (as kubeadm's flag does).
 */
import type { ClusterSpec } from '../config/spec.js';
import type { HostFacts } from '../effects/host.js';
import type { Effects } from '../effects/types.js';
import { RECORDED_CONFIG } from './state.js';

export interface LifecycleSpec {
  readonly spec: ClusterSpec;
  /** "--config /path", the recorded config's path, or "defaults" */
  readonly source: string;
  readonly fromRecorded: boolean;
  readonly warnings: readonly string[];
}

export async function loadLifecycleSpec(
  fx: Effects,
  host: HostFacts,
  file: { path: string; text: string } | undefined,
  certDir: string | undefined,
): Promise<LifecycleSpec> {
  const { parseConfigText, buildSpec } = await import('../config/load.js');
  const flags = certDir !== undefined ? { certDir } : {};
  if (file) {
    const parsed = await parseConfigText(file.text, file.path);
    const built = buildSpec(parsed, flags, host, file.path);
    return { spec: built.spec, source: file.path, fromRecorded: false, warnings: [...parsed.warnings, ...built.warnings] };
  }
  const raw = await fx.readFile(RECORDED_CONFIG);
  if (raw) {
    const parsed = await parseConfigText(raw.toString('utf8'), RECORDED_CONFIG);
    const built = buildSpec(parsed, flags, host, RECORDED_CONFIG);
    return { spec: built.spec, source: RECORDED_CONFIG, fromRecorded: true, warnings: [...parsed.warnings, ...built.warnings] };
  }
  // kubeadm's defaults: the host-detection warnings (CRI socket, …) do not matter to these commands
  const built = buildSpec(undefined, flags, host, 'flags');
  return { spec: built.spec, source: 'defaults', fromRecorded: false, warnings: [] };
}
