/** `kubeboot init` and `kubeboot init phase …`: flags/config → spec → context → phases. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { WRITTEN_FILES, type InitContext } from '../context.js';
import { DryRunEffects } from '../effects/dryrun.js';
import { gatherHostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import type { Effects } from '../effects/types.js';
import { ConfigError } from '../errors.js';
import { Output } from '../workflow/events.js';
import { runWorkflow } from '../workflow/run.js';
import { Slots } from '../workflow/slots.js';
import { RECORDED_CONFIG, recordConfig, recordFiles } from '../state.js';
import { makeReporter, useListr } from './io.js';
import { checkConfigMixing, configFlags, globalOptions, waitOptions } from './options.js';
import { interruptSignal } from './signals.js';

export async function readConfigFile(path: string): Promise<{ path: string; text: string }> {
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `unable to read config file "${path}": ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`,
      [],
      { hint: 'give --config the path of a kubeadm configuration file; `kubeboot config print init-defaults` prints one to start from' },
    );
  }
}

/** Files whose contents dry-run may print: nothing that holds key material. */
function printable(path: string): boolean {
  return path.startsWith('/etc/kubernetes/manifests/') || path.startsWith('/var/lib/kubelet/');
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
  const dryRun = Boolean(opts.dryRun) || loaded.spec.documents.init.dryRun === true;
  const fx: Effects = dryRun ? new DryRunEffects(g.root) : probe;
  for (const w of loaded.warnings) out.warn(w);

  const ignore = new Set(loaded.spec.ignorePreflightErrors);
  const ctx: InitContext = {
    spec: loaded.spec,
    host,
    fx,
    out,
    options: { dryRun, root: g.root, ignorePreflightErrors: ignore, verbose: g.verbose, ...wait },
    slots: new Slots(),
  };
  out.log('init', `Using Kubernetes version: ${loaded.spec.kubernetesVersion}`);
  if (dryRun) out.log('dryrun', `Writing files into "${(fx as DryRunEffects).dir}" instead of ${g.root ? `"${g.root}"` : 'the host'}`);
  const { INIT_PHASES } = await import('../../phases/index.js');
  const skip = flags.skipPhases ?? loaded.spec.skipPhases;
  let result;
  try {
    result = await runWorkflow({
      tree: INIT_PHASES,
      ctx,
      filter,
      skip,
      signal: interruptSignal(),
      listr: useListr(g),
    });
  } finally {
    // The ledger of files kubeboot wrote is kept even when a phase fails, so that reset can clean up.
    const wrote = (ctx.slots.get(WRITTEN_FILES) ?? []).filter((f) => f.status === 'written');
    if (!dryRun && wrote.length > 0) await recordFiles(fx, wrote);
  }
  if (!dryRun) {
    const status = await recordConfig(fx, loaded.spec);
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
  }
  out.log(
    'init',
    unchanged.length > 0 && written.length === 0
      ? `Nothing changed: ${unchanged.length} file(s) already up to date`
      : `${written.length} file(s) written, ${unchanged.length} unchanged`,
  );
  out.emit({
    type: 'result',
    command: filter ? `init phase ${filter}` : 'init',
    data: {
      kubernetesVersion: loaded.spec.kubernetesVersion,
      dryRun,
      ...(dryRun ? { dryRunDir: (fx as DryRunEffects).dir } : {}),
      phasesRun: result.ran,
      phasesSkipped: result.skipped,
      files: files.map((f) => ({ path: f.path, mode: `0${f.mode.toString(8)}`, status: f.status })),
    },
  });
  reporter.close?.();
}
