/**
 * kubelet-start (reference §6, deltas §6): writes /var/lib/kubelet/kubeadm-flags.env, instance-config.yaml (when the
 * version has NodeLocalCRISocket) and config.yaml (0644), then restarts the kubelet through systemctl. It runs after
 * control-plane, so the manifests exist when the kubelet starts. No systemctl, a failing systemctl (no systemd) or no
 * kubelet unit is a warning that says what to run; --root and --dry-run never call systemctl.
 * Light at import time: the renderer is loaded when the phase runs.
 */
import { writeFile, type InitContext } from '../../src/node/context.js';
import { slot } from '../../src/workflow/slots.js';
import type { Phase } from '../../src/workflow/phase.js';

/** The KubeletConfiguration this run wrote (wait-control-plane reads the healthz endpoint from it). */
export const KUBELET_CONFIG = slot<Readonly<Record<string, unknown>>>('kubelet-config');

const SYSTEMCTL_TIMEOUT_MS = 30_000;
const MANUAL = 'systemctl daemon-reload && systemctl restart kubelet';

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}

/**
 * The patch step for the `kubeletconfiguration` target, with the shared patch engine (src/render/patches.ts). The
 * patch directory is read once per run, by the same loader as the manifests' patches (control-plane.ts).
 */
async function kubeletPatches(ctx: InitContext): Promise<import('../../src/render/kubelet.js').KubeletPatchFn | undefined> {
  const [{ loadPatches }, { applyPatches, PatchError }, { OperationError }] = await Promise.all([
    import('./control-plane.js'),
    import('../../src/render/patches.js'),
    import('../../src/errors.js'),
  ]);
  const loaded = await loadPatches(ctx);
  if (!loaded) return undefined;
  const files = loaded.files;
  if (!files.some((f) => f.target === 'kubeletconfiguration')) return undefined;
  return (doc) => {
    try {
      const r = applyPatches('kubeletconfiguration', doc, files);
      return {
        doc: r.object as Record<string, unknown>,
        applied: r.applied.map((a) => `Applied patch of type "${a.type}" to target "kubeletconfiguration"`),
      };
    } catch (err) {
      if (err instanceof PatchError) throw new OperationError(err.message, { cause: err });
      throw err;
    }
  };
}

async function restartKubelet(ctx: InitContext): Promise<void> {
  const tag = 'kubelet-start';
  if (ctx.options.dryRun) {
    ctx.out.log(tag, `Would restart the kubelet (${MANUAL}); not done under --dry-run`);
    return;
  }
  if (ctx.options.root !== '') {
    ctx.out.log(tag, `Not starting the kubelet: the files were written under --root "${ctx.options.root}", not for this host's kubelet`);
    return;
  }
  ctx.out.log(tag, 'Starting the kubelet');
  const warn = (why: string) =>
    ctx.out.warn(`[kubelet-start] unable to start the kubelet service: ${why}. Please ensure the kubelet is reloaded and running: ${MANUAL}`);
  if (!(await ctx.fx.which('systemctl'))) {
    warn('systemctl was not found on PATH (this node has no systemd, or it is not on PATH)');
    return;
  }
  const run = async (args: string[]) => {
    try {
      return await ctx.fx.exec('systemctl', args, { timeoutMs: SYSTEMCTL_TIMEOUT_MS });
    } catch (err) {
      return { exitCode: -1, stdout: '', stderr: (err as Error).message };
    }
  };
  const reload = await run(['daemon-reload']);
  if (reload.exitCode !== 0) {
    warn(`'systemctl daemon-reload' failed (exit ${reload.exitCode}): ${firstLine(reload.stderr || reload.stdout) || 'no message'}`);
    return;
  }
  const unit = await run(['list-unit-files', 'kubelet.service', '--no-legend']);
  if (unit.exitCode !== 0 && unit.exitCode !== 1) {
    warn(`'systemctl list-unit-files kubelet.service' failed (exit ${unit.exitCode}): ${firstLine(unit.stderr || unit.stdout) || 'no message'}`);
    return;
  }
  if (!/^kubelet\.service\s/m.test(unit.stdout)) {
    warn('there is no kubelet.service unit (install the kubelet package, which ships the unit and its kubeadm drop-in)');
    return;
  }
  const restart = await run(['restart', 'kubelet']);
  if (restart.exitCode !== 0) {
    warn(`'systemctl restart kubelet' failed (exit ${restart.exitCode}): ${firstLine(restart.stderr || restart.stdout) || 'no message'}`);
  }
}

export const kubeletStart: Phase<InitContext> = {
  name: 'kubelet-start',
  short: 'Write kubelet settings and (re)start the kubelet',
  long: 'Write /var/lib/kubelet/kubeadm-flags.env, instance-config.yaml and config.yaml (the KubeletConfiguration: kubeadm defaults, the config file\'s KubeletConfiguration, then kubeletconfiguration patches), then restart the kubelet with systemctl. Without systemd this is a warning saying what to run.',
  flags: ['config', 'cri-socket', 'node-name', 'patches', 'dry-run'],
  async run(ctx) {
    const [{ renderKubeletFiles }, { loadKubeletTemplate }] = await Promise.all([import('../../src/render/kubelet.js'), import('../../src/node/templates.js')]);
    const template = await loadKubeletTemplate();
    const patch = await kubeletPatches(ctx);
    const files = renderKubeletFiles({ spec: ctx.spec, hostname: ctx.host.hostname, systemdResolved: ctx.host.systemdResolved, template, ...(patch ? { patch } : {}) });
    for (const w of files.warnings) ctx.out.warn(w);
    await ctx.fx.mkdir(ctx.spec.paths.kubeletDir, 0o700);
    const tag = 'kubelet-start';
    // kubeadm overwrites these files whatever is there; kubeboot keeps a copy of one it did not write first
    const { keepBeforeReplacing } = await import('../../src/node/replaced.js');
    const write = async (f: { path: string; content: string; mode: number }) => {
      await keepBeforeReplacing(ctx, tag, f.path, f.content);
      await writeFile(ctx, f.path, f.content, f.mode);
    };
    ctx.out.log(tag, `Writing kubelet environment file with flags to file "${files.flagsEnv.path}"`);
    await write(files.flagsEnv);
    if (files.instanceConfig) {
      ctx.out.log(tag, `Writing kubelet configuration to file "${files.instanceConfig.path}"`);
      await write(files.instanceConfig);
    }
    for (const line of files.patchLines) ctx.out.log('patches', line);
    ctx.out.log(tag, `Writing kubelet configuration to file "${files.config.path}"`);
    await write(files.config);
    ctx.slots.set(KUBELET_CONFIG, files.configObject);
    await restartKubelet(ctx);
  },
};
