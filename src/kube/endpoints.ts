/**
 * Where to check each control-plane component, read from the GENERATED static pod manifests' commands (as
 * kubeadm 1.33+ does, so patches and extraArgs count); the rules per component are the component table's
 * (src/components.ts): kube-apiserver https://<--advertise-address>:<--secure-port>/livez, kube-controller-manager
 * https://<--bind-address|127.0.0.1>:<--secure-port|10257>/healthz, kube-scheduler likewise on 10259 with /livez,
 * etcd http://<first --listen-metrics-urls>/health (etcd 3.4 has no /livez).
 */
import { commandFlags, componentRow, type StaticPodComponent } from '../components.js';
import { parseYaml } from '../render/yaml.js';

export { commandFlags };

export interface ComponentEndpoint {
  readonly name: StaticPodComponent;
  readonly url: string;
  /** HTTPS without certificate verification (the three components) */
  readonly insecure: boolean;
}

/** The first container's command of a static pod manifest (YAML text). */
export function manifestCommand(text: string, source: string): string[] {
  const doc = parseYaml(text) as { spec?: { containers?: { command?: unknown }[] } } | undefined;
  const cmd = doc?.spec?.containers?.[0]?.command;
  if (!Array.isArray(cmd)) throw new Error(`${source}: no spec.containers[0].command`);
  return cmd.map(String);
}

export function componentEndpoint(name: StaticPodComponent, command: readonly string[], fallbackAdvertise: string): ComponentEndpoint {
  return { name, ...componentRow(name).health(commandFlags(command), fallbackAdvertise) };
}
