/**
 * Where to check each control-plane component, parsed from the GENERATED static pod manifests' commands (as
 * kubeadm 1.33+ does, so patches and extraArgs count): kube-apiserver https://<--advertise-address>:<--secure-port>/livez,
 * kube-controller-manager https://<--bind-address|127.0.0.1>:<--secure-port|10257>/healthz, kube-scheduler likewise
 * on 10259 with /livez, etcd http://<first --listen-metrics-urls>/health (etcd 3.4 has no /livez).
 */
import { parseYaml } from '../render/yaml.js';
import { joinHostPort } from '../util/net.js';

export const CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type ComponentName = (typeof CONTROL_PLANE)[number] | 'etcd';

export interface ComponentEndpoint {
  readonly name: ComponentName;
  readonly url: string;
  /** HTTPS without certificate verification (the three components) */
  readonly insecure: boolean;
}

/** `--name=value` flags of a command list; the last one wins. */
export function commandFlags(command: readonly unknown[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of command) {
    if (typeof c !== 'string' || !c.startsWith('--')) continue;
    const eq = c.indexOf('=');
    if (eq < 0) out.set(c.slice(2), 'true');
    else out.set(c.slice(2, eq), c.slice(eq + 1));
  }
  return out;
}

/** The first container's command of a static pod manifest (YAML text). */
export function manifestCommand(text: string, source: string): string[] {
  const doc = parseYaml(text) as { spec?: { containers?: { command?: unknown }[] } } | undefined;
  const cmd = doc?.spec?.containers?.[0]?.command;
  if (!Array.isArray(cmd)) throw new Error(`${source}: no spec.containers[0].command`);
  return cmd.map(String);
}

function loopbackFor(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

export function componentEndpoint(name: ComponentName, command: readonly string[], fallbackAdvertise: string): ComponentEndpoint {
  const f = commandFlags(command);
  switch (name) {
    case 'kube-apiserver': {
      const host = loopbackFor(f.get('advertise-address') ?? fallbackAdvertise);
      const port = f.get('secure-port') ?? '6443';
      return { name, url: `https://${joinHostPort(host, port)}/livez`, insecure: true };
    }
    case 'kube-controller-manager': {
      const host = loopbackFor(f.get('bind-address') ?? '127.0.0.1');
      return { name, url: `https://${joinHostPort(host, f.get('secure-port') ?? '10257')}/healthz`, insecure: true };
    }
    case 'kube-scheduler': {
      const host = loopbackFor(f.get('bind-address') ?? '127.0.0.1');
      return { name, url: `https://${joinHostPort(host, f.get('secure-port') ?? '10259')}/livez`, insecure: true };
    }
    case 'etcd': {
      const first = (f.get('listen-metrics-urls') ?? 'http://127.0.0.1:2381').split(',')[0] as string;
      const u = new URL(first);
      const host = loopbackFor(u.hostname.replace(/^\[|\]$/g, ''));
      return { name, url: `${u.protocol}//${joinHostPort(host, u.port || '2381')}/health`, insecure: true };
    }
  }
}
