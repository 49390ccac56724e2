/**
 * A component's static pod manifest on this node, for init's etcd and control-plane phases, regenerate and restart
 * alike: the templates (loaded once per run) → the pure renderer (+ the patches of patches.directory, read once per
 * run; + the external-CA rule; + the restart annotation found on disk) → static-pod-path hygiene → an atomic 0600
 * write, or, when the manifest changes under a running pod, the safe swap of ./swap.ts.
 */
import type { StaticPodComponent } from '../components.js';
import type { Effects } from '../effects/types.js';
import { usingExternalCA } from '../pki/env.js';
import type { RenderedManifest } from '../render/manifests.js';
import type { LoadedPatches } from '../render/patches.js';
import type { StaticPodPathEntry } from '../render/hygiene.js';
import type { StaticPodTemplates } from '../render/templates.js';
import { WRITTEN_FILES, writeFile } from '../workflow/files.js';
import { slot } from '../workflow/slots.js';
import { NoAdminKubeconfigError, PRELOADED_PATCHES, type NodeContext } from './context.js';
import { mirrorPodOf } from './names.js';

/** Parsed templates, loaded once per run. */
export const STATIC_POD_TEMPLATES = slot<StaticPodTemplates>('static-pod-templates');
/** The patch directory, read once per run (keyed by its resolved path). */
export const LOADED_PATCHES = slot<LoadedPatches>('loaded-patches');
/** Stray static-pod-path files already warned about in this run. */
const HYGIENE_WARNED = slot<Set<string>>('static-pod-path-warned');

/** Reads (once per run) the user's patch directory from the real filesystem path as given, like --config. */
export async function loadPatches(ctx: NodeContext): Promise<LoadedPatches | undefined> {
  const dir = ctx.spec.patchesDirectory;
  if (dir === '') return undefined;
  const path = await import('node:path');
  const resolved = path.resolve(dir);
  const cached = ctx.slots.get(LOADED_PATCHES);
  if (cached && cached.dir === resolved) return cached;
  const [{ RealEffects }, { loadPatchFiles, PatchError }] = await Promise.all([
    import('../effects/real.js'),
    import('../render/patches.js'),
  ]);
  const { OperationError } = await import('../errors.js');
  ctx.out.log('patches', `Reading patches from path "${dir}"`);
  let loaded: LoadedPatches;
  try {
    // The patch directory is the user's input (like --config), not node state: it is read from the path
    // as given on the real filesystem, never mapped under --root or the dry-run directory.
    const pre = ctx.slots.get(PRELOADED_PATCHES);
    loaded = pre && pre.dir === resolved ? pre : await loadPatchFiles(resolved, new RealEffects(''));
  } catch (err) {
    if (err instanceof PatchError) throw new OperationError(err.message, { cause: err });
    throw err;
  }
  for (const i of loaded.ignored) ctx.out.log('patches', `Ignoring file "${i.name}": ${i.reason}`);
  if (loaded.files.length > 0) {
    ctx.out.log('patches', `Found the following patch files: [${loaded.files.map((f) => path.basename(f.path)).join(' ')}]`);
  }
  if (loaded.ignored.length > 0) {
    ctx.out.log('patches', `Ignored the following files: [${loaded.ignored.map((i) => i.name).join(' ')}]`);
  }
  ctx.slots.set(LOADED_PATCHES, loaded);
  return loaded;
}

/**
 * Renders one component's manifest exactly as init writes it: the templates, the patches of patches.directory, the
 * external-CA rule, and the restart annotation of the manifest on disk kept as it is (so that neither init nor
 * regenerate undoes a `kubeboot restart`). Warnings and patch messages go to ctx.out. Also used by regenerate/restart.
 */
export async function renderComponentManifest(ctx: NodeContext, component: StaticPodComponent): Promise<RenderedManifest> {
  const [{ loadStaticPodTemplates }, { renderStaticPod, restartAnnotationOf, manifestPath }, { PatchError }, { OperationError }] = await Promise.all([
    import('./templates.js'),
    import('../render/manifests.js'),
    import('../render/patches.js'),
    import('../errors.js'),
  ]);
  let templates = ctx.slots.get(STATIC_POD_TEMPLATES);
  if (!templates) {
    templates = await loadStaticPodTemplates();
    ctx.slots.set(STATIC_POD_TEMPLATES, templates);
  }
  const patches = await loadPatches(ctx);
  const [externalCA, current] = await Promise.all([
    component === 'kube-controller-manager' ? usingExternalCA(ctx.fx, ctx.spec.paths.certificatesDir) : Promise.resolve(false),
    ctx.fx.readFile(manifestPath(ctx.spec, component)),
  ]);
  const restartedAt = restartAnnotationOf(current?.toString('utf8'));
  let rendered: RenderedManifest;
  try {
    rendered = renderStaticPod(ctx.spec, ctx.host, templates, component, { externalCA, patches: patches?.files ?? [], restartedAt });
  } catch (err) {
    if (err instanceof PatchError || (err instanceof Error && err.message.startsWith('the patched static Pod manifest'))) {
      throw new OperationError(`failed to patch static Pod manifest file for "${component}": ${err.message}`, { cause: err });
    }
    throw err;
  }
  for (const w of rendered.warnings) ctx.out.warn(w);
  for (const a of rendered.patchesApplied) ctx.out.log('patches', `Applied patch of type "${a.type}" to target "${component}"`);
  return rendered;
}

/**
 * Whether init applies a changed manifest through the safe swap (backup, atomic write, wait for a new Ready container,
 * rollback): the manifest exists and differs from the rendered one, this is not a dry run, admin.conf exists, and
 * the component's mirror pod `<component>-<node>` is readable (GET 200, a mirror pod) within 2 s. Otherwise (a first
 * init, --root without a running kubelet/API server, --dry-run) the plain atomic write stays.
 */
async function safeSwapPlan(ctx: NodeContext, component: StaticPodComponent, current: Buffer | undefined, content: string) {
  if (current === undefined || current.equals(Buffer.from(content))) return undefined;
  const { readMirrorPod } = await import('./swap.js');
  let api;
  try {
    api = await ctx.client();
  } catch (err) {
    if (err instanceof NoAdminKubeconfigError) return undefined;
    ctx.out.log('control-plane', `${component}: the manifest changes; ${(err as Error).message}: writing it without waiting for the kubelet`);
    return undefined;
  }
  const before = await readMirrorPod(api.client, mirrorPodOf(ctx.spec, component), 2000);
  if (!before.ok || !before.view.found || !before.view.mirror) {
    const why = before.ok ? `the mirror pod ${before.view.name} does not exist` : before.error;
    ctx.out.log('control-plane', `${component}: the manifest changes and its pod cannot be checked (${why}): writing it without waiting for the kubelet`);
    return undefined;
  }
  return { api, before };
}

/**
 * Renders one component's manifest and writes it to the static pod path, after checking that path:
 * stray files are warned about (once per run), two files defining the same pod are an error. A changed manifest of a
 * running component goes through the safe swap (see safeSwapPlan).
 */
export async function writeStaticPodManifest(ctx: NodeContext, component: StaticPodComponent): Promise<void> {
  const [{ checkStaticPodPath }, { OperationError }] = await Promise.all([import('../render/hygiene.js'), import('../errors.js')]);
  const rendered = await renderComponentManifest(ctx, component);

  const dir = ctx.spec.paths.manifestsDir;
  const entries = await readStaticPodPath(ctx.fx, dir);
  const report = checkStaticPodPath(dir, entries, [rendered], ctx.spec.paths.tmpDir);
  const warned = ctx.slots.get(HYGIENE_WARNED) ?? new Set<string>();
  for (const w of report.warnings) {
    if (warned.has(w.name)) continue;
    warned.add(w.name);
    ctx.out.warn(w.message);
  }
  ctx.slots.set(HYGIENE_WARNED, warned);
  if (report.conflicts.length > 0) {
    throw new OperationError(`static pod path ${dir} would define the same pod twice: ${report.conflicts.join('; ')}`, {
      hint: `the kubelet reads every file in ${dir} whose name does not start with "."; move backups and copies to ${ctx.spec.paths.tmpDir}/`,
    });
  }
  await ctx.fx.mkdir(dir, 0o700);
  // with FileAvailable ignored, a manifest that is not kubeboot's may be here: keep a copy outside the static pod path
  const { keepBeforeReplacing } = await import('./replaced.js');
  await keepBeforeReplacing(ctx, ctx.out.currentPhase?.split('/')[0] ?? 'control-plane', rendered.path, rendered.content);
  const current = await ctx.fx.readFile(rendered.path);
  if (current !== undefined && !current.equals(Buffer.from(rendered.content))) {
    // a re-run that changes a manifest says what changes (it may undo a `kubeboot regenerate`)
    const { createTwoFilesPatch, FILE_HEADERS_ONLY } = await import('diff');
    const diff = createTwoFilesPatch(rendered.path, rendered.path, current.toString('utf8'), rendered.content, 'current', 'new', { context: 3, headerOptions: FILE_HEADERS_ONLY });
    ctx.out.action('control-plane', { doing: `${component}: the manifest "${rendered.path}" changes:`, would: `${component}: the manifest "${rendered.path}" would change:` });
    ctx.out.log('', diff.replace(/\n$/, ''));
  }
  const swap = await safeSwapPlan(ctx, component, current, rendered.content);
  if (!swap || current === undefined) {
    await writeFile(ctx, rendered.path, rendered.content, rendered.mode);
    return;
  }
  const { applyManifest } = await import('./swap.js');
  const by = ctx.out.currentPhase ?? 'init';
  // the twin of --dry-run does not wait for the kubelet: it records the plain write instead
  const swapped = await ctx.fx.waitForNode(`the kubelet to run ${component} from its changed manifest (backup, write, wait for the new pod, rollback on failure)`, async () => {
    ctx.out.log('control-plane', `${component}: the manifest changes and its pod runs: applying it safely (backup, write, wait for the new pod, rollback on failure)`);
    return applyManifest({
      fx: ctx.fx,
      spec: ctx.spec,
      out: ctx.out,
      component,
      oldContent: current,
      newContent: rendered.content,
      timeoutMs: ctx.options.waitTimeoutMs ?? ctx.spec.timeouts.controlPlaneComponentHealthCheckMs,
      api: swap.api,
      before: swap.before,
      onFile: (path, mode) => {
        // the ledger: the manifest and its backup (status "written": kubeboot wrote both)
        const list = ctx.slots.get(WRITTEN_FILES) ?? [];
        if (!list.some((f) => f.path === path && f.status === 'written')) list.push({ path, mode, status: 'written', by });
        ctx.slots.set(WRITTEN_FILES, list);
      },
    });
  });
  if (!swapped) await writeFile(ctx, rendered.path, rendered.content, rendered.mode);
}

/**
 * The static pod path as the kubelet sees it: every entry with its kind, and the contents of the files the kubelet
 * reads (non-dot files). For the hygiene check (src/render/hygiene.ts), from preflight and from the manifest writer.
 */
export async function readStaticPodPath(fx: Effects, dir: string): Promise<StaticPodPathEntry[]> {
  const { kubeletReads } = await import('../render/hygiene.js');
  const names = (await fx.listDir(dir)) ?? [];
  return Promise.all(
    names.map(async (name) => {
      const p = `${dir}/${name}`;
      const st = name.startsWith('.') ? undefined : await fx.stat(p);
      const kind = st?.kind ?? 'other';
      const content = kubeletReads({ name, kind }) ? (await fx.readFile(p))?.toString('utf8') : undefined;
      return { name, kind, content };
    }),
  );
}

/**
 * The local etcd's data directory, made 0700 before its manifest is written (kubeadm's CreateDataDirectory; without it
 * the kubelet would make it 0755 for the hostPath volume). An existing directory is left as it is.
 */
export async function ensureEtcdDataDir(ctx: NodeContext): Promise<void> {
  const dir = ctx.spec.etcd.local?.dataDir;
  if (!dir) return;
  ctx.out.action('etcd', { would: `Would ensure that "${dir}" directory is present` });
  if ((await ctx.fx.stat(dir))?.kind === 'dir') return;
  await ctx.fx.mkdir(dir, 0o700);
}

/**
 * Renders what the selected phases will write from the configuration — the static pod manifests of the components
 * given, and the kubelet's files when asked — with the patches applied, before the first phase writes anything: a patch
 * that does not apply is then a configuration error (exit 3), not a failure after the PKI is on disk. Quiet: the
 * phases render again and say what they do (rendering is pure and takes milliseconds).
 */
export async function checkRendersBeforeWriting(ctx: NodeContext, components: readonly StaticPodComponent[], kubelet: boolean): Promise<void> {
  const [{ nodeContext }, { Output }, { Slots }, { ConfigError, OperationError }, { renderKubeletFilesFor }] = await Promise.all([
    import('./context.js'),
    import('../workflow/events.js'),
    import('../workflow/slots.js'),
    import('../errors.js'),
    import('./kubelet.js'),
  ]);
  const slots = new Slots();
  const pre = ctx.slots.get(PRELOADED_PATCHES);
  if (pre) slots.set(PRELOADED_PATCHES, pre);
  const quiet = nodeContext({ spec: ctx.spec, host: ctx.host, fx: ctx.fx, out: new Output({ emit: () => undefined }), options: ctx.options, slots });
  const asConfigError = (err: unknown): never => {
    if (err instanceof OperationError) {
      throw new ConfigError(err.message, [], { hint: 'fix or remove the patch file named above; nothing was written' });
    }
    throw err;
  };
  for (const c of components) await renderComponentManifest(quiet, c).catch(asConfigError);
  if (kubelet) await renderKubeletFilesFor(quiet).catch(asConfigError);
}
