/**
 * wait-control-plane's engine: waits in parallel for the kubelet's healthz, each component's health endpoint and the
 * mirror pods, says what changes while it waits, and on timeout says which target failed, with what, and what to run.
 * Everything goes through the injected effects (HTTP, exec, clock, sleep), so unit tests run on a manual clock.
 */
import type { Effects } from '../effects/types.js';
import { WaitTimeoutError } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import { ApiClient, ensureClusterAdmins, statusMessage, CLUSTER_ADMINS } from './api.js';
import { crictlHints, inspectContainer, type RuntimeContainer } from './crictl.js';
import type { ComponentEndpoint } from './endpoints.js';
import { crashingContainers, describePod, isPodDone, missingPod, podChanges, viewPod, type PodView } from './mirror-pods.js';
import { Nudger, poll, requestTimeout, type PollResult, type ProbeOutcome } from './wait.js';

/**
 * Health endpoints are polled every 100 ms (kubeadm: 500 ms). The pod list is read every 50 ms while pods are missing
 * or their containers are not running, and every 10 ms once every pod only lacks readiness, so that init ends soon
 * after the last pod is Ready without hammering a starting API server for minutes.
 */
export const HEALTH_INTERVAL_MS = 100;
export const POD_INTERVAL_MS = 10;
export const POD_SLOW_INTERVAL_MS = 50;
/** How long a kubelet that kubeboot did not start has to answer once before the wait gives up on it. */
export const KUBELET_GRACE_MS = 15_000;
/** the most crictl look-ups per container during one wait */
const CRICTL_LOOKUPS_PER_CONTAINER = 3;

export type WaitGroup = 'kubelet' | 'components' | 'mirror-pods';

export interface WaitEvent {
  readonly target: string;
  readonly status: 'waiting' | 'progress' | 'ready' | 'failed';
  readonly message: string;
  readonly data?: Record<string, unknown>;
}

export interface WaitSink {
  /** a kubeadm-style line: [tag] message */
  log(tag: string, message: string): void;
  /** a wait event (text: "[wait] message"; JSON: one object) */
  event(e: WaitEvent): void;
}

export interface WaitPlan {
  readonly manifestsDir: string;
  readonly criSocket: string;
  /**
   * undefined: not waited for; { url: undefined }: healthzPort 0, skipped. `notStarted`: kubeboot did not start a
   * kubelet in this run (why, e.g. "the files were written under --root"): then nothing else can succeed unless a
   * kubelet already runs, so when the healthz has not answered once within `graceMs` the whole wait ends at once.
   */
  readonly kubelet?: { readonly url: string | undefined; readonly timeoutMs: number; readonly notStarted?: string; readonly graceMs?: number };
  readonly components?: { readonly endpoints: readonly ComponentEndpoint[]; readonly timeoutMs: number };
  readonly mirrorPods?: {
    readonly podNames: readonly string[];
    /** the component each pod runs (for crictl) */
    readonly componentOf: Readonly<Record<string, string>>;
    readonly admin: ApiClient;
    readonly superAdmin: () => Promise<ApiClient | undefined>;
    readonly timeoutMs: number;
  };
  readonly healthIntervalMs?: number;
  readonly podIntervalMs?: number;
  readonly podSlowIntervalMs?: number;
}

export interface TargetReport extends PollResult {
  readonly group: WaitGroup;
  readonly url?: string;
  readonly timeoutMs: number;
  /** the kubelet target: why kubeboot did not start a kubelet in this run */
  readonly notStarted?: string;
}

export interface WaitReport {
  readonly ok: boolean;
  readonly targets: readonly TargetReport[];
  readonly pods: readonly PodView[];
  readonly runtime: Readonly<Record<string, RuntimeContainer>>;
}

/** An HTTP client error as one line: the URL, the error code when the message lacks it, and the message. */
export function httpError(url: string, err: unknown): string {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  return `${url}: ${e?.code && !msg.includes(e.code) ? `${e.code}: ` : ''}${msg}`;
}

/** One GET of a health endpoint (at most 2 s, less when less remains); 200 is healthy. `kubeboot status` makes the same probe. */
export async function healthProbe(fx: Effects, url: string, insecure: boolean, remainingMs: number): Promise<ProbeOutcome> {
  try {
    const r = await fx.http({ url, insecure, timeoutMs: requestTimeout(remainingMs, 2000) });
    if (r.status === 200) return { ok: true };
    return { ok: false, error: `${url} returned status ${r.status}${r.body.trim() ? `: ${r.body.trim().slice(0, 200)}` : ''}` };
  } catch (err) {
    return { ok: false, error: httpError(url, err) };
  }
}

export async function waitForControlPlane(fx: Effects, plan: WaitPlan, sink: WaitSink, outer?: AbortSignal): Promise<WaitReport> {
  // the others' polls stop with the outer signal (Ctrl-C), or when no kubelet can ever run the pods (see plan.kubelet)
  const noKubelet = new AbortController();
  const signal = outer ? AbortSignal.any([outer, noKubelet.signal]) : noKubelet.signal;
  const healthInterval = plan.healthIntervalMs ?? HEALTH_INTERVAL_MS;
  const podInterval = plan.podIntervalMs ?? POD_INTERVAL_MS;
  const jobs: Promise<TargetReport>[] = [];
  const pods = new Map<string, PodView>();
  const runtime: Record<string, RuntimeContainer> = {};
  // when a component's mirror pod turns Ready, its health endpoint is checked again at once (not at the next interval)
  const nudgers = new Map<string, Nudger>();

  sink.log('wait-control-plane', `Waiting for the kubelet to boot up the control plane as static Pods from directory "${plan.manifestsDir}"`);

  // --- the kubelet
  if (plan.kubelet) {
    const { url, timeoutMs } = plan.kubelet;
    if (url === undefined) {
      sink.log('kubelet-check', 'Skipping the kubelet health check: healthzPort is 0 in the kubelet configuration');
    } else {
      const notStarted = plan.kubelet.notStarted;
      const limit = notStarted !== undefined ? Math.min(timeoutMs, plan.kubelet.graceMs ?? KUBELET_GRACE_MS) : timeoutMs;
      sink.log(
        'kubelet-check',
        notStarted !== undefined
          ? `Waiting for a running kubelet at ${url} (kubeboot did not start one: ${notStarted}). This can take up to ${formatDuration(limit)}`
          : `Waiting for a healthy kubelet at ${url}. This can take up to ${formatDuration(timeoutMs)}`,
      );
      jobs.push(
        poll(
          fx,
          {
            name: 'kubelet',
            timeoutMs: limit,
            intervalMs: healthInterval,
            probe: (rem) => healthProbe(fx, url, false, rem),
          },
          outer,
        ).then((r) => {
          if (r.ok) {
            sink.log('kubelet-check', `The kubelet is healthy after ${formatDuration(r.elapsedMs)}`);
            sink.event({ target: 'kubelet', status: 'ready', message: `the kubelet is up (${url})`, data: { url, elapsedMs: r.elapsedMs } });
          } else {
            sink.log('kubelet-check', `The kubelet is not healthy after ${formatDuration(r.elapsedMs)}`);
            // nothing will run the static pods: the other targets cannot succeed, so they end now
            if (notStarted !== undefined && !outer?.aborted) noKubelet.abort('no kubelet');
          }
          return { ...r, group: 'kubelet' as const, url, timeoutMs: limit, ...(notStarted !== undefined ? { notStarted } : {}) };
        }),
      );
    }
  }

  // --- the components' health endpoints
  if (plan.components) {
    const { endpoints, timeoutMs } = plan.components;
    sink.log('control-plane-check', `Waiting for healthy control plane components. This can take up to ${formatDuration(timeoutMs)}`);
    for (const ep of endpoints) sink.log('control-plane-check', `Checking ${ep.name} at ${ep.url}`);
    for (const ep of endpoints) {
      jobs.push(
        poll(
          fx,
          {
            name: ep.name,
            timeoutMs,
            intervalMs: healthInterval,
            probe: (rem) => healthProbe(fx, ep.url, ep.insecure, rem),
            nudger: nudgers.set(ep.name, new Nudger()).get(ep.name),
          },
          signal,
        ).then((r) => {
          sink.log('control-plane-check', `${ep.name} is ${r.ok ? '' : 'not '}healthy after ${formatDuration(r.elapsedMs)}`);
          if (r.ok) sink.event({ target: ep.name, status: 'ready', message: `${ep.name} is healthy (${ep.url})`, data: { url: ep.url, elapsedMs: r.elapsedMs } });
          return { ...r, group: 'components' as const, url: ep.url, timeoutMs };
        }),
      );
    }
  }

  // --- the mirror pods, read from the API server with admin.conf
  if (plan.mirrorPods) {
    const mp = plan.mirrorPods;
    const lookups = new Map<string, { count: number; restartCount: number }>();
    let bindingReady = false;
    sink.log(
      'mirror-pods',
      `Waiting for the mirror pods ${mp.podNames.join(', ')} in kube-system to be Ready. This can take up to ${formatDuration(mp.timeoutMs)}`,
    );
    const askRuntime = async (view: PodView) => {
      const component = mp.componentOf[view.name];
      if (!component) return;
      for (const c of crashingContainers(view)) {
        const key = `${view.name}/${c.name}`;
        const seen = lookups.get(key) ?? { count: 0, restartCount: -1 };
        if (seen.count >= CRICTL_LOOKUPS_PER_CONTAINER || seen.restartCount === c.restartCount) continue;
        lookups.set(key, { count: seen.count + 1, restartCount: c.restartCount });
        const rc = await inspectContainer(fx, plan.criSocket, c.name);
        if (!rc) continue;
        runtime[view.name] = rc;
        sink.event({
          target: view.name,
          status: 'progress',
          message: `crictl: container ${c.name} (${rc.id.slice(0, 13)}) is ${rc.state}${rc.attempt !== undefined ? `, attempt ${rc.attempt}` : ''}; ${rc.logTail.length ? `last log lines:\n${rc.logTail.map((l) => `\t${l}`).join('\n')}` : 'no log lines'}`,
          data: { event: 'runtime-container', container: c.name, containerId: rc.id, state: rc.state, attempt: rc.attempt ?? null, logTail: rc.logTail },
        });
      }
    };
    const probe = async (remainingMs: number) => {
      const t = requestTimeout(remainingMs, 2000);
      if (!bindingReady) {
        let r;
        try {
          r = await ensureClusterAdmins(mp.admin, mp.superAdmin, t);
        } catch (err) {
          return { ok: false, error: `API server: ${httpError(mp.admin.creds.server, err)}` };
        }
        if (!r.ok) return { ok: false, error: `ClusterRoleBinding ${CLUSTER_ADMINS}: ${r.error}` };
        bindingReady = true;
        const how = {
          exists: 'exists',
          'already-exists': 'exists (created meanwhile)',
          'created-admin': 'created with admin.conf',
          'created-super-admin': 'created with super-admin.conf (admin.conf had no rights yet)',
        }[r.how];
        sink.event({ target: 'cluster-admins', status: 'ready', message: `ClusterRoleBinding ${CLUSTER_ADMINS} ${how}`, data: { how: r.how } });
      }
      let list;
      try {
        list = await mp.admin.request<{ items?: unknown[] }>('GET', '/api/v1/namespaces/kube-system/pods', undefined, t);
      } catch (err) {
        return { ok: false, error: `API server: ${httpError(mp.admin.creds.server, err)}` };
      }
      if (list.status !== 200) return { ok: false, error: `GET pods in kube-system: ${list.status} ${statusMessage(list)}` };
      const items = Array.isArray(list.body?.items) ? list.body.items : [];
      const byName = new Map<string, unknown>();
      for (const it of items) {
        const name = (it as { metadata?: { name?: unknown } })?.metadata?.name;
        if (typeof name === 'string') byName.set(name, it);
      }
      const notDone: string[] = [];
      for (const name of mp.podNames) {
        const raw = byName.get(name);
        const view = raw === undefined ? missingPod(name) : viewPod(raw);
        for (const ch of podChanges(pods.get(name), view)) {
          sink.event(ch);
          if (ch.status === 'ready') nudgers.get(mp.componentOf[name] ?? '')?.nudge();
        }
        pods.set(name, view);
        if (!isPodDone(view)) {
          notDone.push(describePod(view));
          await askRuntime(view);
        }
      }
      return notDone.length === 0 ? { ok: true } : { ok: false, error: notDone.join('; ') };
    };
    jobs.push(
      poll(
        fx,
        {
          name: 'mirror-pods',
          timeoutMs: mp.timeoutMs,
          intervalMs: podInterval,
          nextIntervalMs: () => {
            const views = mp.podNames.map((n) => pods.get(n));
            const close = views.every((v) => v !== undefined && (isPodDone(v) || (v.found && v.containers.length > 0 && v.containers.every((c) => c.state === 'running'))));
            return close ? podInterval : Math.max(podInterval, plan.podSlowIntervalMs ?? POD_SLOW_INTERVAL_MS);
          },
          probe,
        },
        signal,
      ).then((r) => {
        sink.log('mirror-pods', r.ok ? `All mirror pods are Ready after ${formatDuration(r.elapsedMs)}` : `The mirror pods are not all Ready after ${formatDuration(r.elapsedMs)}`);
        return { ...r, group: 'mirror-pods' as const, url: `${mp.admin.creds.server}/api/v1/namespaces/kube-system/pods`, timeoutMs: mp.timeoutMs };
      }),
    );
  }

  const targets = await Promise.all(jobs);
  return { ok: targets.every((t) => t.ok), targets, pods: [...pods.values()], runtime };
}

/** What to run next, given what failed. */
export function nextSteps(report: WaitReport, criSocket: string): string[] {
  const cmds = ['systemctl status kubelet', 'journalctl -xeu kubelet'];
  const kubeletFailed = report.targets.some((t) => t.group === 'kubelet' && !t.ok);
  if (!kubeletFailed || report.targets.some((t) => t.group !== 'kubelet' && !t.ok)) cmds.push(...crictlHints(criSocket));
  return cmds;
}

/**
 * Emits the diagnosis of a failed wait (one event per failed target and per pod that is not Ready, then what to run)
 * and returns the error to throw (exit 4).
 */
export async function diagnose(fx: Effects, report: WaitReport, plan: WaitPlan, sink: WaitSink): Promise<WaitTimeoutError> {
  const failed = report.targets.filter((t) => !t.ok);
  const summaries: string[] = [];
  const podsNotDone = report.pods.filter((v) => !isPodDone(v));
  for (const t of failed) {
    const last = t.lastError ?? 'no answer';
    // the mirror pods are described one by one below, when the API server answered
    if (t.group === 'mirror-pods' && podsNotDone.length > 0) continue;
    sink.event({
      target: t.name,
      status: 'failed',
      message: `${t.name} is not ${t.group === 'mirror-pods' ? 'Ready' : 'healthy'} after ${formatDuration(t.elapsedMs)} (timeout ${formatDuration(t.timeoutMs)}); last error: ${last}`,
      data: { group: t.group, url: t.url ?? null, lastError: last, elapsedMs: t.elapsedMs, timeoutMs: t.timeoutMs, attempts: t.attempts },
    });
    if (t.group !== 'mirror-pods') summaries.push(`${t.name} (${last})`);
  }
  const mirrorFailed = failed.some((t) => t.group === 'mirror-pods');
  if (mirrorFailed) {
    for (const p of podsNotDone) {
      const component = plan.mirrorPods?.componentOf[p.name];
      // a last look at the runtime: for a crashing container, and for a pod whose status may be stale (the API server
      // went down with the component, so the kubelet could not report the container that replaced the one shown)
      let rc = report.runtime[p.name];
      if (!rc && component) {
        const found = await inspectContainer(fx, plan.criSocket, component);
        if (found && (crashingContainers(p).length > 0 || found.state !== 'CONTAINER_RUNNING')) rc = found;
      }
      const last = p.containers.find((c) => c.lastTerminated)?.lastTerminated;
      const restarts = p.containers.reduce((a, c) => a + c.restartCount, 0);
      sink.event({
        target: p.name,
        status: 'failed',
        message: `mirror pod ${describePod(p)}${rc ? `\n\tcrictl: container ${rc.id.slice(0, 13)} is ${rc.state}; ${rc.logTail.length ? `last log lines:\n${rc.logTail.map((l) => `\t\t${l}`).join('\n')}` : 'no log lines'}` : ''}`,
        data: {
          found: p.found,
          mirror: p.mirror,
          ready: p.ready,
          phase: p.phase ?? null,
          restartCount: restarts,
          lastExitCode: last?.exitCode ?? null,
          lastReason: last?.reason ?? null,
          containers: p.containers.map((c) => ({ ...c })),
          ...(rc ? { runtime: { containerId: rc.id, state: rc.state, logTail: rc.logTail } } : {}),
        },
      });
      summaries.push(`mirror pod ${describePod(p)}`);
    }
    if (podsNotDone.length === 0) {
      const t = failed.find((x) => x.group === 'mirror-pods');
      summaries.push(`mirror pods (${t?.lastError ?? 'API server not reachable'})`);
      // no pod to describe (the API server did not answer: kube-apiserver itself may be the one crashing): ask the
      // runtime about each component directly, so that a container's own error is shown
      for (const [pod, component] of Object.entries(plan.mirrorPods?.componentOf ?? {})) {
        const rc = report.runtime[pod] ?? (await inspectContainer(fx, plan.criSocket, component));
        if (!rc || rc.state === 'CONTAINER_RUNNING') continue;
        sink.event({
          target: pod,
          status: 'failed',
          message: `crictl: container ${rc.id.slice(0, 13)} of ${component} is ${rc.state}${rc.attempt !== undefined ? ` (attempt ${rc.attempt})` : ''}; ${rc.logTail.length ? `last log lines:\n${rc.logTail.map((l) => `\t\t${l}`).join('\n')}` : 'no log lines'}`,
          data: { runtime: { containerId: rc.id, state: rc.state, attempt: rc.attempt ?? null, logTail: rc.logTail } },
        });
        const lastLine = rc.logTail[rc.logTail.length - 1];
        summaries.push(`${component} container ${rc.id.slice(0, 13)} is ${rc.state}${lastLine ? `: ${lastLine}` : ''}`);
      }
    }
  }
  const steps = nextSteps(report, plan.criSocket);
  sink.event({
    target: 'wait-control-plane',
    status: 'failed',
    message: `what to run next:\n${steps.map((s) => `\t${s}`).join('\n')}`,
    data: { commands: steps },
  });
  const longest = Math.max(...failed.map((t) => t.timeoutMs));
  const absent = failed.find((t) => t.group === 'kubelet' && t.notStarted !== undefined);
  if (absent) {
    return new WaitTimeoutError(
      `no kubelet answers at ${absent.url ?? 'its healthz'} and kubeboot did not start one (${absent.notStarted}): nothing runs the static pods, so the control plane cannot come up; stopped waiting after ${formatDuration(absent.elapsedMs)}: ${summaries.join('; ')}`,
      { hint: `start a kubelet for these files (systemctl start kubelet; under --root, a kubelet that watches <root>/etc/kubernetes/manifests), or leave the waits out with --skip-phases wait-control-plane; then run ${steps.map((x) => `'${x}'`).join(', ')}` },
    );
  }
  return new WaitTimeoutError(
    `could not initialize a Kubernetes cluster: not ready after ${formatDuration(longest)}: ${summaries.join('; ')}`,
    { hint: `run ${steps.map((s) => `'${s}'`).join(', ')}` },
  );
}
