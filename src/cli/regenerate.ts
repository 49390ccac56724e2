/**
 * `kubeboot regenerate <component>`: re-renders one static Pod manifest exactly as init would (from --config, else the
 * configuration init recorded at /etc/kubernetes/kubeboot/config.yaml, with --extra-args merged over the component's
 * extraArgs) and, when the bytes differ, prints a unified diff and applies it through the safe swap of src/rollout.ts
 * (backup under /etc/kubernetes/tmp, atomic write, wait for a new Ready container, rollback on timeout). The recorded
 * configuration is updated only when the change was confirmed.
 *
 * The no-change path is kept lean: a render cache (src/render-cache.ts) answers "up to date" when every render input
 * and the manifest's bytes are what they were when the last render found nothing to change; it loads neither the
 * config loader (zod), nor js-yaml, nor the renderer. Otherwise the normal path renders and refreshes the cache entry.
 * diff only when there is a diff; listr2 never.
 */
import type { Command } from 'commander';
import type { Arg } from '../config/spec.js';
import type { InitContext } from '../context.js';
import { gatherHostFacts, type HostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import { ConfigError, PreflightError } from '../errors.js';
import type { StaticPodComponent } from '../render/templates.js';
import {
  CACHE_COMPONENTS,
  CACHE_RECORDED_CONFIG,
  RENDER_CACHE,
  computeKey,
  fastPath,
  readConfigBytes,
  type CachedMessage,
  type DerivedPaths,
  type KeyInputs,
} from '../render-cache.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { Output, type KubebootEvent, type Reporter } from '../workflow/events.js';
import { Slots } from '../workflow/slots.js';
import { parseArgsFlag } from './flags.js';
import { makeReporter } from './io.js';
import { globalOptions, type GlobalOptions } from './options.js';
import { interruptSignal } from './signals.js';

/** kubeadm's per-component flag names (etcd has none). */
const KUBEADM_ARGS_FLAG: Readonly<Record<string, { key: 'apiserverExtraArgs' | 'controllerManagerExtraArgs' | 'schedulerExtraArgs'; component: StaticPodComponent }>> = {
  'apiserver-extra-args': { key: 'apiserverExtraArgs', component: 'kube-apiserver' },
  'controller-manager-extra-args': { key: 'controllerManagerExtraArgs', component: 'kube-controller-manager' },
  'scheduler-extra-args': { key: 'schedulerExtraArgs', component: 'kube-scheduler' },
};

/** (src/render-cache.ts's copy of rollout.ts's COMPONENTS: rollout.ts loads the config loader at import time) */
function isComponent(name: string): name is StaticPodComponent {
  return (CACHE_COMPONENTS as readonly string[]).includes(name);
}

export function checkComponent(command: string, name: string): StaticPodComponent {
  if (!isComponent(name)) {
    throw new ConfigError(`${command}: unknown component "${name}": valid components are ${CACHE_COMPONENTS.join(', ')}`, [], {
      hint: `for example: kubeboot ${command} kube-apiserver`,
    });
  }
  return name;
}

/** --extra-args plus kubeadm's flag for this component; a kubeadm flag of another component is an error naming it. */
function extraArgs(component: StaticPodComponent, o: Record<string, unknown>): Arg[] {
  const out: Arg[] = [];
  const parse = (flag: string, value: unknown) => {
    try {
      out.push(...parseArgsFlag(flag, String(value)));
    } catch (err) {
      throw new ConfigError((err as Error).message, [], { hint: `give --${flag} as <flagname>=<value>[,<flagname>=<value>…]` });
    }
  };
  for (const [flag, def] of Object.entries(KUBEADM_ARGS_FLAG)) {
    const value = o[def.key];
    if (value === undefined) continue;
    if (def.component !== component) {
      throw new ConfigError(`--${flag} sets flags of ${def.component}, not of ${component}`, [], {
        hint: `use --extra-args for ${component}${component === 'etcd' ? ' (kubeadm has no etcd flag)' : ''}`,
      });
    }
    parse(flag, value);
  }
  if (o.extraArgs !== undefined) parse('extra-args', o.extraArgs);
  return out;
}

export function waitTimeout(o: { waitTimeout?: string }): number | undefined {
  if (o.waitTimeout === undefined) return undefined;
  const ms = parseDuration(o.waitTimeout);
  if (ms === undefined || ms <= 0) throw new ConfigError(`--wait-timeout: "${o.waitTimeout}" is not a positive duration (e.g. 4m0s, 90s)`);
  return ms;
}

export async function readConfigOption(o: { config?: string }): Promise<{ path: string; text: string } | undefined> {
  if (o.config === undefined) return undefined;
  const { readConfigFile } = await import('./init.js');
  return readConfigFile(o.config);
}

/** The context the manifest renderer of the init phases takes. */
export function renderContext(spec: InitContext['spec'], host: InitContext['host'], fx: RealEffects, out: Output, g: GlobalOptions): InitContext {
  return {
    spec,
    host,
    fx,
    out,
    options: { dryRun: false, root: g.root, ignorePreflightErrors: new Set(), verbose: g.verbose, waitTimeoutMs: undefined, waitFor: ['all'] },
    slots: new Slots(),
  };
}

/** A reporter that also keeps the log and warning lines (the transcript the render cache replays). */
class Recorder implements Reporter {
  readonly messages: CachedMessage[] = [];
  constructor(private readonly inner: Reporter | undefined) {}
  emit(e: KubebootEvent): void {
    if (e.type === 'log') this.messages.push({ kind: 'log', tag: e.tag, message: e.message });
    else if (e.type === 'warning') this.messages.push({ kind: 'warn', tag: '', message: e.message });
    this.inner?.emit(e);
  }
  close(): void {
    this.inner?.close?.();
  }
}

function upToDate(out: Output, component: StaticPodComponent, path: string, dryRun: boolean, cached: boolean): void {
  out.log('regenerate', `${component}: the manifest "${path}" is up to date; nothing to do`);
  out.emit({ type: 'result', command: `regenerate ${component}`, data: { component, manifest: path, changed: false, dryRun, ...(cached ? { cached: true } : {}) } });
}

/** The configuration bytes a render used: the --config text, or the recorded file's bytes. */
async function configBytes(fx: RealEffects, file: { path: string; text: string } | undefined): Promise<Buffer | undefined> {
  if (!file) return fx.readFile(CACHE_RECORDED_CONFIG);
  const bytes = await readConfigBytes(file.path);
  // the key must describe exactly the text that was parsed
  return bytes && bytes.toString('utf8') === file.text ? bytes : undefined;
}

/**
 * Stores the render cache entry after a render: the key is computed before and after the render from the inputs on
 * disk, and the entry is stored only when both agree (an input that changed during the render is never cached).
 * Best effort: a failure to store only costs the next run its fast path.
 */
async function storeCacheEntry(
  fx: RealEffects,
  out: Output,
  component: StaticPodComponent,
  before: string | undefined,
  inputs: () => Promise<KeyInputs | undefined>,
  output: string,
  messages: readonly CachedMessage[],
  derived: DerivedPaths,
): Promise<void> {
  try {
    const k = await inputs();
    if (before === undefined || !k || (await computeKey(fx, k)) !== before) return;
    const { writeRenderCacheEntry, sha256 } = await import('../render-cache.js');
    // Not listed in the ledger: like the ledger itself and the intent records it lives in the state directory, which
    // `kubeboot reset` removes as a whole (and a no-change run leaves the ledger's bytes alone).
    await writeRenderCacheEntry(fx, component, { key: before, output: sha256(output), messages, ...derived });
  } catch (err) {
    out.warn(`could not update the render cache ${RENDER_CACHE}: ${(err as Error).message}`);
  }
}

export async function runRegenerate(name: string, cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as Record<string, unknown> & { config?: string; dryRun?: boolean; waitTimeout?: string; rollback?: boolean };
  const component = checkComponent('regenerate', name);
  const args = extraArgs(component, o);
  const timeoutOverride = waitTimeout(o);
  const rollback = o.rollback !== false;
  const dryRun = o.dryRun === true;

  const reporter = makeReporter(g);
  const fx = new RealEffects(g.root);
  const host = await gatherHostFacts(fx);

  // the fast path: every render input as it was when the last render found nothing to change (src/render-cache.ts)
  const hit = await fastPath({ fx, component, args, configPath: o.config, host });
  if (hit) {
    const out = new Output(reporter);
    for (const m of hit.entry.messages) {
      if (m.kind === 'warn') out.warn(m.message);
      else out.log(m.tag, m.message);
    }
    upToDate(out, component, hit.entry.manifest, dryRun, true);
    reporter.close?.();
    return;
  }

  const file = await readConfigOption(o);
  const recorder = new Recorder(reporter);
  const out = new Output(recorder);
  const [{ applyManifest, loadNodeSpec, manifestPathOf, mirrorPodName, initPhaseFor }, { LEDGER, RECORDED_CONFIG, recordConfig, recordFiles }] = await Promise.all([
    import('../rollout.js'),
    import('../state.js'),
  ]);
  const bytesBefore = await configBytes(fx, file);
  const node = await loadNodeSpec(fx, host, 'regenerate', file, { component, args });
  const spec = node.spec;
  for (const w of node.warnings) out.warn(w);
  if (component === 'etcd' && !spec.etcd.local) {
    throw new PreflightError(`etcd is external in ${node.source}: kubeboot has no etcd manifest to regenerate`, [], {
      hint: 'regenerate kube-apiserver to change how it reaches the external etcd',
    });
  }
  const path = manifestPathOf(spec, component);
  const current = await fx.readFile(path);
  if (!current) {
    throw new PreflightError(`the static Pod manifest of ${component} does not exist: ${path}`, [], {
      hint: `regenerate changes a manifest kubeboot wrote; create it with '${initPhaseFor(component)}'`,
    });
  }
  const usingLine = `Using the configuration ${node.fromRecorded ? 'recorded at init in' : 'from'} "${node.source}"${args.length ? ` with ${args.map((a) => `--${a.name}=${a.value}`).join(' ')}` : ''}`;
  out.log('regenerate', usingLine);

  const derived: DerivedPaths = { manifest: path, patchesDirectory: spec.patchesDirectory, certificatesDir: spec.paths.certificatesDir };
  const config = (bytes: Buffer | undefined) => (bytes ? { fromRecorded: !file, path: file ? file.path : CACHE_RECORDED_CONFIG, bytes } : undefined);
  /** the key inputs as they are on disk now (undefined: the configuration could not be read back) */
  const keyInputs = async (manifest: Buffer | undefined, h: HostFacts = host): Promise<KeyInputs | undefined> => {
    const c = config(await configBytes(fx, file));
    return c ? { component, args, config: c, host: h, derived, manifest } : undefined;
  };
  const before = bytesBefore ? await computeKey(fx, { component, args, config: config(bytesBefore)!, host, derived, manifest: current }) : undefined;

  const { renderComponentManifest } = await import('../../phases/control-plane.js');
  const rendered = await renderComponentManifest(renderContext(spec, host, fx, out, g), component);
  if (current.equals(Buffer.from(rendered.content))) {
    await storeCacheEntry(fx, out, component, before, () => keyInputs(current), rendered.content, [...recorder.messages], derived);
    upToDate(out, component, path, dryRun, false);
    reporter.close?.();
    return;
  }

  const { createTwoFilesPatch, FILE_HEADERS_ONLY } = await import('diff');
  const diff = createTwoFilesPatch(path, path, current.toString('utf8'), rendered.content, 'current', 'new', { context: 3, headerOptions: FILE_HEADERS_ONLY });
  out.log('regenerate', `${component}: the manifest "${path}" changes:`);
  out.log(g.output === 'json' ? 'diff' : '', diff.replace(/\n$/, ''));
  const command = `regenerate ${component}`;
  const timeoutMs = timeoutOverride ?? spec.timeouts.controlPlaneComponentHealthCheckMs;
  const pod = mirrorPodName(spec, component);

  if (dryRun) {
    const t = 'dryrun';
    out.log(t, `Would back up "${path}" to "${spec.paths.tmpDir}/kubeboot-backup-manifests-<YYYY-MM-DD-HH-MM-SS>/${component}.yaml"`);
    out.log(t, `Would write the new manifest to "${path}" (atomically)`);
    out.log(t, `Would wait up to ${formatDuration(timeoutMs)} for a new Ready container in the mirror pod kube-system/${pod}`);
    out.log(t, rollback ? 'Would restore the previous manifest if the new pod is not Ready in time' : 'Would keep the new manifest even if the new pod is not Ready in time (--no-rollback)');
    out.log(t, `Would record the configuration in "${RECORDED_CONFIG}" once the change is confirmed`);
    out.emit({ type: 'result', command, data: { component, manifest: path, changed: true, dryRun: true, diff } });
    reporter.close?.();
    return;
  }

  const written: { path: string; mode: number; by: string }[] = [];
  let swap;
  try {
    swap = await applyManifest({
      fx,
      spec,
      out,
      component,
      oldContent: current,
      newContent: rendered.content,
      timeoutMs,
      rollback,
      signal: interruptSignal(),
      onFile: (p, mode) => written.push({ path: p, mode, by: 'regenerate' }),
    });
  } finally {
    // the backup goes into the ledger even when the change failed (reset removes what kubeboot wrote)
    if (written.length > 0) await recordFiles(fx, written);
  }
  const status = await recordConfig(fx, spec);
  out.file(RECORDED_CONFIG, 0o600, status);
  out.log('regenerate', `Recorded the configuration in "${RECORDED_CONFIG}" (ledger: "${LEDGER}")`);
  await refreshAfterChange(fx, out, g, component, spec, host, file, derived);
  out.emit({
    type: 'result',
    command,
    data: {
      component,
      manifest: path,
      changed: true,
      dryRun: false,
      diff,
      backup: swap.backupPath,
      podName: pod,
      hashBefore: swap.before?.hash ?? null,
      hashAfter: swap.after.hash ?? null,
      hashChanged: swap.hashChanged,
      confirmation: swap.confirmation,
      elapsedMs: swap.elapsedMs,
      recordedConfig: { path: RECORDED_CONFIG, status },
    },
  });
  reporter.close?.();
}

/**
 * After a confirmed change the manifest on disk is the new one, and it is itself a render input (its restart
 * annotation): render once more, silently, against it, and store that entry, so that the next regenerate with the same
 * inputs takes the fast path. The configuration is the one just recorded (or --config). Best effort.
 */
async function refreshAfterChange(
  fx: RealEffects,
  out: Output,
  g: GlobalOptions,
  component: StaticPodComponent,
  spec: InitContext['spec'],
  host: HostFacts,
  file: { path: string; text: string } | undefined,
  derived: DerivedPaths,
): Promise<void> {
  try {
    const [{ loadNodeSpec }, { renderComponentManifest }] = await Promise.all([import('../rollout.js'), import('../../phases/control-plane.js')]);
    const configNow = await configBytes(fx, file);
    const manifest = await fx.readFile(derived.manifest);
    if (!configNow || !manifest) return;
    // the recorded configuration now holds the extra args: the next plain `regenerate` uses it with no flags
    const node = await loadNodeSpec(fx, host, 'regenerate', file, undefined);
    if (node.spec.patchesDirectory !== spec.patchesDirectory || node.spec.paths.certificatesDir !== spec.paths.certificatesDir || `${node.spec.paths.manifestsDir}/${component}.yaml` !== derived.manifest) return;
    const source = { fromRecorded: !file, path: file ? file.path : CACHE_RECORDED_CONFIG, bytes: configNow };
    const k: KeyInputs = { component, args: [], config: source, host, derived, manifest };
    const before = await computeKey(fx, k);
    const recorder = new Recorder(undefined);
    const quiet = new Output(recorder);
    for (const w of node.warnings) quiet.warn(w);
    quiet.log('regenerate', `Using the configuration ${node.fromRecorded ? 'recorded at init in' : 'from'} "${node.source}"`);
    const rendered = await renderComponentManifest(renderContext(node.spec, host, fx, quiet, g), component);
    if (!manifest.equals(Buffer.from(rendered.content))) return;
    await storeCacheEntry(fx, out, component, before, async () => ({ ...k, config: { ...source, bytes: (await configBytes(fx, file)) ?? Buffer.alloc(0) }, manifest: await fx.readFile(derived.manifest) }), rendered.content, [...recorder.messages], derived);
  } catch {
    // only the next run's fast path is lost
  }
}
