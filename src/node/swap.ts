/**
 * The safe static-pod swap (kubeadm's upgrade swap, reference §5.3, for one component): back the current manifest up
 * under /etc/kubernetes/tmp/kubeboot-backup-manifests-<time>/, write the new one atomically, wait until the kubelet
 * runs a NEW container of the pod and it is Ready (read from the mirror pod through the API server), and on timeout
 * put the old bytes back and wait for the old pod to be Ready again. Everything goes through the Effects (disk, HTTP,
 * clock, sleep), so unit tests run on a fake file tree and a manual clock.
 *
 * The confirmation rule (confirmNew): a read of the mirror pod `<component>-<node>` shows
 *  1. a mirror pod whose Ready condition is True and whose container (named like the component, else the first) is
 *     running and ready; and
 *  2. that container is new: its containerID differs from the one read before the write (without containerIDs:
 *     its restartCount or startedAt differ; without a readable pod before the write: it started at or after the
 *     second of the write); and
 *  3. either the config hash differs from the one before the write (the kubelet made a new pod for the new
 *     manifest), or, when the hash is the same, the container started at or after the second of the write (a
 *     change the hash does not see is confirmed by the container alone, but never by a container that was
 *     already there, crash-looping or not, before the write).
 * Connection errors while waiting are progress, not failures (kube-apiserver itself restarts): the poll goes on until
 * the deadline.
 *
 * The rollback rule (confirmRestored): Ready as in 1; the config hash equals the one before the change (when known);
 * and when the failed wait saw another pod or container than the one before the change, the container differs from
 * the last one it saw (the kubelet acted on the restored bytes).
 */
import type { Effects } from '../effects/types.js';
import type { ClusterSpec } from '../config/spec.js';
import { initPhaseCommand, type StaticPodComponent } from '../components.js';
import { OperationError, PreflightError } from '../errors.js';
import type { Output } from '../workflow/events.js';
import { openApi, type ApiAccess } from './api.js';
import { manifestPath, mirrorPodOf } from './names.js';
import { RESTART_ANNOTATION } from '../render/manifests.js';
import { InterruptError, WaitTimeoutError, errorMessage } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import { statusMessage, type ApiClient } from '../kube/api.js';
import { diagnose, type WaitPlan, type WaitReport, type WaitSink } from '../kube/control-plane-wait.js';
import { containerState } from '../kube/crictl.js';
import { missingPod, podChanges, viewPod, describePod, type ContainerView, type PodView } from '../kube/mirror-pods.js';
import { poll, requestTimeout } from '../kube/wait.js';
import { backupTimestamp, freeTimestampedDir } from '../util/tmpdirs.js';

export const BACKUP_DIR_PREFIX = 'kubeboot-backup-manifests-';
/** how often the mirror pod is read while waiting */
export const ROLLOUT_INTERVAL_MS = 50;
/** the most one read of the mirror pod may take */
const READ_TIMEOUT_MS = 2000;

export { backupTimestamp };

/** A free backup directory under tmpDir for this time (a suffix -1, -2, … when that second is taken already). */
export function backupDirFor(fx: Effects, tmpDir: string, now: Date): Promise<string> {
  return freeTimestampedDir(fx, tmpDir, BACKUP_DIR_PREFIX, now);
}

export type MirrorRead =
  | { readonly ok: true; readonly view: PodView }
  | { readonly ok: false; readonly error: string; readonly status: number | undefined };

/** One GET of kube-system/<podName>; a 404 is a view with found=false. Never throws. */
export async function readMirrorPod(client: ApiClient, podName: string, timeoutMs = READ_TIMEOUT_MS): Promise<MirrorRead> {
  const path = `/api/v1/namespaces/kube-system/pods/${encodeURIComponent(podName)}`;
  let r;
  try {
    r = await client.request('GET', path, undefined, requestTimeout(timeoutMs, READ_TIMEOUT_MS));
  } catch (err) {
    const e = err as { code?: string };
    const msg = errorMessage(err);
    return { ok: false, status: undefined, error: `API server ${client.creds.server}: ${e?.code && !msg.includes(e.code) ? `${e.code}: ` : ''}${msg}` };
  }
  if (r.status === 200) return { ok: true, view: viewPod(r.body) };
  if (r.status === 404) return { ok: true, view: missingPod(podName) };
  return { ok: false, status: r.status, error: `GET ${path} with ${client.label}: ${r.status} ${statusMessage(r)}` };
}

/** The component's container in a pod view (by name, else the first). */
export function mainContainer(v: PodView | undefined, component: string): ContainerView | undefined {
  if (!v?.found) return undefined;
  return v.containers.find((c) => c.name === component) ?? v.containers[0];
}

export interface Confirmation {
  readonly done: boolean;
  /** why not (yet), or what confirmed it */
  readonly why: string;
}

function shortId(id: string | undefined): string {
  if (!id) return 'none';
  const bare = id.replace(/^[a-z]+:\/\//, '');
  return bare.slice(0, 13);
}

/** The container started at or after the second of the write (startedAt has second precision). */
export function startedSince(c: ContainerView, writtenAtMs: number): boolean {
  if (!c.startedAt) return false;
  const t = Date.parse(c.startedAt);
  return Number.isFinite(t) && t >= Math.floor(writtenAtMs / 1000) * 1000;
}

function readyProblem(v: PodView, c: ContainerView | undefined): string | undefined {
  if (!v.found || !v.mirror || !c) return describePod(v);
  if (!v.ready || c.state !== 'running' || !c.ready) return describePod(v);
  return undefined;
}

/** Rule 1–3 of the module comment: the kubelet runs a new container for the new manifest and it is Ready. */
export function confirmNew(component: string, before: PodView | undefined, cur: PodView, writtenAtMs: number): Confirmation {
  const c = mainContainer(cur, component);
  const notReady = readyProblem(cur, c);
  if (notReady !== undefined || !c) return { done: false, why: notReady ?? describePod(cur) };
  const b = mainContainer(before, component);
  let isNew: boolean;
  if (!before?.found) isNew = startedSince(c, writtenAtMs);
  else if (c.containerID && b?.containerID) isNew = c.containerID !== b.containerID;
  else if (c.containerID && !b?.containerID) isNew = true;
  else isNew = c.restartCount !== (b?.restartCount ?? -1) || c.startedAt !== b?.startedAt;
  if (!isNew) {
    return { done: false, why: `${cur.name}: still runs the container from before the change (${shortId(c.containerID)}); the kubelet has not restarted it yet` };
  }
  const hashChanged = before?.found === true && cur.hash !== before.hash;
  if (before?.found && !hashChanged && !startedSince(c, writtenAtMs)) {
    return { done: false, why: `${cur.name}: same config hash ${cur.hash ?? 'unknown'} and container ${shortId(c.containerID)} started before the change` };
  }
  return {
    done: true,
    why: hashChanged
      ? `config hash ${before?.hash ?? 'unknown'} → ${cur.hash ?? 'unknown'}, container ${shortId(b?.containerID)} → ${shortId(c.containerID)}`
      : `config hash unchanged (${cur.hash ?? 'unknown'}); confirmed by the new container ${shortId(b?.containerID)} → ${shortId(c.containerID)} started ${c.startedAt ?? '?'}`,
  };
}

/** The rollback rule of the module comment: the pod from before the change is back and Ready. */
export function confirmRestored(component: string, before: PodView | undefined, last: PodView | undefined, cur: PodView): Confirmation {
  const c = mainContainer(cur, component);
  const notReady = readyProblem(cur, c);
  if (notReady !== undefined || !c) return { done: false, why: notReady ?? describePod(cur) };
  if (before?.found && before.hash !== undefined && cur.hash !== before.hash) {
    return { done: false, why: `${cur.name}: config hash ${cur.hash ?? 'unknown'} is not yet the one from before the change (${before.hash})` };
  }
  const b = mainContainer(before, component);
  const l = mainContainer(last, component);
  const lastDiffers = !before?.found || (last?.found === true && (last.hash !== before.hash || l?.containerID !== b?.containerID));
  if (lastDiffers && l?.containerID && c.containerID === l.containerID) {
    return { done: false, why: `${cur.name}: still runs the container of the failed change (${shortId(c.containerID)})` };
  }
  return { done: true, why: `config hash ${cur.hash ?? 'unknown'}, container ${shortId(c.containerID)}` };
}

export interface SwapSink extends WaitSink {
  file(path: string, mode: number, status: 'written' | 'backed-up'): void;
  warn(message: string): void;
}

export interface SwapRequest {
  /** etcd, kube-apiserver, … */
  readonly component: string;
  /** host path of the manifest */
  readonly manifestPath: string;
  readonly manifestsDir: string;
  readonly oldContent: Buffer;
  readonly newContent: string;
  readonly mode: number;
  /** /etc/kubernetes/tmp */
  readonly tmpDir: string;
  /** <component>-<node> */
  readonly podName: string;
  readonly criSocket: string;
  readonly client: ApiClient;
  readonly superAdmin?: () => Promise<ApiClient | undefined>;
  /** for the new pod, and again for the old one after a rollback */
  readonly timeoutMs: number;
  /** put the old bytes back when the new pod is not Ready in time (default true) */
  readonly rollback?: boolean;
  /** the mirror pod as read before (the caller may have read it to decide on the swap) */
  readonly before?: MirrorRead;
  readonly intervalMs?: number;
  /** the log tag (default "rollout") */
  readonly tag?: string;
}

export interface SwapResult {
  readonly backupDir: string;
  readonly backupPath: string;
  readonly before: PodView | undefined;
  readonly after: PodView;
  readonly hashChanged: boolean;
  readonly elapsedMs: number;
  readonly confirmation: string;
}

interface WaitOutcome {
  readonly ok: boolean;
  readonly elapsedMs: number;
  readonly attempts: number;
  readonly lastError: string | undefined;
  readonly last: PodView | undefined;
  readonly why: string | undefined;
}

/** Polls the mirror pod until `confirm` says done or the timeout passes; reports what changes (the API's outages too). */
async function waitForPod(
  fx: Effects,
  req: SwapRequest,
  getClient: () => ApiClient,
  start: PodView | undefined,
  confirm: (cur: PodView) => Confirmation | Promise<Confirmation>,
  sink: SwapSink,
  signal: AbortSignal | undefined,
): Promise<WaitOutcome> {
  let prev = start;
  let last: PodView | undefined;
  let apiDown = false;
  let why: string | undefined;
  const target = req.podName;
  const r = await poll(
    fx,
    {
      name: target,
      timeoutMs: req.timeoutMs,
      intervalMs: req.intervalMs ?? ROLLOUT_INTERVAL_MS,
      probe: async (remainingMs) => {
        const read = await readMirrorPod(getClient(), target, remainingMs);
        if (!read.ok) {
          if (read.status === undefined && !apiDown) {
            apiDown = true;
            const expected = req.component === 'kube-apiserver' ? ' (expected while kube-apiserver restarts; still waiting)' : '';
            sink.event({ target, status: 'progress', message: `the API server does not answer${expected}: ${read.error}`, data: { event: 'api-unreachable', error: read.error } });
          }
          return { ok: false, error: read.error };
        }
        if (apiDown) {
          apiDown = false;
          sink.event({ target, status: 'progress', message: 'the API server answers again', data: { event: 'api-reachable' } });
        }
        const cur = read.view;
        for (const ch of podChanges(prev, cur)) sink.event(ch);
        const pc = mainContainer(prev, req.component);
        const cc = mainContainer(cur, req.component);
        // a new container in the same pod that is not a crash-loop restart (podChanges reports those)
        if (cc?.containerID && pc?.containerID && pc.containerID !== cc.containerID && prev?.hash === cur.hash && cc.restartCount <= pc.restartCount) {
          sink.event({
            target,
            status: 'progress',
            message: `container ${cc.name} of ${target} is a new container (${shortId(pc?.containerID)} → ${shortId(cc.containerID)})`,
            data: { event: 'container-replaced', container: cc.name, from: pc?.containerID ?? null, to: cc.containerID },
          });
        }
        prev = cur;
        last = cur;
        const c = await confirm(cur);
        why = c.why;
        return c.done ? { ok: true } : { ok: false, error: c.why };
      },
    },
    signal,
  );
  return { ok: r.ok, elapsedMs: r.elapsedMs, attempts: r.attempts, lastError: r.lastError, last, why };
}

/**
 * Backup, atomic write, wait for a new Ready container; on timeout (and unless rollback is false) restore the old bytes
 * and wait for the old pod. Throws WaitTimeoutError (exit 4) when the new pod was not Ready in time, with the
 * diagnosis emitted through the sink first; InterruptError when the signal fired (after restoring the old bytes).
 */
export async function swapStaticPod(fx: Effects, req: SwapRequest, sink: SwapSink, signal?: AbortSignal): Promise<SwapResult> {
  const tag = req.tag ?? 'rollout';
  const rollback = req.rollback ?? true;
  let client = req.client;
  const getClient = () => client;

  // the pod before the change: the baseline of the confirmation rule
  let first = req.before ?? (await readMirrorPod(client, req.podName));
  if (!first.ok && first.status === 403 && req.superAdmin) {
    const sa = await req.superAdmin();
    if (sa) {
      client = sa;
      first = await readMirrorPod(client, req.podName);
    }
  }
  let before: PodView | undefined;
  if (first.ok && first.view.found) before = first.view;
  else {
    sink.warn(
      `could not read the mirror pod kube-system/${req.podName} before the change (${first.ok ? 'it does not exist' : first.error}); the new container will be recognised by its start time alone`,
    );
  }

  // backup, outside the static pod path
  const backupDir = await backupDirFor(fx, req.tmpDir, fx.now());
  const name = req.manifestPath.slice(req.manifestPath.lastIndexOf('/') + 1);
  const backupPath = `${backupDir}/${name}`;
  await fx.mkdir(req.tmpDir, 0o700);
  await fx.mkdir(backupDir, 0o700);
  await fx.writeFileAtomic(backupPath, req.oldContent, 0o600);
  sink.file(backupPath, 0o600, 'backed-up');
  sink.log(tag, `Backed up the current manifest "${req.manifestPath}" to "${backupPath}"`);

  // the new manifest
  const writtenAt = fx.now().getTime();
  await fx.writeFileAtomic(req.manifestPath, req.newContent, req.mode);
  sink.file(req.manifestPath, req.mode, 'written');
  sink.log(tag, `Wrote the new manifest "${req.manifestPath}"`);
  sink.log(
    tag,
    `Waiting for the kubelet to restart ${req.component}: the mirror pod kube-system/${req.podName} must show a new container, running and Ready. This can take up to ${formatDuration(req.timeoutMs)}`,
  );
  sink.event({
    target: req.podName,
    status: 'waiting',
    message: `${req.podName} before the change: config hash ${before?.hash ?? 'unknown'}, container ${shortId(mainContainer(before, req.component)?.containerID)}`,
    data: { event: 'swap-wait', hashBefore: before?.hash ?? null, containerBefore: mainContainer(before, req.component)?.containerID ?? null, timeoutMs: req.timeoutMs },
  });

  const w = await fx.waitForNode(`a new Ready container in the mirror pod kube-system/${req.podName} (up to ${formatDuration(req.timeoutMs)})`, () =>
    waitForPod(fx, req, getClient, before, (cur) => confirmNew(req.component, before, cur, writtenAt), sink, signal),
  );
  if (!w) {
    // the effects changed nothing the kubelet could act on (--dry-run): nothing to confirm, nothing to roll back
    return { backupDir, backupPath, before, after: before ?? missingPod(req.podName), hashChanged: false, elapsedMs: 0, confirmation: 'not waited for: the change was not made (dry run)' };
  }
  if (w.ok && w.last) {
    const hashChanged = before !== undefined && w.last.hash !== before.hash;
    sink.log(tag, `${req.component} is Ready with the new manifest after ${formatDuration(w.elapsedMs)} (${w.why})`);
    sink.event({
      target: req.podName,
      status: 'ready',
      message: `${req.podName} runs a new Ready container (${w.why})`,
      data: {
        event: 'swap-confirmed',
        hashBefore: before?.hash ?? null,
        hashAfter: w.last.hash ?? null,
        hashChanged,
        containerBefore: mainContainer(before, req.component)?.containerID ?? null,
        containerAfter: mainContainer(w.last, req.component)?.containerID ?? null,
        elapsedMs: w.elapsedMs,
      },
    });
    return { backupDir, backupPath, before, after: w.last, hashChanged, elapsedMs: w.elapsedMs, confirmation: w.why ?? '' };
  }

  // not Ready in time (or interrupted): say why, with the wait's diagnosis
  const interrupted = signal?.aborted === true;
  const plan: WaitPlan = {
    manifestsDir: req.manifestsDir,
    criSocket: req.criSocket,
    mirrorPods: {
      podNames: [req.podName],
      componentOf: { [req.podName]: req.component },
      admin: client,
      superAdmin: req.superAdmin ?? (async () => undefined),
      timeoutMs: req.timeoutMs,
    },
  };
  const report: WaitReport = {
    ok: false,
    targets: [
      {
        name: req.podName,
        group: 'mirror-pods',
        ok: false,
        elapsedMs: w.elapsedMs,
        attempts: w.attempts,
        lastError: w.lastError,
        timeoutMs: req.timeoutMs,
        url: `${client.creds.server}/api/v1/namespaces/kube-system/pods/${req.podName}`,
      },
    ],
    // a pod that is Ready (the old container still) is described by the last error instead
    pods: w.last && !confirmNew(req.component, before, w.last, writtenAt).done && readyProblem(w.last, mainContainer(w.last, req.component)) !== undefined ? [w.last] : [],
    runtime: {},
  };
  const diag = interrupted ? undefined : await diagnose(fx, report, plan, sink);
  const why = w.lastError ?? w.why ?? 'no answer';
  const head = interrupted
    ? `${req.component}: interrupted while waiting for the new pod`
    : `${req.component} did not run a new Ready container with the new manifest within ${formatDuration(req.timeoutMs)}: ${why}`;

  if (!rollback) {
    sink.log(tag, `Keeping the new manifest (--no-rollback); the previous one is in "${backupPath}"`);
    const msg = `${head}; the new manifest was kept (--no-rollback); the previous one is in ${backupPath}`;
    if (interrupted) throw new InterruptError(String(signal?.reason ?? 'SIGINT'));
    throw new WaitTimeoutError(msg, { hint: `${diag?.hint ? `${diag.hint}; ` : ''}to go back: kubeboot regenerate ${req.component} (it renders the recorded configuration, which this change did not update)` });
  }

  sink.log(tag, `Rolling back: restoring "${req.manifestPath}" from "${backupPath}"`);
  await fx.writeFileAtomic(req.manifestPath, req.oldContent, req.mode);
  sink.file(req.manifestPath, req.mode, 'written');
  if (interrupted) throw new InterruptError(String(signal?.reason ?? 'SIGINT'));
  // a rollback waits only when there is a running pod to come back to
  const wasRunning = before !== undefined && mainContainer(before, req.component)?.state === 'running';
  if (!wasRunning) {
    sink.log(tag, `Not waiting for the previous ${req.component} pod: it was not running before the change either`);
    throw new WaitTimeoutError(`${head}; rolled back to the previous manifest (kept in ${backupPath}); its pod was not running before the change, so kubeboot does not wait for it`, {
      hint: diag?.hint ?? "run 'systemctl status kubelet', 'journalctl -xeu kubelet'",
    });
  }
  sink.log(tag, `Waiting for the previous ${req.component} pod to be Ready again. This can take up to ${formatDuration(req.timeoutMs)}`);
  // While the API server was down the kubelet could not update the mirror pod's status: the first reads after it
  // answers again may still show the container from before the change, which the kubelet has stopped since. A pod
  // that shows that very container counts only when the runtime says it still runs (crictl; without crictl, as read).
  const beforeId = mainContainer(before, req.component)?.containerID;
  const restored = async (cur: PodView): Promise<Confirmation> => {
    const c = confirmRestored(req.component, before, w.last, cur);
    const id = mainContainer(cur, req.component)?.containerID;
    if (!c.done || !id || id !== beforeId) return c;
    const state = await containerState(fx, req.criSocket, req.component, id);
    if (state === undefined || state === 'CONTAINER_RUNNING') return c;
    return {
      done: false,
      why: `${cur.name}: the API server still shows the container from before the change (${shortId(id)}), which the runtime ${state === 'gone' ? 'no longer has' : `reports ${state}`}; waiting for the kubelet to report the restored pod`,
    };
  };
  const rb = await waitForPod(fx, req, getClient, w.last ?? before, restored, sink, signal);
  if (rb.ok) {
    sink.log(tag, `${req.component} is Ready again with the previous manifest after ${formatDuration(rb.elapsedMs)}`);
    sink.event({ target: req.podName, status: 'ready', message: `${req.podName} is Ready again with the previous manifest (${rb.why})`, data: { event: 'rollback-confirmed', elapsedMs: rb.elapsedMs } });
  } else {
    sink.event({
      target: req.podName,
      status: 'failed',
      message: `${req.podName} is not Ready with the previous manifest either after ${formatDuration(rb.elapsedMs)}: ${rb.lastError ?? rb.why ?? 'no answer'}`,
      data: { event: 'rollback-failed', lastError: rb.lastError ?? null, elapsedMs: rb.elapsedMs },
    });
  }
  throw new WaitTimeoutError(
    `${head}; rolled back to the previous manifest (kept in ${backupPath}), ${rb.ok ? 'which is Ready again' : `but its pod is not Ready either after ${formatDuration(rb.elapsedMs)}: ${rb.lastError ?? rb.why ?? 'no answer'}`}`,
    { hint: diag?.hint ?? 'run \'systemctl status kubelet\', \'journalctl -xeu kubelet\'' },
  );
}

// ---------- applying a manifest, restarting a component (regenerate, restart, init, certs renew --restart)

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
  /** the kubelet's healthz; when it does not answer, the change is refused before anything is written */
  readonly kubeletHealthz?: string | undefined;
}

/** How long a change waits for the kubelet's healthz to answer before it refuses (no kubelet: nothing could confirm it). */
export const KUBELET_GRACE_MS = 5000;

/**
 * Refuses a change nothing could confirm: when the kubelet's healthz does not answer within KUBELET_GRACE_MS, no
 * kubelet runs the static pods, so the new pod would never come (and a rollback would wait for nothing). Exit 2,
 * nothing changed.
 */
export async function requireKubelet(fx: Effects, healthzUrl: string | undefined, component: string, signal?: AbortSignal): Promise<void> {
  if (healthzUrl === undefined) return; // healthzPort 0: nothing to ask
  const r = await fx.waitForNode(`the kubelet at ${healthzUrl}`, () =>
    poll(
      fx,
      {
        name: 'kubelet',
        timeoutMs: KUBELET_GRACE_MS,
        intervalMs: 100,
        probe: async (rem) => {
          try {
            const res = await fx.http({ url: healthzUrl, timeoutMs: requestTimeout(rem, 1000) });
            return res.status === 200 ? { ok: true } : { ok: false, error: `${healthzUrl} returned status ${res.status}` };
          } catch (err) {
            return { ok: false, error: `${healthzUrl}: ${errorMessage(err)}` };
          }
        },
      },
      signal,
    ),
  );
  if (r && !r.ok) {
    throw new PreflightError(`cannot change ${component} safely: no kubelet answers at ${healthzUrl} (${r.lastError ?? 'no answer'}), so its new pod could never be confirmed; nothing was changed`, [], {
      hint: `start the kubelet (systemctl start kubelet) and run this again; under --root, a kubelet must watch <root>${'/etc/kubernetes/manifests'}`,
    });
  }
}

/** Applies one new manifest through the safe swap. Needs admin.conf (exit 2 without it) and a kubelet that answers. */
export async function applyManifest(o: ApplyOptions): Promise<SwapResult> {
  const api = o.api ?? (await openApi(o.fx, o.spec));
  if (!api) {
    throw new PreflightError(`cannot confirm the change of ${o.component}: ${o.spec.paths.kubernetesDir}/admin.conf does not exist`, [], {
      hint: 'the mirror pod is read from the API server with admin.conf; run kubeboot init phase kubeconfig admin',
    });
  }
  await requireKubelet(o.fx, o.kubeletHealthz, o.component, o.signal);
  const { MANIFEST_MODE } = await import('../render/manifests.js');
  return swapStaticPod(
    o.fx,
    {
      component: o.component,
      manifestPath: manifestPath(o.spec, o.component),
      manifestsDir: o.spec.paths.manifestsDir,
      oldContent: o.oldContent,
      newContent: o.newContent,
      mode: MANIFEST_MODE,
      tmpDir: o.spec.paths.tmpDir,
      podName: mirrorPodOf(o.spec, o.component),
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

/** An RFC 3339 time with milliseconds (two restarts in one second still differ). */
export function restartStamp(now: Date): string {
  return now.toISOString();
}

/** The manifest with a new restart annotation; PreflightError when it does not exist, OperationError when it is no Pod. */
export async function restartedManifest(fx: Effects, spec: ClusterSpec, component: StaticPodComponent, stamp: string): Promise<{ old: Buffer; next: string }> {
  const path = manifestPath(spec, component);
  const old = await fx.readFile(path);
  if (!old) {
    throw new PreflightError(`the static Pod manifest of ${component} does not exist: ${path}`, [], {
      hint: `kubeboot changes components it set up; create the manifest with '${initPhaseCommand(component)}'`,
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
  /** the kubelet's healthz (see requireKubelet) */
  readonly kubeletHealthz?: string | undefined;
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
    o.out.log('restart', `Restarting ${component}: setting the annotation ${RESTART_ANNOTATION}=${stamp} in "${manifestPath(o.spec, component)}"`);
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
      kubeletHealthz: o.kubeletHealthz,
      tag: 'restart',
    });
    results.push({ component, restartedAt: stamp, swap });
  }
  return results;
}
