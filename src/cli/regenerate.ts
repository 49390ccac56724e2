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
import type { InitContext } from '../node/context.js';
import { gatherHostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import { ConfigError, PreflightError } from '../errors.js';
import type { StaticPodComponent } from '../render/templates.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { Output } from '../workflow/events.js';
import { Slots } from '../workflow/slots.js';
import { parseArgsFlag } from './flags.js';
import { makeReporter } from './io.js';
import { globalOptions, type GlobalOptions } from './options.js';
import { interruptSignal } from './signals.js';
import { COMPONENTS, isComponent } from '../node/rollout.js';

/** kubeadm's per-component flag names (etcd has none). */
const KUBEADM_ARGS_FLAG: Readonly<Record<string, { key: 'apiserverExtraArgs' | 'controllerManagerExtraArgs' | 'schedulerExtraArgs'; component: StaticPodComponent }>> = {
  'apiserver-extra-args': { key: 'apiserverExtraArgs', component: 'kube-apiserver' },
  'controller-manager-extra-args': { key: 'controllerManagerExtraArgs', component: 'kube-controller-manager' },
  'scheduler-extra-args': { key: 'schedulerExtraArgs', component: 'kube-scheduler' },
};


export function checkComponent(command: string, name: string): StaticPodComponent {
  if (!isComponent(name)) {
    throw new ConfigError(`${command}: unknown component "${name}": valid components are ${COMPONENTS.join(', ')}`, [], {
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

function upToDate(out: Output, component: StaticPodComponent, path: string, dryRun: boolean): void {
  out.log('regenerate', `${component}: the manifest "${path}" is up to date; nothing to do`);
  out.emit({ type: 'result', command: `regenerate ${component}`, data: { component, manifest: path, changed: false, dryRun } });
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

  const file = await readConfigOption(o);
  const out = new Output(reporter);
  const [{ applyManifest, loadNodeSpec, manifestPathOf, mirrorPodName, initPhaseFor }, { LEDGER, RECORDED_CONFIG, recordConfig, recordFiles }] = await Promise.all([
    import('../node/rollout.js'),
    import('../node/state.js'),
  ]);
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

  const { renderComponentManifest } = await import('../../phases/init/control-plane.js');
  const rendered = await renderComponentManifest(renderContext(spec, host, fx, out, g), component);
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
