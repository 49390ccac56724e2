/** `kubeboot config print init-defaults | validate | migrate` and `kubeboot version`. */
import type { Command } from 'commander';
import { buildSpec, parseConfigText } from '../config/load.js';
import { kubeletConfigWarnings } from '../config/kubelet-fields.js';
import { API_V1BETA4 } from '../config/api.js';
import { RealEffects } from '../effects/real.js';
import { gatherHostFacts, type HostFacts } from '../effects/host.js';
import { ConfigError } from '../errors.js';
import { toYaml, toYamlDocuments } from '../render/yaml.js';
import { DEFAULT_MINOR, VERSION_TABLE } from '../versions.js';
import { readConfigFile } from './init.js';
import { stdout } from './io.js';
import { checkConfigMixing, configFlags, flagValue, globalOptions } from './options.js';
import { controlPlaneImages } from '../render/images.js';
import { Output } from '../workflow/events.js';
import { makeReporter } from './io.js';
import { KUBEBOOT_VERSION } from './program.js';

/** kubeadm prints placeholders, not this machine's facts, in init-defaults. */
const PLACEHOLDER_HOST: HostFacts = {
  hostname: 'node',
  defaultAddress: '1.2.3.4',
  criSockets: ['unix:///var/run/containerd/containerd.sock'],
  existingCaDirs: [],
  proxyEnv: [],
  uid: 0,
  swapOn: false,
  cpus: 2,
  memoryMB: 4096,
  ipv4Forward: '1',
  ipv6Forward: '1',
  systemdResolved: false,
};

function emit(g: ReturnType<typeof globalOptions>, text: string, data: Record<string, unknown>, command: string): void {
  if (g.output === 'json') stdout.write(`${JSON.stringify({ type: 'result', command, data })}\n`);
  else stdout.write(text);
}

export async function printInitDefaults(cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as { kubernetesVersion?: string };
  const { spec } = buildSpec(undefined, o.kubernetesVersion ? { 'kubernetes-version': o.kubernetesVersion } : {}, PLACEHOLDER_HOST, 'flags');
  const init = structuredClone(spec.documents.init);
  init.bootstrapTokens = (init.bootstrapTokens ?? []).map((t) => ({ ...t, token: t.token || 'abcdef.0123456789abcdef' }));
  const text = toYamlDocuments([init, spec.documents.cluster]);
  emit(g, text, { documents: [init, spec.documents.cluster] }, 'config print init-defaults');
}

export async function validateConfig(cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as { config: string };
  const file = await readConfigFile(o.config);
  const parsed = await parseConfigText(file.text, file.path);
  const host = await gatherHostFacts(new RealEffects(g.root));
  const { spec, warnings } = buildSpec(parsed, {}, host, file.path);
  const all = [...parsed.warnings, ...warnings];
  for (const w of all) process.stderr.write(`[WARNING] ${w}\n`);
  // what the kubelet will refuse at start is not "ok", although kubeadm (and init) only warn about it
  const kubelet = parsed.kubelet ? kubeletConfigWarnings(parsed.kubelet) : [];
  const version = `Kubernetes ${spec.kubernetesVersion}`;
  const text =
    kubelet.length > 0
      ? `${file.path}: the kubeadm configuration is valid (${version}), but the kubelet will refuse its KubeletConfiguration: ${kubelet.length} problem${kubelet.length === 1 ? '' : 's'}, in the warnings above\n`
      : `ok: ${file.path} is a valid configuration (${version})${all.length > 0 ? `, with ${all.length} warning${all.length === 1 ? '' : 's'} (above)` : ''}\n`;
  emit(
    g,
    text,
    { file: file.path, valid: true, kubernetesVersion: spec.kubernetesVersion, warnings: all, kubeletConfigurationProblems: kubelet },
    'config validate',
  );
}

export async function migrateConfig(cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as { oldConfig: string; newConfig?: string };
  const file = await readConfigFile(o.oldConfig, '--old-config');
  const parsed = await parseConfigText(file.text, file.path);
  // Validate the result the same way init would, so that a migrated file is known to be usable.
  buildSpec(parsed, {}, PLACEHOLDER_HOST, file.path);
  const docs: unknown[] = [parsed.init, parsed.cluster];
  if (parsed.kubelet) docs.push(parsed.kubelet);
  if (parsed.kubeProxy) docs.push(parsed.kubeProxy);
  const text = toYamlDocuments(docs);
  if (o.newConfig) {
    const fx = new RealEffects('');
    if (await fx.stat(o.newConfig.startsWith('/') ? o.newConfig : `${process.cwd()}/${o.newConfig}`)) {
      throw new ConfigError(`--new-config: "${o.newConfig}" exists already; kubeboot never overwrites a file`, [], {
        hint: 'choose another path or remove the file first',
      });
    }
    const abs = o.newConfig.startsWith('/') ? o.newConfig : `${process.cwd()}/${o.newConfig}`;
    await fx.writeFileAtomic(abs, text, 0o600);
    emit(g, `wrote the ${API_V1BETA4} form of ${file.path} to ${o.newConfig}\n`, { file: abs, apiVersion: API_V1BETA4 }, 'config migrate');
    return;
  }
  emit(g, text, { apiVersion: API_V1BETA4, documents: docs }, 'config migrate');
}

/** kubeadm's output document of `config images list` (output.kubeadm.k8s.io/v1alpha3 Images), Go's field order. */
export function imagesDocument(images: readonly string[]): { kind: 'Images'; apiVersion: string; images: string[] } {
  return { kind: 'Images', apiVersion: 'output.kubeadm.k8s.io/v1alpha3', images: [...images] };
}

/**
 * `kubeboot config images list`: the images the configuration uses, in kubeadm's order and format (one per line;
 * `-o json|yaml`: kubeadm's Images document; the global --output json: a result event holding that document).
 */
export async function listImages(cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const format = flagValue(cmd, 'o') as string | undefined;
  if (g.output === 'json' && format !== undefined && format !== 'json') {
    throw new ConfigError(`-o ${format} cannot be combined with --output json: use one of them`, [], {
      hint: "-o json|yaml prints kubeadm's Images document; --output json prints kubeboot's JSON events",
    });
  }
  // kubeadm ignores the other flags when --config is given; kubeboot refuses them, as init does
  checkConfigMixing(cmd);
  const o = cmd.opts() as { config?: string };
  const file = o.config !== undefined ? await readConfigFile(o.config) : undefined;
  const parsed = file ? await parseConfigText(file.text, file.path) : undefined;
  // the images depend on the configuration only, never on this machine (kubeadm skips its CRI detection too)
  const { spec, warnings } = buildSpec(parsed, configFlags(cmd), PLACEHOLDER_HOST, file?.path ?? 'flags');
  const doc = imagesDocument(controlPlaneImages(spec));
  const allWarnings = [...(parsed?.warnings ?? []), ...warnings];
  if (g.output === 'json' && format === undefined) {
    const reporter = makeReporter(g);
    const out = new Output(reporter);
    for (const w of allWarnings) out.warn(w);
    out.emit({ type: 'result', command: 'config images list', data: { ...doc } });
    reporter.close?.();
    return;
  }
  for (const w of allWarnings) process.stderr.write(`[WARNING] ${w}\n`);
  if (format === 'json') stdout.write(`${JSON.stringify(doc, null, 4)}\n`);
  else if (format === 'yaml') stdout.write(toYaml(doc));
  else stdout.write(`${doc.images.join('\n')}\n`);
}

export async function printVersion(cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const def = VERSION_TABLE.find((r) => r.minor === DEFAULT_MINOR);
  const data = {
    kubeboot: KUBEBOOT_VERSION,
    defaultKubernetesVersion: def?.latestPatch,
    supportedMinors: VERSION_TABLE.map((r) => r.minor),
    versions: VERSION_TABLE.map((r) => ({ minor: r.minor, latestPatch: r.latestPatch, etcd: r.etcdTag })),
  };
  emit(
    g,
    `kubeboot version: v${KUBEBOOT_VERSION}\ndefault Kubernetes version: ${def?.latestPatch}\nsupported Kubernetes minors: ${data.supportedMinors.join(', ')}\n`,
    data,
    'version',
  );
}

export { toYaml };
