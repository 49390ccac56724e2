/**
 * The one table of command-line flags: kubeadm's names and help texts, how each value is parsed, and which field of
 * the kubeadm documents it fills (and how: replace, add to a list, merge into a map, merge extra args by name). From
 * it come the commander options of every command (src/cli/program.ts), kubeadm's `--config` mixing rule, applying
 * flags to the documents before defaulting (config/load.ts), and reporting a problem in a value that came from a flag
 * under the flag's name. Adding a flag is one entry here plus the command or phase that lists it.
 * Light at import time: no zod, no YAML.
 */
import type { Arg } from './spec.js';
import { parseDuration } from '../util/duration.js';

export type FlagKind = 'string' | 'path' | 'boolean' | 'negated' | 'port' | 'list' | 'args' | 'gates' | 'duration';

/** How a flag's value goes into its config field. */
export type FlagMerge = 'replace' | 'union' | 'merge-map' | 'merge-args';

export interface FlagDef {
  /** without dashes; for 'negated' the name without `no-` (commander's --no-x gives x=false) */
  readonly name: string;
  readonly kind: FlagKind;
  readonly description: string;
  readonly placeholder?: string;
  /** shown in help; the real default comes from config/defaults.ts */
  readonly defaultText?: string;
  /** kubeadm allows this flag together with --config */
  readonly withConfig?: boolean;
  readonly short?: string;
  /** the config field it fills: `InitConfiguration.a.b` or `ClusterConfiguration.a.b` */
  readonly path?: string;
  readonly merge?: FlagMerge;
  /** how a problem in its value is reported (default `--<name>`) */
  readonly label?: string;
  /** allowed values (checked when parsed) */
  readonly choices?: readonly string[];
  /** only the one-letter form exists (`-o FORMAT`) */
  readonly shortOnly?: boolean;
  /** what a list's items are, in the message for an unknown one (default "value(s)") */
  readonly itemNoun?: string;
  /** the value may be left out (`--merge` or `--merge PATH`); left out, the flag's value is `true` */
  readonly optionalValue?: boolean;
}

const D = {
  args: (what: string) => `A set of extra flags to pass to the ${what} or override default ones in form of <flagname>=<value>.`,
};

const TABLE = [
  // global (every command): where files go
  { name: 'root', kind: 'path', placeholder: 'DIR', description: 'write every file under DIR (paths inside files stay host paths; needs no root privileges)' },
  { name: 'config', kind: 'path', placeholder: 'FILE', description: 'Path to a kubeadm configuration file (kubeadm.k8s.io/v1beta4 or v1beta3).', withConfig: true },
  { name: 'cert-dir', kind: 'path', placeholder: 'DIR', description: 'The path where to save and store the certificates.', defaultText: '/etc/kubernetes/pki', path: 'ClusterConfiguration.certificatesDir' },
  { name: 'apiserver-advertise-address', kind: 'string', placeholder: 'IP', description: "The IP address the API Server will advertise it's listening on. If not set the default network interface will be used.", path: 'InitConfiguration.localAPIEndpoint.advertiseAddress' },
  { name: 'apiserver-bind-port', kind: 'port', placeholder: 'PORT', description: 'Port for the API Server to bind to.', defaultText: '6443', path: 'InitConfiguration.localAPIEndpoint.bindPort' },
  { name: 'apiserver-cert-extra-sans', kind: 'list', placeholder: 'SANS', description: 'Optional extra Subject Alternative Names (SANs) to use for the API Server serving certificate. Can be both IP addresses and DNS names.', path: 'ClusterConfiguration.apiServer.certSANs' },
  { name: 'control-plane-endpoint', kind: 'string', placeholder: 'HOST[:PORT]', description: 'Specify a stable IP address or DNS name for the control plane.', path: 'ClusterConfiguration.controlPlaneEndpoint' },
  { name: 'kubernetes-version', kind: 'string', placeholder: 'VERSION', description: "Choose a specific Kubernetes version for the control plane (resolved offline from kubeboot's version table).", defaultText: 'stable-1', path: 'ClusterConfiguration.kubernetesVersion' },
  { name: 'node-name', kind: 'string', placeholder: 'NAME', description: 'Specify the node name.', withConfig: true, path: 'InitConfiguration.nodeRegistration.name' },
  { name: 'cri-socket', kind: 'string', placeholder: 'URL', description: 'Path to the CRI socket to connect. If empty kubeboot will try to auto-detect this value.', path: 'InitConfiguration.nodeRegistration.criSocket' },
  { name: 'pod-network-cidr', kind: 'string', placeholder: 'CIDR', description: 'Specify range of IP addresses for the pod network. If set, the control plane will automatically allocate CIDRs for every node.', path: 'ClusterConfiguration.networking.podSubnet' },
  { name: 'service-cidr', kind: 'string', placeholder: 'CIDR', description: 'Use alternative range of IP address for service VIPs.', defaultText: '10.96.0.0/12', path: 'ClusterConfiguration.networking.serviceSubnet' },
  { name: 'service-dns-domain', kind: 'string', placeholder: 'DOMAIN', description: 'Use alternative domain for services, e.g. "myorg.internal".', defaultText: 'cluster.local', path: 'ClusterConfiguration.networking.dnsDomain' },
  { name: 'image-repository', kind: 'string', placeholder: 'REPO', description: 'Choose a container registry to pull control plane images from.', defaultText: 'registry.k8s.io', path: 'ClusterConfiguration.imageRepository' },
  { name: 'feature-gates', kind: 'gates', placeholder: 'KEY=BOOL,…', description: 'A set of key=value pairs that describe feature gates for kubeadm features of the chosen version.', path: 'ClusterConfiguration.featureGates', merge: 'merge-map' },
  { name: 'skip-phases', kind: 'list', placeholder: 'PHASES', description: 'List of phases to be skipped.', withConfig: true, path: 'InitConfiguration.skipPhases' },
  { name: 'ignore-preflight-errors', kind: 'list', placeholder: 'CHECKS', description: "A list of checks whose errors will be shown as warnings. Example: 'IsPrivilegedUser,Swap'. Value 'all' ignores errors from all checks.", withConfig: true, path: 'InitConfiguration.nodeRegistration.ignorePreflightErrors', merge: 'union' },
  { name: 'dry-run', kind: 'boolean', description: "Don't apply any changes; write the files into a temporary directory and print what would be done.", withConfig: true },
  { name: 'patches', kind: 'path', placeholder: 'DIR', description: 'Path to a directory that contains files named "target[suffix][+patchtype].extension" (targets: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubeletconfiguration; patchtype: strategic (default), merge or json).', path: 'InitConfiguration.patches.directory' },
  { name: 'apiserver-extra-args', kind: 'args', placeholder: 'NAME=VALUE,…', description: D.args('API Server'), path: 'ClusterConfiguration.apiServer.extraArgs', merge: 'merge-args' },
  { name: 'controller-manager-extra-args', kind: 'args', placeholder: 'NAME=VALUE,…', description: D.args('Controller Manager'), path: 'ClusterConfiguration.controllerManager.extraArgs', merge: 'merge-args' },
  { name: 'scheduler-extra-args', kind: 'args', placeholder: 'NAME=VALUE,…', description: D.args('Scheduler'), path: 'ClusterConfiguration.scheduler.extraArgs', merge: 'merge-args' },
  // kubeadm has no etcd flag; `kubeboot regenerate etcd --extra-args` fills this field and is reported as --extra-args
  { name: 'etcd-extra-args', kind: 'args', placeholder: 'NAME=VALUE,…', description: D.args('local etcd'), path: 'ClusterConfiguration.etcd.local.extraArgs', merge: 'merge-args', label: '--extra-args' },
  { name: 'extra-args', kind: 'args', placeholder: 'NAME=VALUE,…', description: 'Flags of the component, merged over its extraArgs (same name replaces).' },
  { name: 'token', kind: 'string', placeholder: 'TOKEN', description: 'The token to use for establishing bidirectional trust between nodes and control-plane nodes. The format is [a-z0-9]{6}\\.[a-z0-9]{16} - e.g. abcdef.0123456789abcdef', path: 'InitConfiguration.bootstrapTokens.0.token' },
  { name: 'token-ttl', kind: 'string', placeholder: 'DURATION', description: "The duration before the token is automatically deleted (e.g. 1s, 2m, 3h). If set to '0', the token will never expire", defaultText: '24h0m0s', path: 'InitConfiguration.bootstrapTokens.0.ttl' },
  { name: 'skip-token-print', kind: 'boolean', description: 'Skip printing of the default bootstrap token generated by \'kubeboot init\'.', withConfig: true },
  { name: 'upload-certs', kind: 'boolean', description: 'Upload control-plane certificates to the kubeadm-certs Secret.', withConfig: true },
  { name: 'certificate-key', kind: 'string', placeholder: 'KEY', description: 'Key used to encrypt the control-plane certificates in the kubeadm-certs Secret. The certificate key is a hex encoded string that is an AES key of size 32 bytes.', path: 'InitConfiguration.certificateKey' },
  { name: 'skip-certificate-key-print', kind: 'boolean', description: "Don't print the key used to encrypt the control-plane certificates.", withConfig: true },
  { name: 'wait-for', kind: 'list', placeholder: 'TARGETS', description: "What init waits for: the control plane's kubelet, components and mirror-pods (all: those three), and after the addons the node (Ready), dns (CoreDNS ready) and workloads (a pod off the host network runs and reaches the cluster DNS and the kubernetes Service).", defaultText: 'all', withConfig: true, choices: ['all', 'kubelet', 'components', 'mirror-pods', 'node', 'dns', 'workloads'], itemNoun: 'target(s)' },
  { name: 'pod-network', kind: 'string', placeholder: 'KIND', description: "Write a CNI configuration for a one-node pod network: 'bridge' (a Linux bridge with host-local addresses from the pod subnet, default 10.244.0.0/16, using the standard CNI plugins on the node). Also podNetwork in a KubebootConfiguration document.", withConfig: true, choices: ['bridge'], path: 'KubebootConfiguration.podNetwork' },
  { name: 'single-node', kind: 'boolean', description: 'Leave the control-plane taint off, so that workloads run on this node (a one-node cluster, as kind makes). Also singleNode in a KubebootConfiguration document.', withConfig: true, path: 'KubebootConfiguration.singleNode' },
  { name: 'wait-timeout', kind: 'duration', placeholder: 'DURATION', description: 'Overrides the timeouts of the waits (a Go duration such as 4m0s).', withConfig: true },
  { name: 'rollback', kind: 'negated', description: 'keep the new manifest when its pod is not Ready in time' },
  { name: 'force', kind: 'boolean', short: 'f', description: 'Reset the node without prompting for confirmation.' },
  { name: 'restart', kind: 'boolean', description: "then restart the components that use the renewed files (kubeboot restart's path) and wait for them" },
  { name: 'o', kind: 'string', shortOnly: true, placeholder: 'FORMAT', description: "output format: text (kubeadm's tables), json or yaml (a CertificateExpirationInfo, output.kubeadm.k8s.io/v1alpha3)", choices: ['text', 'json', 'yaml'], withConfig: true },
  { name: 'old-config', kind: 'path', placeholder: 'FILE', description: 'Path to the kubeadm config file that is using an old API version and should be converted.' },
  { name: 'new-config', kind: 'path', placeholder: 'FILE', description: 'Path to the resulting equivalent kubeadm config file (default: standard output); never overwrites an existing file.' },
  { name: 'file', kind: 'path', placeholder: 'PATH', description: 'write the kubeconfig to PATH (mode 0600, atomically) instead of printing it; an existing file with other contents is refused' },
  { name: 'merge', kind: 'path', placeholder: 'PATH', optionalValue: true, description: 'merge the cluster, user and context into the kubeconfig at PATH (default: the first file of $KUBECONFIG, else ~/.kube/config) and make the context current; entries of other names are left as they are, the file keeps its mode, a new file is 0600' },
  { name: 'context', kind: 'string', placeholder: 'NAME', description: 'the name of the exported cluster, user and context (default: kubeboot-<clusterName>, e.g. kubeboot-kubernetes)' },
] as const satisfies readonly FlagDef[];

/** Every flag's name. */
export type FlagName = (typeof TABLE)[number]['name'];

export const FLAGS: Readonly<Record<string, FlagDef>> = Object.fromEntries(TABLE.map((f: FlagDef) => [f.name, f]));

export function flagDef(name: string): FlagDef {
  const def = FLAGS[name];
  if (!def) throw new Error(`internal: no flag "${name}" in the flag table`);
  return def;
}

/** The flags of `kubeboot init` itself. */
export const INIT_FLAGS = [
  'config', 'cert-dir', 'apiserver-advertise-address', 'apiserver-bind-port', 'apiserver-cert-extra-sans',
  'control-plane-endpoint', 'kubernetes-version', 'node-name', 'cri-socket', 'pod-network-cidr', 'service-cidr',
  'service-dns-domain', 'image-repository', 'feature-gates', 'skip-phases', 'ignore-preflight-errors', 'dry-run',
  'patches', 'token', 'token-ttl', 'skip-token-print', 'upload-certs', 'certificate-key', 'skip-certificate-key-print',
  'wait-for', 'wait-timeout', 'pod-network', 'single-node',
] as const;

/** Flags on every command: where files go, how output looks, how much is said. */
export const GLOBAL_FLAGS = ['root', 'output', 'verbose'] as const;

/** Flags kubeadm allows beside --config (plus every skip-* flag and kubeboot's global ones). */
export function allowedWithConfig(name: string): boolean {
  if (name.startsWith('skip-')) return true;
  if ((GLOBAL_FLAGS as readonly string[]).includes(name)) return true;
  return FLAGS[name]?.withConfig === true;
}

/** A flag value the user typed, parsed; errors name the flag and what would be valid. */
export type FlagValue = string | number | boolean | string[] | Arg[] | Record<string, boolean>;

export class FlagError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** "a=1,b=2" → [{name:'a',value:'1'},…]; error text names the flag. */
export function parseArgsFlag(flag: string, text: string): Arg[] {
  const out: Arg[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new FlagError(`--${flag}: "${part}" is not of the form <flagname>=<value>`, `give --${flag} as <flagname>=<value>[,<flagname>=<value>…]`);
    out.push({ name: part.slice(0, eq).replace(/^--/, ''), value: part.slice(eq + 1) });
  }
  return out;
}

export function parseGatesFlag(text: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const [k, v] = part.split('=');
    if (!k || v === undefined) throw new FlagError(`--feature-gates: missing bool value for ${k ?? part}`);
    if (v !== 'true' && v !== 'false') throw new FlagError(`--feature-gates: invalid value ${v} for feature-gate key: ${k}, use true|false instead`);
    out[k.trim()] = v === 'true';
  }
  return out;
}

function listValue(v: unknown): string[] {
  const arr = Array.isArray(v) ? v : [v];
  return arr.flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/** Parses one flag's raw value (as commander gives it) by its kind. */
export function parseFlagValue(def: FlagDef, raw: unknown): FlagValue {
  const flag = `--${def.name}`;
  switch (def.kind) {
    case 'boolean':
    case 'negated':
      return Boolean(raw);
    case 'path': {
      if (def.optionalValue && raw === true) return true;
      // `--root $ROOT --dry-run` with ROOT unset gives --root the next flag: a path never starts with "-" (write
      // ./-x for a file named so), and an empty one is a variable that was not set, never "the default"
      const v = String(raw);
      if (v.trim() === '') {
        throw new FlagError(`${flag}: empty path: give the ${def.placeholder === 'DIR' ? 'directory' : 'file'} (an empty value is never taken as the default)`, `in a script, check that the variable you pass to ${flag} is set`);
      }
      if (v.startsWith('-')) {
        throw new FlagError(
          `${flag}: "${v}" looks like a flag, not a path: ${flag} takes a ${def.placeholder === 'DIR' ? 'directory' : 'file'} (write ./${v} for a name that starts with "-")`,
          `in a script, check that the variable you pass to ${flag} is set: \`${flag} $X ${v}\` with X empty gives ${flag} the next argument`,
        );
      }
      return v;
    }
    case 'string': {
      const v = String(raw);
      if (def.choices && !def.choices.includes(v)) {
        throw new FlagError(`${def.shortOnly ? `-${def.name}` : flag}: invalid value "${v}": valid values are ${def.choices.join(', ')}`);
      }
      return v;
    }
    case 'port': {
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new FlagError(`${flag}: "${String(raw)}" is not a port number (1-65535)`);
      return n;
    }
    case 'list': {
      const list = listValue(raw);
      if (def.choices) {
        const bad = list.filter((w) => !def.choices?.includes(w));
        if (bad.length > 0) throw new FlagError(`${flag}: unknown ${def.itemNoun ?? 'value(s)'} ${bad.join(', ')}: valid are ${def.choices.join(', ')}`);
      }
      return list;
    }
    case 'args':
      return parseArgsFlag(def.name, String(raw));
    case 'gates':
      return parseGatesFlag(String(raw));
    case 'duration': {
      const ms = parseDuration(String(raw));
      if (ms === undefined || ms <= 0) throw new FlagError(`${flag}: "${String(raw)}" is not a positive duration (e.g. 4m0s, 90s)`);
      return ms;
    }
  }
}

/** Flag values that fill config fields, keyed by flag name (only the flags the user gave). */
export type ConfigFlags = Readonly<Partial<Record<FlagName, FlagValue>>>;

type Doc = Record<string, unknown>;

function mergeArgs(cur: readonly Arg[] | undefined, add: readonly Arg[]): Arg[] {
  const names = new Set(add.map((a) => a.name));
  return [...(cur ?? []).filter((a) => !names.has(a.name)), ...add];
}

/**
 * Applies the flags to the (cloned) documents by the table's paths and merge rules. Returns the paths that flags
 * filled, so that a problem in such a field is reported under the flag's label.
 */
export function applyConfigFlags(docs: { InitConfiguration: Doc; ClusterConfiguration: Doc; KubebootConfiguration?: Doc }, flags: ConfigFlags): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(flags)) {
    const def = flagDef(name);
    if (!def.path) continue;
    const [kind, ...keys] = def.path.split('.');
    const target: Doc | undefined = docs[kind as keyof typeof docs];
    if (!target) continue;
    let obj: Doc = target;
    for (let i = 0; i < keys.length - 1; i++) {
      const k = keys[i] as string;
      const next = obj[k];
      if (/^\d+$/.test(keys[i + 1] as string)) {
        // a list item (bootstrapTokens.0.token): the list, copied, with an object at that index
        const list = Array.isArray(next) ? [...(next as Doc[])] : [];
        const idx = Number(keys[i + 1]);
        while (list.length <= idx) list.push({});
        list[idx] = { ...(list[idx] as Doc) };
        obj[k] = list;
        obj = list[idx] as Doc;
        i++;
        continue;
      }
      obj = obj[k] = next !== null && typeof next === 'object' && !Array.isArray(next) ? { ...(next as Doc) } : {};
    }
    const leaf = keys[keys.length - 1] as string;
    const cur = obj[leaf];
    switch (def.merge ?? 'replace') {
      case 'replace':
        obj[leaf] = value;
        break;
      case 'union':
        obj[leaf] = [...new Set([...(Array.isArray(cur) ? (cur as string[]) : []), ...(value as string[])])];
        break;
      case 'merge-map':
        obj[leaf] = { ...(cur !== null && typeof cur === 'object' ? (cur as Doc) : {}), ...(value as Doc) };
        break;
      case 'merge-args':
        obj[leaf] = mergeArgs(Array.isArray(cur) ? (cur as Arg[]) : undefined, value as Arg[]);
        break;
    }
    labels[def.path] = def.label ?? `--${def.name}`;
  }
  return labels;
}
