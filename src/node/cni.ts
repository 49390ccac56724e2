/**
 * The one-node pod network on this node (issue 12): where the container runtime reads CNI configurations and looks
 * for plugins, the checks before writing (the plugins are there; no CNI configuration kubeboot did not write), and
 * the write itself (render/cni.ts's conflist, through the ledger, so that reset removes it).
 *
 * Where the runtime looks is the runtime's own answer: `crictl info` reports containerd's CNI settings
 * (config.cni.binDirs / binDir and confDir). Without crictl, or with a runtime that does not say, kubeboot takes
 * containerd's defaults (/opt/cni/bin, /etc/cni/net.d) and says so. Under --root the node's files are under the root,
 * but the plugins and the runtime are the host's: the plugin check is skipped, as the other host-binary checks are.
 */
import { OperationError, PreflightError } from '../errors.js';
import { CNI_BRIDGE, CNI_CONF_FILE, CNI_PLUGINS, bridgeConflist } from '../render/cni.js';
import type { NodeContext } from './context.js';
import { readLedger } from './state.js';

/** containerd's defaults (and the CNI convention) */
export const DEFAULT_CNI_BIN_DIRS = ['/opt/cni/bin'] as const;
export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';
/** where Debian's containernetworking-plugins package installs the plugins (named in the hint) */
export const DEBIAN_CNI_BIN_DIR = '/usr/lib/cni';

export interface CniPaths {
  readonly binDirs: readonly string[];
  readonly confDir: string;
  /** where the answer came from, for the messages */
  readonly source: string;
}

/** The runtime's CNI directories from `crictl info`'s JSON (containerd 1.7: binDir; 2.x: binDirs), or undefined. */
export function cniPathsFromCriInfo(json: string): { binDirs: string[]; confDir: string } | undefined {
  let info: unknown;
  try {
    info = JSON.parse(json);
  } catch {
    return undefined;
  }
  const cni = (info as { config?: { cni?: { binDirs?: unknown; binDir?: unknown; confDir?: unknown } } })?.config?.cni;
  if (!cni) return undefined;
  const dirs = Array.isArray(cni.binDirs) ? cni.binDirs.filter((d): d is string => typeof d === 'string' && d !== '') : [];
  if (dirs.length === 0 && typeof cni.binDir === 'string' && cni.binDir !== '') dirs.push(cni.binDir);
  const confDir = typeof cni.confDir === 'string' && cni.confDir !== '' ? cni.confDir : DEFAULT_CNI_CONF_DIR;
  return { binDirs: dirs.length > 0 ? dirs : [...DEFAULT_CNI_BIN_DIRS], confDir };
}

/** Where this node's runtime looks for CNI plugins and configurations. */
export async function cniPaths(ctx: NodeContext): Promise<CniPaths> {
  const defaults = { binDirs: [...DEFAULT_CNI_BIN_DIRS], confDir: DEFAULT_CNI_CONF_DIR };
  if (ctx.options.root !== '') return { ...defaults, source: `containerd's defaults (under --root the host's runtime is not asked)` };
  if (!(await ctx.fx.which('crictl'))) return { ...defaults, source: "containerd's defaults (crictl is not on PATH to ask the runtime)" };
  try {
    const r = await ctx.fx.exec('crictl', ['--runtime-endpoint', ctx.spec.criSocket, 'info'], { timeoutMs: 10_000, readOnly: true });
    const found = r.exitCode === 0 ? cniPathsFromCriInfo(r.stdout) : undefined;
    if (found) return { ...found, source: `the runtime at ${ctx.spec.criSocket} (crictl info)` };
    return { ...defaults, source: `containerd's defaults (the runtime at ${ctx.spec.criSocket} did not report its CNI settings)` };
  } catch {
    return { ...defaults, source: `containerd's defaults (crictl info did not answer)` };
  }
}

const isCniConf = (name: string) => /\.(conf|conflist|json)$/.test(name) && !name.startsWith('.');

/**
 * What stands in the way of kubeboot's pod network, as messages (empty: nothing). Plugins missing from every
 * directory the runtime searches; a CNI configuration in its directory that kubeboot did not write (the runtime
 * would use whichever sorts first, and kubeboot never overwrites or outranks a file it did not write).
 */
export async function podNetworkProblems(ctx: NodeContext, paths: CniPaths): Promise<string[]> {
  const problems: string[] = [];
  if (ctx.options.root === '') {
    const missing: string[] = [];
    for (const plugin of CNI_PLUGINS) {
      let found = false;
      for (const dir of paths.binDirs) if ((await ctx.fx.stat(`${dir}/${plugin}`))?.kind === 'file') found = true;
      if (!found) missing.push(plugin);
    }
    if (missing.length > 0) {
      const debian = (await Promise.all(missing.map(async (p) => (await ctx.fx.stat(`${DEBIAN_CNI_BIN_DIR}/${p}`))?.kind === 'file'))).every(Boolean);
      problems.push(
        `the CNI plugins ${missing.join(', ')} are not in ${paths.binDirs.join(', ')} (where ${paths.source} looks)` +
          (debian
            ? `; they are in ${DEBIAN_CNI_BIN_DIR} (Debian's containernetworking-plugins): add ${DEBIAN_CNI_BIN_DIR} to the runtime's CNI plugin directories (containerd: bin_dirs under plugins."io.containerd.cri.v1.runtime".cni) and restart it`
            : `; install the standard CNI plugins (Debian: apt-get install containernetworking-plugins, which puts them in ${DEBIAN_CNI_BIN_DIR}; or the release tarball into /opt/cni/bin)`),
      );
    }
  }
  const ledger = await readLedger(ctx.fx);
  const ours = `${paths.confDir}/${CNI_CONF_FILE}`;
  const names = (await ctx.fx.listDir(paths.confDir)) ?? [];
  const foreign = names.filter(isCniConf).filter((n) => !(`${paths.confDir}/${n}` === ours && ledger.files[ours]));
  if (foreign.length > 0) {
    problems.push(
      `${paths.confDir} already holds a CNI configuration kubeboot did not write (${foreign.join(', ')}): the runtime uses the first one by name, and kubeboot does not replace or outrank it; remove it, or leave out the pod network and keep that one`,
    );
  }
  return problems;
}

/** The pod network phase: checks, then writes the conflist (unchanged when it already says the same). */
export async function writePodNetwork(ctx: NodeContext): Promise<void> {
  const podSubnet = ctx.spec.networking.podSubnet;
  if (podSubnet === '') throw new OperationError('the pod network needs a pod subnet', { hint: 'set --pod-network-cidr or networking.podSubnet' });
  const paths = await cniPaths(ctx);
  const problems = await podNetworkProblems(ctx, paths);
  if (problems.length > 0) throw new PreflightError('[pod-network] the one-node pod network cannot be set up', problems.map((p) => `[ERROR PodNetwork]: ${p}`));
  const file = `${paths.confDir}/${CNI_CONF_FILE}`;
  ctx.out.log('pod-network', `Writing the CNI configuration "${file}": a bridge "${CNI_BRIDGE}" with host-local addresses from ${podSubnet} (plugins from ${paths.binDirs.join(', ')}, as ${paths.source} says)`);
  const { writeFile } = await import('../workflow/files.js');
  await ctx.fx.mkdir(paths.confDir, 0o755);
  await writeFile(ctx, file, bridgeConflist(podSubnet), 0o644);
}
