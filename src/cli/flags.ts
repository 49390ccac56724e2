/** One table of flags: kubeadm's names and defaults, what each fills, and whether it may sit beside --config. */
export type FlagKind = 'string' | 'boolean' | 'int' | 'list' | 'args' | 'gates';

export interface FlagDef {
  readonly name: string; // without dashes
  readonly kind: FlagKind;
  readonly description: string;
  readonly placeholder?: string;
  readonly defaultText?: string; // shown in help; the real default comes from config/defaults.ts
  /** kubeadm allows this flag together with --config */
  readonly withConfig?: boolean;
  readonly short?: string;
}

export const FLAGS: Readonly<Record<string, FlagDef>> = {
  config: { name: 'config', kind: 'string', placeholder: 'FILE', description: 'Path to a kubeadm configuration file (kubeadm.k8s.io/v1beta4 or v1beta3).', withConfig: true },
  'cert-dir': { name: 'cert-dir', kind: 'string', placeholder: 'DIR', description: 'The path where to save and store the certificates.', defaultText: '/etc/kubernetes/pki' },
  'apiserver-advertise-address': { name: 'apiserver-advertise-address', kind: 'string', placeholder: 'IP', description: 'The IP address the API Server will advertise it\'s listening on. If not set the default network interface will be used.' },
  'apiserver-bind-port': { name: 'apiserver-bind-port', kind: 'int', placeholder: 'PORT', description: 'Port for the API Server to bind to.', defaultText: '6443' },
  'apiserver-cert-extra-sans': { name: 'apiserver-cert-extra-sans', kind: 'list', placeholder: 'SANS', description: 'Optional extra Subject Alternative Names (SANs) to use for the API Server serving certificate. Can be both IP addresses and DNS names.' },
  'control-plane-endpoint': { name: 'control-plane-endpoint', kind: 'string', placeholder: 'HOST[:PORT]', description: 'Specify a stable IP address or DNS name for the control plane.' },
  'kubernetes-version': { name: 'kubernetes-version', kind: 'string', placeholder: 'VERSION', description: 'Choose a specific Kubernetes version for the control plane (resolved offline from kubeboot\'s version table).', defaultText: 'stable-1' },
  'node-name': { name: 'node-name', kind: 'string', placeholder: 'NAME', description: 'Specify the node name.', withConfig: true },
  'cri-socket': { name: 'cri-socket', kind: 'string', placeholder: 'URL', description: 'Path to the CRI socket to connect. If empty kubeboot will try to auto-detect this value.' },
  'pod-network-cidr': { name: 'pod-network-cidr', kind: 'string', placeholder: 'CIDR', description: 'Specify range of IP addresses for the pod network. If set, the control plane will automatically allocate CIDRs for every node.' },
  'service-cidr': { name: 'service-cidr', kind: 'string', placeholder: 'CIDR', description: 'Use alternative range of IP address for service VIPs.', defaultText: '10.96.0.0/12' },
  'service-dns-domain': { name: 'service-dns-domain', kind: 'string', placeholder: 'DOMAIN', description: 'Use alternative domain for services, e.g. "myorg.internal".', defaultText: 'cluster.local' },
  'image-repository': { name: 'image-repository', kind: 'string', placeholder: 'REPO', description: 'Choose a container registry to pull control plane images from.', defaultText: 'registry.k8s.io' },
  'feature-gates': { name: 'feature-gates', kind: 'gates', placeholder: 'KEY=BOOL,…', description: 'A set of key=value pairs that describe feature gates for kubeadm features of the chosen version.' },
  'skip-phases': { name: 'skip-phases', kind: 'list', placeholder: 'PHASES', description: 'List of phases to be skipped.', withConfig: true },
  'ignore-preflight-errors': { name: 'ignore-preflight-errors', kind: 'list', placeholder: 'CHECKS', description: 'A list of checks whose errors will be shown as warnings. Example: \'IsPrivilegedUser,Swap\'. Value \'all\' ignores errors from all checks.', withConfig: true },
  'dry-run': { name: 'dry-run', kind: 'boolean', description: 'Don\'t apply any changes; write the files into a temporary directory and print what would be done.', withConfig: true },
  patches: { name: 'patches', kind: 'string', placeholder: 'DIR', description: 'Path to a directory that contains files named "target[suffix][+patchtype].extension" (targets: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubeletconfiguration; patchtype: strategic (default), merge or json).' },
  'kubeconfig-dir': { name: 'kubeconfig-dir', kind: 'string', placeholder: 'DIR', description: 'The path where to save the kubeconfig file.', defaultText: '/etc/kubernetes', withConfig: true },
  kubeconfig: { name: 'kubeconfig', kind: 'string', placeholder: 'FILE', description: 'The kubeconfig file to use when talking to the cluster.', defaultText: '/etc/kubernetes/admin.conf', withConfig: true },
  'apiserver-extra-args': { name: 'apiserver-extra-args', kind: 'args', placeholder: 'NAME=VALUE,…', description: 'A set of extra flags to pass to the API Server or override default ones in form of <flagname>=<value>.' },
  'controller-manager-extra-args': { name: 'controller-manager-extra-args', kind: 'args', placeholder: 'NAME=VALUE,…', description: 'A set of extra flags to pass to the Controller Manager or override default ones in form of <flagname>=<value>.' },
  'scheduler-extra-args': { name: 'scheduler-extra-args', kind: 'args', placeholder: 'NAME=VALUE,…', description: 'A set of extra flags to pass to the Scheduler or override default ones in form of <flagname>=<value>.' },
  'wait-for': { name: 'wait-for', kind: 'list', placeholder: 'TARGETS', description: 'What wait-control-plane waits for: kubelet, components, mirror-pods, or all.', defaultText: 'all', withConfig: true },
  'wait-timeout': { name: 'wait-timeout', kind: 'string', placeholder: 'DURATION', description: 'Overrides the timeouts of the waits (a Go duration such as 4m0s).', withConfig: true },
};

/** The flags of `kubeboot init` itself. */
export const INIT_FLAGS = [
  'config', 'cert-dir', 'apiserver-advertise-address', 'apiserver-bind-port', 'apiserver-cert-extra-sans',
  'control-plane-endpoint', 'kubernetes-version', 'node-name', 'cri-socket', 'pod-network-cidr', 'service-cidr',
  'service-dns-domain', 'image-repository', 'feature-gates', 'skip-phases', 'ignore-preflight-errors', 'dry-run',
  'patches', 'wait-for', 'wait-timeout',
] as const;

/** Flags on every command: where files go, how output looks, how much is said. */
export const GLOBAL_FLAGS = ['root', 'output', 'verbose'] as const;

/** Flags kubeadm allows beside --config (plus every skip-* flag and kubeboot's global ones). */
export function allowedWithConfig(name: string): boolean {
  if (name.startsWith('skip-')) return true;
  if ((GLOBAL_FLAGS as readonly string[]).includes(name)) return true;
  return FLAGS[name]?.withConfig === true;
}

/** "a=1,b=2" → [{name:'a',value:'1'},…]; error text names the flag. */
export function parseArgsFlag(flag: string, text: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--${flag}: "${part}" is not of the form <flagname>=<value>`);
    out.push({ name: part.slice(0, eq).replace(/^--/, ''), value: part.slice(eq + 1) });
  }
  return out;
}

export function parseGatesFlag(text: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const [k, v] = part.split('=');
    if (!k || v === undefined) throw new Error(`--feature-gates: missing bool value for ${k ?? part}`);
    if (v !== 'true' && v !== 'false') throw new Error(`--feature-gates: invalid value ${v} for feature-gate key: ${k}, use true|false instead`);
    out[k.trim()] = v === 'true';
  }
  return out;
}
