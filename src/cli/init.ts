/** `kubeboot init` and `kubeboot init phase …`: flags/config → spec → context → phases. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { PRELOADED_PATCHES, WRITTEN_FILES, nodeContext, type InitContext } from '../node/context.js';
import { DryRunEffects } from '../effects/dryrun.js';
import { gatherHostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import type { Effects } from '../effects/types.js';
import type { LoadedPatches } from '../render/patches.js';
import { ConfigError } from '../errors.js';
import { Output } from '../workflow/events.js';
import { runWorkflow } from '../workflow/run.js';
import { selectPhases } from '../workflow/select.js';
import { LedgerTrackingEffects, RECORDED_CONFIG, STATE_DIR, recordConfig, recordFiles, recordedTokens, removeStaleTempFiles } from '../node/state.js';
import { makeReporter, useListr } from './io.js';
import { checkConfigMixing, configFlags, flagValue, globalOptions, waitOptions } from './options.js';
import { JOIN, TOKENS } from '../node/cluster.js';
import { OBJECT_TALLY } from '../node/objects.js';
import { interruptSignal } from './signals.js';

/** Reads the configuration file a flag names (`flag` is used in the error: --config, --old-config). */
export async function readConfigFile(path: string, flag = '--config'): Promise<{ path: string; text: string }> {
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `unable to read config file "${path}" (${flag}): ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`,
      [],
      { hint: `give ${flag} the path of a kubeadm configuration file; \`kubeboot config print init-defaults\` prints one to start from` },
    );
  }
}

/**
 * A request body as dry-run shows it: YAML, with a Secret's data values replaced by their size (the bootstrap token
 * is printed by its own line; kubeadm-certs holds the encrypted CA keys).
 */
async function dryRunObjectText(body: string): Promise<string> {
  const { toYaml } = await import('../render/yaml.js');
  let obj: unknown;
  try {
    obj = JSON.parse(body);
  } catch {
    return body;
  }
  if (obj !== null && typeof obj === 'object' && (obj as { kind?: unknown }).kind === 'Secret') {
    const s = obj as { data?: Record<string, string> };
    if (s.data) s.data = Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, `<${Buffer.from(v, 'base64').length} bytes, not shown>`]));
  }
  return toYaml(obj);
}

/** Files whose contents dry-run may print: nothing that holds key material. */
function printable(path: string): boolean {
  return path.startsWith('/etc/kubernetes/manifests/') || path.startsWith('/var/lib/kubelet/');
}

/**
 * The patch directory is input like --config: read and parse it before any phase runs, so that a missing directory
 * or a broken patch file is a configuration error (exit 3) and not a failure halfway through the phases. (Patches
 * that do not apply to their target can only be found when the target is rendered.)
 */
async function checkPatchesDirectory(dir: string, source: string): Promise<LoadedPatches | undefined> {
  if (dir === '') return undefined;
  const [{ resolve }, { loadPatchFiles, PatchError }] = await Promise.all([import('node:path'), import('../render/patches.js')]);
  try {
    return await loadPatchFiles(resolve(dir), new RealEffects(''));
  } catch (err) {
    if (err instanceof PatchError) {
      const listing = err.message.startsWith('could not list');
      throw new ConfigError(`${source}: ${err.message}`, [], {
        hint: listing ? 'give the directory that holds the patch files, named target[suffix][+patchtype].{yaml,yml,json}' : 'fix or move the patch file named above',
      });
    }
    throw err;
  }
}

export async function runInitCommand(cmd: Command, filter: string | undefined): Promise<void> {
  const g = globalOptions(cmd);
  checkConfigMixing(cmd);
  const opts = cmd.opts() as { config?: string; dryRun?: boolean };
  const flags = configFlags(cmd);
  const wait = waitOptions(cmd);
  const file = opts.config !== undefined ? await readConfigFile(opts.config) : undefined;

  const reporter = makeReporter(g);
  const out = new Output(reporter);
  // The config may ask for dry-run too; parse it with a read-only view of the source first.
  const probe: Effects = new RealEffects(g.root);
  const host = await gatherHostFacts(probe);
  const loaded = await loadConfig(file, flags, host);
  const patches = await checkPatchesDirectory(loaded.spec.patchesDirectory, flags['patches'] !== undefined ? '--patches' : `${file?.path ?? 'config'}: InitConfiguration.patches.directory`);
  const dryRun = Boolean(opts.dryRun) || loaded.spec.documents.init.dryRun === true;
  out.simulated = dryRun;
  // Every file goes into the ledger before it is written (crash consistency: a killed run's files are still known
  // as kubeboot's to a re-run and to reset).
  const fx: Effects = dryRun ? new DryRunEffects(g.root) : new LedgerTrackingEffects(probe, () => out.currentPhase ?? 'init');
  for (const w of loaded.warnings) out.warn(w);

  const ignore = new Set(loaded.spec.ignorePreflightErrors);
  const ctx: InitContext = nodeContext({
    spec: loaded.spec,
    host,
    fx,
    out,
    options: {
      dryRun,
      root: g.root,
      ignorePreflightErrors: ignore,
      verbose: g.verbose,
      ...wait,
      signal: interruptSignal(),
      uploadCerts: flagValue(cmd, 'upload-certs') === true,
      skipTokenPrint: flagValue(cmd, 'skip-token-print') === true,
      skipCertificateKeyPrint: flagValue(cmd, 'skip-certificate-key-print') === true,
      recordedTokens: await recordedTokens(probe),
    },
  });
  if (patches) ctx.slots.set(PRELOADED_PATCHES, patches);
  const { INIT_PHASES } = await import('../../phases/index.js');
  const skip = loaded.spec.skipPhases;
  // what can be checked before the first write is checked first: the manifests and kubelet files the selected phases
  // will write, patches applied (an unknown phase name is refused here too)
  const selected = selectPhases(INIT_PHASES, filter, skip).run;
  const { STATIC_POD_COMPONENTS, componentRow } = await import('../components.js');
  const { checkRendersBeforeWriting } = await import('../node/manifests.js');
  await checkRendersBeforeWriting(
    ctx,
    STATIC_POD_COMPONENTS.filter((c) => (c !== 'etcd' || loaded.spec.etcd.local !== undefined) && selected.has(componentRow(c).initPhase.join('/'))),
    selected.has('kubelet-start'),
  );
  out.log('init', `Using Kubernetes version: ${loaded.spec.kubernetesVersion}`);
  if (dryRun) out.log('dryrun', `Writing files into "${(fx as DryRunEffects).dir}" instead of ${g.root ? `"${g.root}"` : 'the host'}`);
  else {
    // a SIGKILLed write leaves its dot-prefixed temp file (the kubelet ignores it); clean up kubeboot's own
    const p = loaded.spec.paths;
    const stale = await removeStaleTempFiles(fx, [p.kubernetesDir, p.manifestsDir, p.certificatesDir, `${p.certificatesDir}/etcd`, p.kubeletDir, STATE_DIR]);
    if (stale.length > 0) out.log('init', `Removed ${stale.length} temporary file(s) an interrupted kubeboot run left behind: ${stale.join(', ')}`);
  }
  // The ledger already lists every file this run wrote (LedgerTrackingEffects records each one before writing it),
  // also when a phase fails or the process is killed, so that reset can clean up.
  const result = await runWorkflow({
    tree: INIT_PHASES,
    ctx,
    filter,
    skip,
    signal: interruptSignal(),
    listr: useListr(g),
  });
  if (!dryRun) {
    const status = await recordConfig(fx, loaded.spec, ctx.slots.get(TOKENS));
    out.file(RECORDED_CONFIG, 0o600, status);
    await recordFiles(fx, [{ path: RECORDED_CONFIG, mode: 0o600, by: 'init' }]);
  }

  const files = ctx.slots.get(WRITTEN_FILES) ?? [];
  const written = files.filter((f) => f.status === 'written');
  const unchanged = files.filter((f) => f.status === 'unchanged');
  if (dryRun) {
    const dfx = fx as DryRunEffects;
    out.log('dryrun', `Wrote ${written.length} file(s) to the "${dfx.dir}" directory`);
    for (const f of written.filter((x) => printable(x.path))) {
      const content = (await dfx.readFile(f.path))?.toString('utf8') ?? '';
      out.log('dryrun', `Would write file "${f.path}" (mode 0${f.mode.toString(8)}) with content:\n${content.replace(/^/gm, '\t')}`);
    }
    for (const r of dfx.records.filter((x) => x.action === 'exec')) out.log('dryrun', `Would run: ${r.detail}`);
    for (const r of dfx.records.filter((x) => x.action === 'http' && !x.detail?.startsWith('GET '))) {
      out.log('dryrun', `Would send: ${r.detail}${r.body !== undefined ? ` with object:\n${(await dryRunObjectText(r.body)).replace(/^/gm, '\t')}` : ''}`);
    }
  }
  const tally = ctx.slots.get(OBJECT_TALLY) ?? new Map<string, number>();
  const objectsChanged = (tally.get('created') ?? 0) + (tally.get('updated') ?? 0) + (tally.get('patched') ?? 0);
  const objectsKept = (tally.get('unchanged') ?? 0) + (tally.get('retained') ?? 0);
  const objectsText = tally.size === 0 ? '' : `; API objects: ${objectsChanged === 0 ? `${objectsKept} already up to date` : [...tally.entries()].map(([k, v]) => `${v} ${k}`).join(', ')}`;
  const nothingChanged = unchanged.length > 0 && written.length === 0 && objectsChanged === 0;
  out.log(
    'init',
    nothingChanged
      ? `Nothing changed: ${unchanged.length} file(s) already up to date (certificates, kubeconfigs, manifests and kubelet files reused as they are)${objectsText}`
      : `${written.length} file(s) written, ${unchanged.length} unchanged${objectsText}`,
  );
  const joins = ctx.slots.get(JOIN) ?? [];
  // where the time went: since this process started, and how much of it was waiting on the node or on key generation
  const away = fx.away.report();
  const totalMs = Math.round(performance.now());
  const timings = { totalMs, ownMs: Math.max(0, totalMs - away.waitedMs), waitedMs: away.waitedMs, waitedForNodeMs: away.byKind.node, waitedForKeysMs: away.byKind.keys };
  if (g.verbose) {
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    out.log('init', `Took ${s(totalMs)}: ${s(timings.ownMs)} kubeboot's own work, ${s(away.byKind.node)} waiting for the node, ${s(away.byKind.keys)} waiting for key generation (overlapping waits count once)`);
  }
  out.emit({
    type: 'result',
    command: filter ? `init phase ${filter}` : 'init',
    data: {
      kubernetesVersion: loaded.spec.kubernetesVersion,
      dryRun,
      ...(dryRun ? { dryRunDir: (fx as DryRunEffects).dir } : {}),
      phasesRun: result.ran,
      phasesSkipped: result.skipped,
      changed: !nothingChanged,
      written: written.length,
      unchanged: unchanged.length,
      files: files.map((f) => ({ path: f.path, mode: `0${f.mode.toString(8)}`, status: f.status })),
      objects: Object.fromEntries(tally),
      kubeconfig: `${loaded.spec.paths.kubernetesDir}/admin.conf`,
      timings,
      // the join commands' parts and the tokens (the certificate key, which decrypts the uploaded CA keys, is not here)
      ...(joins.length > 0
        ? {
            join: joins.map((j) => ({
              endpoint: j.endpoint,
              token: j.token,
              caCertHashes: j.caCertHashes,
              command: `kubeadm join ${j.endpoint} --token ${j.token} ${j.caCertHashes.map((h) => `--discovery-token-ca-cert-hash ${h}`).join(' ')}`,
            })),
          }
        : {}),
    },
  });
  reporter.close?.();
}
