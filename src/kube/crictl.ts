/** Asks the container runtime (crictl, when it is on PATH) about a control-plane container: its state and last log lines. */
import type { Effects } from '../effects/types.js';

export interface RuntimeContainer {
  readonly id: string;
  readonly state: string;
  readonly attempt: number | undefined;
  readonly logTail: readonly string[];
}

export const LOG_TAIL_LINES = 10;

/** The commands the user can run themselves (reference §5.1's hints, with the configured socket). */
export function crictlHints(criSocket: string): string[] {
  return [
    `crictl --runtime-endpoint ${criSocket} ps -a | grep kube | grep -v pause`,
    `crictl --runtime-endpoint ${criSocket} logs CONTAINERID`,
  ];
}

/**
 * `crictl ps -a --name <component> -o json` (the newest exited container, else the newest), then `crictl logs --tail N <id>`.
 * Returns undefined when crictl is absent or does not answer; never throws.
 */
export async function inspectContainer(
  fx: Effects,
  criSocket: string,
  component: string,
  timeoutMs = 5000,
): Promise<RuntimeContainer | undefined> {
  const bin = await fx.which('crictl');
  if (!bin) return undefined;
  try {
    const ps = await fx.exec('crictl', ['--runtime-endpoint', criSocket, 'ps', '-a', '--name', component, '-o', 'json'], { timeoutMs });
    if (ps.exitCode !== 0) return undefined;
    const parsed = JSON.parse(ps.stdout) as {
      containers?: { id?: string; state?: string; createdAt?: string; metadata?: { name?: string; attempt?: number } }[];
    };
    const list = (parsed.containers ?? []).filter((c) => typeof c.id === 'string' && (c.metadata?.name ?? component) === component);
    list.sort((a, b) => Number(b.createdAt ?? 0) - Number(a.createdAt ?? 0));
    // a crash-looping container: the last one that exited holds the logs that explain the crash
    const c = list.find((x) => x.state === 'CONTAINER_EXITED') ?? list[0];
    if (!c || !c.id) return undefined;
    const logs = await fx.exec('crictl', ['--runtime-endpoint', criSocket, 'logs', '--tail', String(LOG_TAIL_LINES), c.id], { timeoutMs });
    const text = `${logs.stdout}${logs.stderr}`;
    const logTail = text.split('\n').filter((l) => l.trim() !== '').slice(-LOG_TAIL_LINES);
    return { id: c.id, state: c.state ?? 'unknown', attempt: c.metadata?.attempt, logTail };
  } catch {
    return undefined;
  }
}

/**
 * The runtime's state of one container of a component (`crictl ps -a --name <component> -o json`, matched by id or
 * id prefix, a containerID's `containerd://` scheme aside): CONTAINER_RUNNING, CONTAINER_EXITED, …, or 'gone' when
 * the runtime answered and does not have it any more; undefined when crictl is absent or does not answer. Never
 * throws.
 */
export async function containerState(fx: Effects, criSocket: string, component: string, containerId: string, timeoutMs = 5000): Promise<string | undefined> {
  const id = containerId.replace(/^[a-z]+:\/\//, '');
  if (id === '' || !(await fx.which('crictl'))) return undefined;
  try {
    const ps = await fx.exec('crictl', ['--runtime-endpoint', criSocket, 'ps', '-a', '--name', component, '-o', 'json'], { timeoutMs, readOnly: true });
    if (ps.exitCode !== 0) return undefined;
    const parsed = JSON.parse(ps.stdout) as { containers?: { id?: string; state?: string }[] };
    const c = (parsed.containers ?? []).find((x) => typeof x.id === 'string' && (x.id.startsWith(id) || id.startsWith(x.id)));
    return c ? c.state : 'gone';
  } catch {
    return undefined;
  }
}

/** A pod sandbox as `crictl pods -o json` shows it. */
export interface PodSandbox {
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  /** SANDBOX_READY or SANDBOX_NOTREADY */
  readonly state: string;
}

/** How a sandbox is named in messages: `<namespace>/<name> (<12 hex of its id>)`. */
export function sandboxLabel(p: PodSandbox): string {
  return `${p.namespace}/${p.name} (${p.id.slice(0, 13)})`;
}

/** `crictl --runtime-endpoint <socket> …` */
export function crictlArgs(criSocket: string, ...args: string[]): string[] {
  return ['--runtime-endpoint', criSocket, ...args];
}

/** The command a user runs to remove every pod sandbox (and so every container) themselves. */
export function removeAllPodsCommand(criSocket: string): string {
  return `crictl --runtime-endpoint ${criSocket} rmp --all --force`;
}

/** The first line crictl printed on stderr (else stdout), for a message. */
function crictlMessage(r: { exitCode: number; stdout: string; stderr: string }): string {
  const line = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).find((l) => l !== '');
  return `exit ${r.exitCode}${line ? `: ${line}` : ''}`;
}

/**
 * Every pod sandbox the runtime's CRI lists (`crictl pods -o json`, read-only), sorted by namespace, name and id. Through
 * the CRI a runtime shows only Kubernetes' pods (containerd: its k8s.io namespace), as kubeadm's ListKubeContainers
 * relies on. Throws when crictl fails or prints something that is not its JSON.
 */
export async function listPodSandboxes(fx: Effects, criSocket: string, timeoutMs = 10_000): Promise<PodSandbox[]> {
  const args = crictlArgs(criSocket, 'pods', '-o', 'json');
  const r = await fx.exec('crictl', args, { timeoutMs, readOnly: true });
  if (r.exitCode !== 0) throw new Error(`'crictl ${args.join(' ')}' failed (${crictlMessage(r)})`);
  let parsed: { items?: { id?: unknown; state?: unknown; metadata?: { name?: unknown; namespace?: unknown } }[] };
  try {
    parsed = JSON.parse(r.stdout || '{}') as typeof parsed;
  } catch (err) {
    throw new Error(`'crictl ${args.join(' ')}' printed something that is not JSON (${(err as Error).message})`);
  }
  const pods = (parsed.items ?? [])
    .filter((p) => typeof p.id === 'string' && p.id !== '')
    .map((p) => ({
      id: p.id as string,
      name: typeof p.metadata?.name === 'string' ? p.metadata.name : '?',
      namespace: typeof p.metadata?.namespace === 'string' ? p.metadata.namespace : '?',
      state: typeof p.state === 'string' ? p.state : 'unknown',
    }));
  const key = (p: PodSandbox) => `${p.namespace}\u0000${p.name}\u0000${p.id}`;
  return pods.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export interface RemovalOutcome {
  readonly ok: boolean;
  readonly attempts: number;
  /** the last failure, when !ok */
  readonly error?: string;
}

/**
 * Stops and removes one pod sandbox (`crictl stopp <id>`, then `crictl rmp <id>`): its containers go with it. Like
 * kubeadm's RemoveContainers, an attempt that fails at either step is retried, up to `tries` attempts in all, with a
 * short pause between them. Never throws.
 */
export async function removePodSandbox(
  fx: Effects,
  criSocket: string,
  id: string,
  opts: { readonly tries?: number; readonly pauseMs?: number; readonly timeoutMs?: number } = {},
): Promise<RemovalOutcome> {
  const tries = opts.tries ?? 5;
  let error = '';
  for (let attempt = 1; attempt <= tries; attempt++) {
    if (attempt > 1) await fx.sleep(opts.pauseMs ?? 250);
    const step = async (verb: 'stopp' | 'rmp'): Promise<string | undefined> => {
      const args = crictlArgs(criSocket, verb, id);
      try {
        const r = await fx.exec('crictl', args, { timeoutMs: opts.timeoutMs ?? 30_000 });
        return r.exitCode === 0 ? undefined : `'crictl ${verb} ${id}' failed (${crictlMessage(r)})`;
      } catch (err) {
        return `'crictl ${verb} ${id}' did not run (${(err as Error).message})`;
      }
    };
    const failed = (await step('stopp')) ?? (await step('rmp'));
    if (failed === undefined) return { ok: true, attempts: attempt };
    error = failed;
  }
  return { ok: false, attempts: tries, error };
}
