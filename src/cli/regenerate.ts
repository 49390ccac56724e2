/**
 * `kubeboot regenerate <component>`: re-renders one static Pod manifest exactly as init would (from --config, else the
 * configuration init recorded at /etc/kubernetes/kubeboot/config.yaml, with --extra-args merged over the component's
 * extraArgs) and, when the bytes differ, prints a unified diff and applies it through the safe swap of src/rollout.ts
 * (backup under /etc/kubernetes/tmp, atomic write, wait for a new Ready container, rollback on timeout). The recorded
 * configuration is updated only when the change was confirmed.
 *
 * A run with nothing to change costs a full render (the recorded configuration is parsed and validated like any
 * other file); diff is loaded only when there is a diff, listr2 never.
 */
import type { Command } from 'commander';
import type { Arg } from '../config/spec.js';
import { gatherHostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import { ConfigError, PreflightError } from '../errors.js';
import type { StaticPodComponent } from '../render/templates.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { Output } from '../workflow/events.js';
import type { ConfigFlags } from '../config/flags.js';
import { makeReporter } from './io.js';
import { flagValue, globalOptions, type GlobalOptions } from './options.js';
import { interruptSignal } from './signals.js';
import { COMPONENT_TABLE, STATIC_POD_COMPONENTS, componentRow, isComponent, initPhaseCommand, manifestPath } from '../components.js';
import { nodeContext, type NodeContext } from '../node/context.js';

export function checkComponent(command: string, name: string): StaticPodComponent {
  if (!isComponent(name)) {
    throw new ConfigError(`${command}: unknown component "${name}": valid components are ${STATIC_POD_COMPONENTS.join(', ')}`, [], {
      hint: `for example: kubeboot ${command} kube-apiserver`,
    });
  }
  return name;
}

/**
 * --extra-args plus kubeadm's flag for this component (--apiserver-extra-args, …), as the config flag that fills the
 * component's extraArgs; kubeadm's flag of another component is an error naming it.
 */
function extraArgs(component: StaticPodComponent, cmd: Command): { flags: ConfigFlags; args: Arg[] } {
  const args: Arg[] = [];
  for (const row of COMPONENT_TABLE) {
    if (!row.extraArgsFlag) continue;
    const v = flagValue(cmd, row.extraArgsFlag) as Arg[] | undefined;
    if (v === undefined) continue;
    if (row.name !== component) {
      throw new ConfigError(`--${row.extraArgsFlag} sets flags of ${row.name}, not of ${component}`, [], {
        hint: `use --extra-args for ${component}${component === 'etcd' ? ' (kubeadm has no etcd flag)' : ''}`,
      });
    }
    args.push(...v);
  }
  args.push(...((flagValue(cmd, 'extra-args') as Arg[] | undefined) ?? []));
  if (args.length === 0) return { flags: {}, args };
  return { flags: { [componentRow(component).extraArgsFlag ?? 'etcd-extra-args']: args }, args };
}

export async function readConfigOption(o: { config?: string }): Promise<{ path: string; text: string } | undefined> {
  if (o.config === undefined) return undefined;
  const { readConfigFile } = await import('./init.js');
  return readConfigFile(o.config);
}

/** The context regenerate and restart render and write in (no dry-run branch: they say what they would do themselves). */
export function commandContext(spec: NodeContext['spec'], host: NodeContext['host'], fx: RealEffects, out: Output, g: GlobalOptions, waitTimeoutMs?: number): NodeContext {
  return nodeContext({ spec, host, fx, out, options: { dryRun: false, root: g.root, verbose: g.verbose, waitTimeoutMs, signal: interruptSignal() } });
}

function upToDate(out: Output, component: StaticPodComponent, path: string, dryRun: boolean): void {
  out.log('regenerate', `${component}: the manifest "${path}" is up to date; nothing to do`);
  out.emit({ type: 'result', command: `regenerate ${component}`, data: { component, manifest: path, changed: false, dryRun } });
}

export async function runRegenerate(name: string, cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as { config?: string };
  const component = checkComponent('regenerate', name);
  const { flags, args } = extraArgs(component, cmd);
  const timeoutOverride = flagValue(cmd, 'wait-timeout') as number | undefined;
  const rollback = flagValue(cmd, 'rollback') !== false;
  const dryRun = flagValue(cmd, 'dry-run') === true;

  const reporter = makeReporter(g);
  const fx = new RealEffects(g.root);
  const host = await gatherHostFacts(fx);

  const file = await readConfigOption(o);
  const out = new Output(reporter);
  const [{ applyManifest }, { loadNodeSpec }, { mirrorPodOf }, { LEDGER, RECORDED_CONFIG, recordConfig, recordFiles }] = await Promise.all([
    import('../node/swap.js'),
    import('../node/spec.js'),
    import('../node/names.js'),
    import('../node/state.js'),
  ]);
  const node = await loadNodeSpec(fx, host, { command: 'regenerate', file, flags, unknownNode: 'refuse' });
  const spec = node.spec;
  for (const w of node.warnings) out.warn(w);
  if (component === 'etcd' && !spec.etcd.local) {
    throw new PreflightError(`etcd is external in ${node.source}: kubeboot has no etcd manifest to regenerate`, [], {
      hint: 'regenerate kube-apiserver to change how it reaches the external etcd',
    });
  }
  const path = manifestPath(spec, component);
  const current = await fx.readFile(path);
  if (!current) {
    throw new PreflightError(`the static Pod manifest of ${component} does not exist: ${path}`, [], {
      hint: `regenerate changes a manifest kubeboot wrote; create it with '${initPhaseCommand(component)}'`,
    });
  }
  const usingLine = `Using the configuration ${node.fromRecorded ? 'recorded at init in' : 'from'} "${node.source}"${args.length ? ` with ${args.map((a) => `--${a.name}=${a.value}`).join(' ')}` : ''}`;
  out.log('regenerate', usingLine);

  const { renderComponentManifest } = await import('../node/manifests.js');
  const rendered = await renderComponentManifest(commandContext(spec, host, fx, out, g), component);
  if (current.equals(Buffer.from(rendered.content))) {
    upToDate(out, component, path, dryRun);
    reporter.close?.();
    return;
  }

  const { createTwoFilesPatch, FILE_HEADERS_ONLY } = await import('diff');
  const diff = createTwoFilesPatch(path, path, current.toString('utf8'), rendered.content, 'current', 'new', { context: 3, headerOptions: FILE_HEADERS_ONLY });
  out.log('regenerate', `${component}: the manifest "${path}" changes:`);
  out.log(g.output === 'json' ? 'diff' : '', diff.replace(/\n$/, ''));
  const command = `regenerate ${component}`;
  const timeoutMs = timeoutOverride ?? spec.timeouts.controlPlaneComponentHealthCheckMs;
  const pod = mirrorPodOf(spec, component);

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
    const { kubeletHealthzUrl } = await import('../node/kubelet.js');
    swap = await applyManifest({
      kubeletHealthz: await kubeletHealthzUrl(commandContext(spec, host, fx, out, g)),
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
