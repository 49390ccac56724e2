/**
 * Mirror pods of the control plane as the API server reports them: what each one looks like now, what changed since
 * the last look (the lines that explain a wait), and when they are all Ready.
 */
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const HASH_ANNOTATION = 'kubernetes.io/config.hash';

export interface TerminationView {
  readonly exitCode: number | undefined;
  readonly reason: string | undefined;
  readonly finishedAt?: string | undefined;
}

export interface ContainerView {
  readonly name: string;
  readonly state: 'running' | 'waiting' | 'terminated' | 'unknown';
  readonly reason: string | undefined;
  readonly restartCount: number;
  readonly ready: boolean;
  readonly started: boolean;
  readonly containerID: string | undefined;
  readonly lastTerminated: TerminationView | undefined;
  /** state.running.startedAt (RFC 3339), when running */
  readonly startedAt?: string | undefined;
}

export interface PodView {
  readonly name: string;
  readonly found: boolean;
  readonly mirror: boolean;
  readonly hash: string | undefined;
  readonly phase: string | undefined;
  readonly ready: boolean;
  readonly containers: readonly ContainerView[];
}

export interface PodChange {
  readonly target: string;
  readonly status: 'progress' | 'ready';
  readonly message: string;
  readonly data: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const n = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

export function missingPod(name: string): PodView {
  return { name, found: false, mirror: false, hash: undefined, phase: undefined, ready: false, containers: [] };
}

export function viewPod(pod: unknown): PodView {
  const meta = o(o(pod).metadata);
  const ann = o(meta.annotations);
  const status = o(o(pod).status);
  const conditions = Array.isArray(status.conditions) ? (status.conditions as unknown[]).map(o) : [];
  const ready = conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  const statuses = Array.isArray(status.containerStatuses) ? (status.containerStatuses as unknown[]).map(o) : [];
  const containers: ContainerView[] = statuses.map((c) => {
    const st = o(c.state);
    const kind = st.running ? 'running' : st.waiting ? 'waiting' : st.terminated ? 'terminated' : 'unknown';
    const reason = kind === 'waiting' ? s(o(st.waiting).reason) : kind === 'terminated' ? s(o(st.terminated).reason) : undefined;
    const last = o(o(c.lastState).terminated);
    const lastTerminated =
      Object.keys(last).length > 0 ? { exitCode: n(last.exitCode), reason: s(last.reason), finishedAt: s(last.finishedAt) } : undefined;
    return {
      name: s(c.name) ?? '?',
      state: kind,
      reason,
      restartCount: n(c.restartCount) ?? 0,
      ready: c.ready === true,
      started: c.started === true,
      containerID: s(c.containerID),
      lastTerminated,
      startedAt: kind === 'running' ? s(o(st.running).startedAt) : undefined,
    };
  });
  return {
    name: s(meta.name) ?? '?',
    found: true,
    mirror: typeof ann[MIRROR_ANNOTATION] === 'string',
    hash: s(ann[HASH_ANNOTATION]) ?? s(ann[MIRROR_ANNOTATION]),
    phase: s(status.phase),
    ready,
    containers,
  };
}

/**
 * A restart count with no crash behind it. The kubelet numbers a container that has no earlier container in the
 * runtime from the log files under /var/log/pods/<namespace>_<pod>_<uid>/<container>/ (0.log, 1.log, …), and a static
 * pod's UID is its manifest's hash: after a reset, an init with the same manifest starts the new container at the old
 * count, with no last termination to show (until the kubelet's garbage collection removes the old logs).
 */
export function carriedRestartCount(c: ContainerView): boolean {
  return c.restartCount > 0 && c.lastTerminated === undefined && c.state !== 'terminated';
}

function restartText(c: ContainerView): string {
  return carriedRestartCount(c)
    ? `restart count ${c.restartCount} carried over from earlier logs of this pod (no crash)`
    : `restarted ${c.restartCount} time${c.restartCount === 1 ? '' : 's'}`;
}

export function isPodDone(v: PodView): boolean {
  return v.found && v.mirror && v.ready;
}

function termText(t: TerminationView): string {
  return `${t.reason ?? 'terminated'}, exit code ${t.exitCode ?? '?'}`;
}

function stateText(c: ContainerView): string {
  return c.reason ? `${c.state} (${c.reason})` : c.state;
}

/** One line about a pod that is not done yet: what is wrong with it. */
export function describePod(v: PodView): string {
  if (!v.found) return `${v.name}: no such pod in kube-system yet (the kubelet has not created the mirror pod)`;
  if (!v.mirror) return `${v.name}: exists but is not a mirror pod (no ${MIRROR_ANNOTATION} annotation)`;
  const parts: string[] = [];
  for (const c of v.containers) {
    let t = `container ${c.name} ${stateText(c)}`;
    if (c.restartCount > 0) t += `, ${restartText(c)}`;
    if (c.lastTerminated) t += `, last termination: ${termText(c.lastTerminated)}`;
    if (c.state === 'running' && !c.ready) t += ', not ready';
    parts.push(t);
  }
  if (v.containers.length === 0) parts.push('no container status yet');
  return `${v.name}: ${v.ready ? 'Ready' : 'not Ready'}${v.phase ? ` (phase ${v.phase})` : ''}; ${parts.join('; ')}`;
}

/** What changed between two looks at the same pod (prev undefined: first look). */
export function podChanges(prev: PodView | undefined, cur: PodView): PodChange[] {
  const out: PodChange[] = [];
  const target = cur.name;
  if (!cur.found) {
    if (prev?.found) out.push({ target, status: 'progress', message: `mirror pod kube-system/${target} disappeared`, data: { event: 'pod-deleted' } });
    return out;
  }
  if (!prev?.found || prev.hash !== cur.hash) {
    out.push({
      target,
      status: 'progress',
      message: `mirror pod kube-system/${target} ${prev?.found ? 'was replaced' : 'appeared'} (config hash ${cur.hash ?? 'unknown'})`,
      data: { event: 'pod-seen', hash: cur.hash ?? null, mirror: cur.mirror },
    });
  }
  for (const c of cur.containers) {
    const p = prev?.found ? prev.containers.find((x) => x.name === c.name) : undefined;
    // first seen in this pod (a replaced pod's containers are new ones)
    if ((!p || prev?.hash !== cur.hash) && carriedRestartCount(c)) {
      out.push({
        target,
        status: 'progress',
        message: `container ${c.name} of ${target}: ${restartText(c)}`,
        data: { event: 'restart-count-carried', container: c.name, restartCount: c.restartCount },
      });
    } else if (c.restartCount > (p?.restartCount ?? 0)) {
      const last = c.lastTerminated ? `; last termination: ${termText(c.lastTerminated)}` : '';
      out.push({
        target,
        status: 'progress',
        message: `container ${c.name} of ${target} restarted ${c.restartCount} time${c.restartCount === 1 ? '' : 's'}${last}`,
        data: {
          event: 'container-restarted',
          container: c.name,
          restartCount: c.restartCount,
          exitCode: c.lastTerminated?.exitCode ?? null,
          reason: c.lastTerminated?.reason ?? null,
        },
      });
    }
    // state changes, except the running ↔ CrashLoopBackOff flips of a crash loop (the restart line says it)
    const flip = p !== undefined && c.restartCount > 0 && [p, c].every((x) => x.state === 'running' || x.reason === 'CrashLoopBackOff');
    if ((!p || p.state !== c.state || p.reason !== c.reason) && !flip) {
      out.push({
        target,
        status: 'progress',
        message: `container ${c.name} of ${target} is ${stateText(c)}`,
        data: { event: 'container-state', container: c.name, state: c.state, reason: c.reason ?? null },
      });
    }
  }
  const wasReady = prev?.found === true && prev.ready && prev.mirror;
  if (isPodDone(cur) && !wasReady) {
    out.push({ target, status: 'ready', message: `mirror pod kube-system/${target} is Ready`, data: { event: 'pod-ready' } });
  } else if (!cur.ready && wasReady) {
    out.push({ target, status: 'progress', message: `mirror pod kube-system/${target} is no longer Ready`, data: { event: 'pod-not-ready' } });
  }
  return out;
}

/** A container that has restarted or is waiting after a failure: worth asking the runtime about. */
export function crashingContainers(v: PodView): ContainerView[] {
  return v.containers.filter((c) => (c.restartCount > 0 && !carriedRestartCount(c)) || (c.state === 'waiting' && c.reason === 'CrashLoopBackOff') || c.state === 'terminated');
}
