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
