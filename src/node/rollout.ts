/**
 * Changing one control-plane component on a node kubeboot set up: the shared "swap + wait + rollback" path of
 * `kubeboot regenerate`, `kubeboot restart`, an init that finds a manifest to change, and (later)
 * `kubeboot certs renew --restart`, which calls restartComponents().
 *
 *  - loadNodeSpec: the configuration to render with: --config's text, else the one init recorded at
 *    /etc/kubernetes/kubeboot/config.yaml (RECORDED_CONFIG); extra args merged over the component's extraArgs.
 *  - applyManifest: reads the mirror pod, then src/kube/rollout.ts's swapStaticPod (backup, atomic write, wait for a
 *    new Ready container, rollback on timeout).
 *  - restartComponents: sets the restart annotation (kubeboot.kubernetes.io/restartedAt) in each manifest, which
 *    changes its bytes and so the pod's config hash, and applies it through applyManifest: the kubelet recreates the
 *    pod; no configuration change, no fixed sleep.
 *
 * Light at import time: no zod, no diff, no listr2 here; the config parser is loaded by loadNodeSpec only.
 */
import type { Arg, ClusterSpec } from '../config/spec.js';
import type { HostFacts } from '../effects/host.js';
import type { Effects } from '../effects/types.js';
import { PreflightError, OperationError, errorMessage } from '../errors.js';
import type { ApiClient } from '../kube/api.js';
import type { MirrorRead, SwapResult, SwapSink } from './swap.js';
import type { StaticPodComponent } from '../render/templates.js';
import { LEDGER, RECORDED_CONFIG } from './state.js';
import type { Output } from '../workflow/events.js';

/** render/manifests.ts's RESTART_ANNOTATION (repeated here to keep this module light at import time) */
const RESTART_ANNOTATION_NAME = 'kubeboot.kubernetes.io/restartedAt';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const satisfies readonly StaticPodComponent[];

export function isComponent(name: string): name is StaticPodComponent {
  return (COMPONENTS as readonly string[]).includes(name);
}

/** The node name the kubelet registers with (a hostname-override kubelet flag wins), lowercased as mirror pod names are. */
export function kubeletNodeName(spec: ClusterSpec): string {
  const o = [...spec.kubeletExtraArgs].reverse().find((a) => a.name === 'hostname-override');
  return (o ? o.value : spec.nodeName).toLowerCase();
}

export function mirrorPodName(spec: ClusterSpec, component: string): string {
  return `${component}-${kubeletNodeName(spec)}`;
}

export function manifestPathOf(spec: ClusterSpec, component: string): string {
  return `${spec.paths.manifestsDir}/${component}.yaml`;
}

/** Whether kubeboot set this node up: its recorded configuration and its ledger of written files. */
export async function nodeState(fx: Effects): Promise<{ recorded: boolean; ledger: boolean }> {
  const [r, l] = await Promise.all([fx.stat(RECORDED_CONFIG), fx.stat(LEDGER)]);
  return { recorded: r?.kind === 'file', ledger: l?.kind === 'file' };
}

export interface NodeSpec {
  readonly spec: ClusterSpec;
  readonly warnings: readonly string[];
  /** where the configuration came from (a path) */
  readonly source: string;
  readonly fromRecorded: boolean;
}

/**
 * The configuration to render with. Refuses (exit 2) on a node kubeboot did not set up: without --config the recorded
 * configuration must exist; with --config, the recorded configuration or the ledger must.
 */
export async function loadNodeSpec(
  fx: Effects,
  host: HostFacts,
  command: string,
  file: { path: string; text: string } | undefined,
  extra: { component: StaticPodComponent; args: readonly Arg[] } | undefined,
): Promise<NodeSpec> {
  const state = await nodeState(fx);
  const where = fx.describe === 'host' ? '' : ` (under ${fx.realPath('/')})`;
  if (!file && !state.recorded) {
    throw new PreflightError(
      `this node was not set up by kubeboot: ${RECORDED_CONFIG}${where} does not exist${state.ledger ? ` (the ledger ${LEDGER} does, so give the configuration with --config)` : ''}`,
      [],
      { hint: `run 'kubeboot init' first, or 'kubeboot ${command} --config FILE' with the configuration this node was set up with` },
    );
  }
  if (file && !state.recorded && !state.ledger) {
    throw new PreflightError(`this node was not set up by kubeboot: neither ${RECORDED_CONFIG} nor ${LEDGER} exists${where}`, [], {
      hint: `kubeboot ${command} changes a control plane that 'kubeboot init' set up; run init first`,
    });
  }
  let source: { path: string; text: string };
  if (file) source = file;
  else {
    const raw = await fx.readFile(RECORDED_CONFIG);
    if (!raw) throw new PreflightError(`this node was not set up by kubeboot: ${RECORDED_CONFIG}${where} does not exist`);
    source = { path: RECORDED_CONFIG, text: raw.toString('utf8') };
  }
  const { parseConfigText, buildSpec } = await import('../config/load.js');
  const parsed = await parseConfigText(source.text, source.path);
  const flags = extra && extra.args.length > 0 ? flagsFor(extra.component, extra.args) : {};
  const built = buildSpec(parsed, flags, host, source.path);
  return { spec: built.spec, warnings: [...parsed.warnings, ...built.warnings], source: source.path, fromRecorded: !file };
}

function flagsFor(component: StaticPodComponent, args: readonly Arg[]) {
  const list = [...args];
  switch (component) {
    case 'etcd':
      return { etcdExtraArgs: list };
    case 'kube-apiserver':
      return { apiserverExtraArgs: list };
    case 'kube-controller-manager':
      return { controllerManagerExtraArgs: list };
    case 'kube-scheduler':
      return { schedulerExtraArgs: list };
  }
}

export interface ApiAccess {
  readonly client: ApiClient;
  readonly superAdmin: () => Promise<ApiClient | undefined>;
}

/** The API server through admin.conf (super-admin.conf when admin.conf gets 403); undefined when admin.conf is missing. */
export async function openApi(fx: Effects, spec: ClusterSpec): Promise<ApiAccess | undefined> {
  const [{ parseKubeconfig }, { ApiClient }] = await Promise.all([import('../kube/kubeconfig.js'), import('../kube/api.js')]);
  const read = async (p: string) => (await fx.readFile(p))?.toString('utf8');
  const load = async (path: string) => {
    const text = await read(path);
    return text === undefined ? undefined : parseKubeconfig(text, path, read);
  };
  const adminPath = `${spec.paths.kubernetesDir}/admin.conf`;
  const superPath = `${spec.paths.kubernetesDir}/super-admin.conf`;
  let admin;
  try {
    admin = await load(adminPath);
  } catch (err) {
    throw new OperationError(`cannot read ${adminPath}: ${errorMessage(err)}`);
  }
  if (!admin) return undefined;
  let superClient: ApiClient | undefined | null = null;
  return {
    client: new ApiClient(fx, admin, adminPath),
    superAdmin: async () => {
      if (superClient === null) {
        const c = await load(superPath).catch(() => undefined);
        superClient = c ? new ApiClient(fx, c, superPath) : undefined;
      }
      return superClient;
    },
  };
}

/** The Output as the swap's sink ([tag] lines, wait events, file events, warnings). */
export function swapSink(out: Output, onFile?: (path: string, mode: number, status: 'written' | 'backed-up') => void): SwapSink {
  return {
    log: (tag, message) => out.log(tag, message),
    event: (e) => out.emit({ type: 'wait', ...e }),
    file: (path, mode, status) => {
      out.file(path, mode, status);
      onFile?.(path, mode, status);
    },
    warn: (m) => out.warn(m),
  };
}

export interface ApplyOptions {
  readonly fx: Effects;
  readonly spec: ClusterSpec;
  readonly out: Output;
  readonly component: StaticPodComponent;
  readonly oldContent: Buffer;
  readonly newContent: string;
  readonly timeoutMs?: number;
  readonly rollback?: boolean;
  readonly api?: ApiAccess;
  readonly before?: MirrorRead;
  readonly signal?: AbortSignal;
  readonly tag?: string;
  readonly onFile?: (path: string, mode: number, status: 'written' | 'backed-up') => void;
}

/** Applies one new manifest through the safe swap. Needs admin.conf (exit 2 without it). */
export async function applyManifest(o: ApplyOptions): Promise<SwapResult> {
  const api = o.api ?? (await openApi(o.fx, o.spec));
  if (!api) {
    throw new PreflightError(`cannot confirm the change of ${o.component}: ${o.spec.paths.kubernetesDir}/admin.conf does not exist`, [], {
      hint: 'the mirror pod is read from the API server with admin.conf; run kubeboot init phase kubeconfig admin',
    });
  }
  const [{ swapStaticPod }, { MANIFEST_MODE }] = await Promise.all([import('./swap.js'), import('../render/manifests.js')]);
  return swapStaticPod(
    o.fx,
    {
      component: o.component,
      manifestPath: manifestPathOf(o.spec, o.component),
      manifestsDir: o.spec.paths.manifestsDir,
      oldContent: o.oldContent,
      newContent: o.newContent,
      mode: MANIFEST_MODE,
      tmpDir: o.spec.paths.tmpDir,
      podName: mirrorPodName(o.spec, o.component),
      criSocket: o.spec.criSocket,
      client: api.client,
      superAdmin: api.superAdmin,
      timeoutMs: o.timeoutMs ?? o.spec.timeouts.controlPlaneComponentHealthCheckMs,
      rollback: o.rollback ?? true,
      ...(o.before ? { before: o.before } : {}),
      ...(o.tag ? { tag: o.tag } : {}),
    },
    swapSink(o.out, o.onFile),
    o.signal,
  );
}

/** The init phase command that writes a component's manifest. */
export function initPhaseFor(component: StaticPodComponent): string {
  return component === 'etcd' ? 'kubeboot init phase etcd local' : `kubeboot init phase control-plane ${component.replace(/^kube-/, '')}`;
}

/** An RFC 3339 time with milliseconds (two restarts in one second still differ). */
export function restartStamp(now: Date): string {
  return now.toISOString();
}

/** The manifest with a new restart annotation; PreflightError when it does not exist, OperationError when it is no Pod. */
export async function restartedManifest(fx: Effects, spec: ClusterSpec, component: StaticPodComponent, stamp: string): Promise<{ old: Buffer; next: string }> {
  const path = manifestPathOf(spec, component);
  const old = await fx.readFile(path);
  if (!old) {
    throw new PreflightError(`the static Pod manifest of ${component} does not exist: ${path}`, [], {
      hint: `kubeboot changes components it set up; create the manifest with '${initPhaseFor(component)}'`,
    });
  }
  const { withRestartAnnotation } = await import('../render/manifests.js');
  let next: string;
  try {
    next = withRestartAnnotation(old.toString('utf8'), stamp, component);
  } catch (err) {
    throw new OperationError(`${path} is not a static Pod manifest kubeboot can restart: ${errorMessage(err).replace(/^the patched static Pod manifest for "[^"]+" is not a valid Pod: /, '')}`);
  }
  return { old, next };
}

export interface RestartOptions {
  readonly fx: Effects;
  readonly spec: ClusterSpec;
  readonly out: Output;
  /** restarted one after another, in the order given (kubeadm's order is etcd, kube-apiserver, KCM, scheduler) */
  readonly components: readonly StaticPodComponent[];
  /** per component (default timeouts.controlPlaneComponentHealthCheck) */
  readonly timeoutMs?: number;
  readonly rollback?: boolean;
  readonly signal?: AbortSignal;
  /** the annotation value to set (default: now, RFC 3339 with milliseconds) */
  readonly restartedAt?: string;
  /** called for every file written (the ledger) */
  readonly onFile?: (path: string, mode: number, status: 'written' | 'backed-up') => void;
}

export interface RestartResult {
  readonly component: StaticPodComponent;
  readonly restartedAt: string;
  readonly swap: SwapResult;
}

/**
 * Makes the kubelet recreate each component's static pod and waits for its new container to be Ready (exported for
 * `kubeboot certs renew --restart`). Stops at the first component that does not come back (WaitTimeoutError, exit 4,
 * after restoring its previous manifest unless rollback is false).
 */
export async function restartComponents(o: RestartOptions): Promise<RestartResult[]> {
  const api = await openApi(o.fx, o.spec);
  const results: RestartResult[] = [];
  for (const component of o.components) {
    const stamp = o.restartedAt ?? restartStamp(o.fx.now());
    const { old, next } = await restartedManifest(o.fx, o.spec, component, stamp);
    o.out.log('restart', `Restarting ${component}: setting the annotation ${RESTART_ANNOTATION_NAME}=${stamp} in "${manifestPathOf(o.spec, component)}"`);
    const swap = await applyManifest({
      fx: o.fx,
      spec: o.spec,
      out: o.out,
      component,
      oldContent: old,
      newContent: next,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.rollback !== undefined ? { rollback: o.rollback } : {}),
      ...(api ? { api } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onFile ? { onFile: o.onFile } : {}),
      tag: 'restart',
    });
    results.push({ component, restartedAt: stamp, swap });
  }
  return results;
}
