/**
 * The kubelet on this node (reference §6, deltas §6): the files kubelet-start writes under /var/lib/kubelet, the
 * KubeletConfiguration in force, and the kubelet service (systemctl). Used by init's kubelet-start and
 * wait-control-plane phases and by reset.
 */
import type { NodeContext } from './context.js';
import { kubeletConfigPath } from './names.js';
import { writeFile } from '../workflow/files.js';
import { slot } from '../workflow/slots.js';

/** Whether this run started the kubelet (kubelet-start), and why not; the wait gives a kubelet nobody started a short grace. */
export const KUBELET_STARTED = slot<{ readonly started: boolean; readonly reason?: string }>('kubelet-started');

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
async function kubeletPatches(ctx: NodeContext): Promise<import('../render/kubelet.js').KubeletPatchFn | undefined> {
  const [{ loadPatches }, { applyPatches, PatchError }, { OperationError }] = await Promise.all([
    import('./manifests.js'),
    import('../render/patches.js'),
    import('../errors.js'),
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

/**
 * The kubelet service, through systemctl (kubeadm's initsystem): `restart` (daemon-reload first) after kubelet-start
 * wrote its files, `stop` before reset removes them. Never under --root (the files are not this host's kubelet's).
 * Under --dry-run the effects twin records the commands that change the node and runs the read-only unit check. No
 * systemctl, a failing systemctl (no systemd) or no kubelet unit is a warning that says what to run, never an error:
 * the node may run its kubelet another way. Returns whether the action was done.
 */
export async function kubeletService(ctx: NodeContext, action: 'restart' | 'stop', tag: string): Promise<boolean> {
  const manual = action === 'restart' ? MANUAL : 'systemctl stop kubelet';
  if (ctx.options.root !== '') {
    ctx.out.log(
      tag,
      action === 'restart'
        ? `Not starting the kubelet: the files were written under --root "${ctx.options.root}", not for this host's kubelet`
        : `Not stopping the kubelet: the files are under --root "${ctx.options.root}", not this host's kubelet`,
    );
    return false;
  }
  ctx.out.action(
    tag,
    action === 'restart'
      ? { doing: 'Starting the kubelet', would: `Would restart the kubelet (${MANUAL}); not done under --dry-run` }
      : { doing: 'Stopping the kubelet service', would: `Would stop the kubelet service (${manual})` },
  );
  const warn = (why: string) =>
    ctx.out.warn(
      action === 'restart'
        ? `[${tag}] unable to start the kubelet service: ${why}. Please ensure the kubelet is reloaded and running: ${manual}`
        : `[${tag}] could not stop the kubelet: ${why}; stop it yourself (${manual})`,
    );
  if (!(await ctx.fx.which('systemctl'))) {
    warn('systemctl was not found on PATH (this node has no systemd, or it is not on PATH)');
    return false;
  }
  const run = async (args: string[], readOnly = false) => {
    try {
      return await ctx.fx.exec('systemctl', args, { timeoutMs: SYSTEMCTL_TIMEOUT_MS, readOnly });
    } catch (err) {
      return { exitCode: -1, stdout: '', stderr: (err as Error).message };
    }
  };
  const failed = (args: string[], r: { exitCode: number; stdout: string; stderr: string }) =>
    `'systemctl ${args.join(' ')}' failed (exit ${r.exitCode}): ${firstLine(r.stderr || r.stdout) || 'no message'}`;
  if (action === 'stop') {
    const r = await run(['stop', 'kubelet']);
    if (r.exitCode !== 0) {
      warn(failed(['stop', 'kubelet'], r));
      return false;
    }
    return true;
  }
  const reload = await run(['daemon-reload']);
  if (reload.exitCode !== 0) {
    warn(failed(['daemon-reload'], reload));
    return false;
  }
  const unit = await run(['list-unit-files', 'kubelet.service', '--no-legend'], true);
  if (unit.exitCode !== 0 && unit.exitCode !== 1) {
    warn(failed(['list-unit-files', 'kubelet.service'], unit));
    return false;
  }
  if (!/^kubelet\.service\s/m.test(unit.stdout)) {
    warn('there is no kubelet.service unit (install the kubelet package, which ships the unit and its kubeadm drop-in)');
    return false;
  }
  const restart = await run(['restart', 'kubelet']);
  if (restart.exitCode !== 0) {
    warn(failed(['restart', 'kubelet'], restart));
    return false;
  }
  return true;
}

/**
 * Writes /var/lib/kubelet/kubeadm-flags.env, instance-config.yaml (when the version has NodeLocalCRISocket) and
 * config.yaml (0644): kubeadm's defaults, the config file's KubeletConfiguration, resolvConf for systemd-resolved,
 * the kubeletconfiguration patches, then the instance config. A file there that kubeboot did not write is copied
 * aside first (./replaced.ts). Keeps the KubeletConfiguration in the KUBELET_CONFIG slot.
 */
export async function renderKubeletFilesFor(ctx: NodeContext): Promise<import('../render/kubelet.js').KubeletFiles> {
  const [{ renderKubeletFiles }, { loadKubeletTemplate }] = await Promise.all([import('../render/kubelet.js'), import('./templates.js')]);
  const template = await loadKubeletTemplate();
  const patch = await kubeletPatches(ctx);
  return renderKubeletFiles({ spec: ctx.spec, hostname: ctx.host.hostname, systemdResolved: ctx.host.systemdResolved, template, ...(patch ? { patch } : {}) });
}

export async function writeKubeletFiles(ctx: NodeContext, tag: string): Promise<void> {
  const { keepBeforeReplacing } = await import('./replaced.js');
  const files = await renderKubeletFilesFor(ctx);
  for (const w of files.warnings) ctx.out.warn(w);
  await ctx.fx.mkdir(ctx.spec.paths.kubeletDir, 0o700);
  // kubeadm overwrites these files whatever is there; kubeboot keeps a copy of one it did not write first
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
}

/** The KubeletConfiguration in force: this run's, else the file on disk, else what kubelet-start would write. */
export async function kubeletConfigInForce(ctx: NodeContext): Promise<Readonly<Record<string, unknown>>> {
  const fromRun = ctx.slots.get(KUBELET_CONFIG);
  if (fromRun) return fromRun;
  const path = kubeletConfigPath(ctx.spec);
  const text = (await ctx.fx.readFile(path))?.toString('utf8');
  const { parseYaml } = await import('../render/yaml.js');
  if (text !== undefined) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch {
      doc = undefined;
    }
    if (doc && typeof doc === 'object' && !Array.isArray(doc)) return doc as Record<string, unknown>;
    ctx.out.warn(`${path} is not a YAML mapping; using the kubelet configuration kubeboot would write`);
  }
  const [{ renderKubeletFiles }, { loadKubeletTemplate }] = await Promise.all([import('../render/kubelet.js'), import('./templates.js')]);
  return renderKubeletFiles({ spec: ctx.spec, hostname: ctx.host.hostname, systemdResolved: ctx.host.systemdResolved, template: await loadKubeletTemplate() }).configObject;
}

/** The kubelet's healthz URL from the KubeletConfiguration in force; undefined when healthzPort is 0. */
export async function kubeletHealthzUrl(ctx: NodeContext): Promise<string | undefined> {
  const [{ kubeletHealthzEndpoint }, { joinHostPort }] = await Promise.all([import('../render/kubelet.js'), import('../util/net.js')]);
  const hz = kubeletHealthzEndpoint((await kubeletConfigInForce(ctx)) as Record<string, unknown>);
  return hz.port === 0 ? undefined : `http://${joinHostPort(hz.host, hz.port)}/healthz`;
}
