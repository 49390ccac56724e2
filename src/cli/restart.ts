/**
 * `kubeboot restart <component>`: makes the kubelet recreate one static pod without a configuration change (after a
 * certificate renewal, for instance) and waits for its new container to be Ready. It sets the annotation
 * kubeboot.kubernetes.io/restartedAt=<RFC 3339 time> in the manifest on disk (nothing else changes), which changes the
 * pod's config hash, through the same swap as regenerate (backup, atomic write, wait, rollback). Rendering keeps that
 * annotation, so a later init or regenerate sees no difference.
 */
import type { Command } from 'commander';
import { gatherHostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import { PreflightError } from '../errors.js';
import { manifestPath } from '../components.js';
import { mirrorPodOf } from '../node/names.js';
import { loadNodeSpec } from '../node/spec.js';
import { restartComponents, restartedManifest, restartStamp } from '../node/swap.js';
import { RESTART_ANNOTATION } from '../render/manifests.js';
import { recordFiles } from '../node/state.js';
import { formatDuration } from '../util/duration.js';
import { Output } from '../workflow/events.js';
import { makeReporter } from './io.js';
import { flagValue, globalOptions } from './options.js';
import { checkComponent, commandContext, readConfigOption } from './regenerate.js';
import { interruptSignal } from './signals.js';

export async function runRestart(name: string, cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as { config?: string };
  const component = checkComponent('restart', name);
  const timeoutOverride = flagValue(cmd, 'wait-timeout') as number | undefined;
  const rollback = flagValue(cmd, 'rollback') !== false;
  const dryRun = flagValue(cmd, 'dry-run') === true;
  const file = await readConfigOption(o);

  const reporter = makeReporter(g);
  const out = new Output(reporter);
  const fx = new RealEffects(g.root);
  const host = await gatherHostFacts(fx);
  const node = await loadNodeSpec(fx, host, { command: 'restart', file, unknownNode: 'refuse' });
  const spec = node.spec;
  for (const w of node.warnings) out.warn(w);
  if (component === 'etcd' && !spec.etcd.local) {
    throw new PreflightError(`etcd is external in ${node.source}: there is no etcd static pod on this node to restart`);
  }
  const path = manifestPath(spec, component);
  const stamp = restartStamp(fx.now());
  // refuses (exit 2) when the manifest is missing; checked before anything else happens
  const { old, next } = await restartedManifest(fx, spec, component, stamp);

  // a manifest that differs from the configuration is restarted as it is; say so
  const { renderComponentManifest } = await import('../node/manifests.js');
  const fresh = await renderComponentManifest(commandContext(spec, host, fx, new Output({ emit: () => undefined }), g), component);
  if (fresh.content !== old.toString('utf8')) {
    out.warn(
      `the manifest "${path}" differs from what the configuration in "${node.source}" renders; restart keeps it as it is (only ${RESTART_ANNOTATION} changes). 'kubeboot regenerate ${component}' shows and applies the difference`,
    );
  }
  const timeoutMs = timeoutOverride ?? spec.timeouts.controlPlaneComponentHealthCheckMs;
  const pod = mirrorPodOf(spec, component);
  const command = `restart ${component}`;
  if (dryRun) {
    const t = 'dryrun';
    out.log(t, `Would set the annotation ${RESTART_ANNOTATION}=${stamp} in "${path}" (nothing else changes)`);
    out.log(t, `Would back up "${path}" to "${spec.paths.tmpDir}/kubeboot-backup-manifests-<YYYY-MM-DD-HH-MM-SS>/${component}.yaml" and write the new manifest atomically`);
    out.log(t, `Would wait up to ${formatDuration(timeoutMs)} for a new Ready container in the mirror pod kube-system/${pod}${rollback ? ', and restore the previous manifest if it is not Ready in time' : ''}`);
    out.emit({ type: 'result', command, data: { component, manifest: path, dryRun: true, restartedAt: stamp } });
    reporter.close?.();
    return;
  }

  const written: { path: string; mode: number; by: string }[] = [];
  let results;
  try {
    const { kubeletHealthzUrl } = await import('../node/kubelet.js');
    results = await restartComponents({
      kubeletHealthz: await kubeletHealthzUrl(commandContext(spec, host, fx, out, g)),
      fx,
      spec,
      out,
      components: [component],
      timeoutMs,
      rollback,
      restartedAt: stamp,
      signal: interruptSignal(),
      onFile: (p, mode) => written.push({ path: p, mode, by: 'restart' }),
    });
  } finally {
    if (written.length > 0) await recordFiles(fx, written);
  }
  const r = results[0];
  if (!r) throw new Error('internal: restart returned no result');
  // the annotation we set is exactly what is on disk now
  if ((await fx.readFile(path))?.toString('utf8') !== next) out.warn(`"${path}" changed while kubeboot restarted ${component}`);
  out.log('restart', `${component} restarted: ${r.swap.confirmation}`);
  out.emit({
    type: 'result',
    command,
    data: {
      component,
      manifest: path,
      dryRun: false,
      restartedAt: r.restartedAt,
      backup: r.swap.backupPath,
      podName: pod,
      hashBefore: r.swap.before?.hash ?? null,
      hashAfter: r.swap.after.hash ?? null,
      hashChanged: r.swap.hashChanged,
      confirmation: r.swap.confirmation,
      elapsedMs: r.swap.elapsedMs,
    },
  });
  reporter.close?.();
}
