/**
 * `kubeboot status`: how the control plane on this node is doing right now, as a list of checks, each ok, failed or
 * unknown (it could not be made because something it needs failed), with the reason. Every probe starts at once and
 * takes at most STATUS_TIMEOUT_MS, so a status with the API server down or hanging takes about that long, not more.
 *
 * What is checked: the kubelet's /healthz (from the KubeletConfiguration in force); each component's health endpoint
 * (read from its manifest, as wait-control-plane does); the API server through admin.conf (GET /version); the mirror
 * pods (Ready, restarts); the Node (Ready condition, taints, kubelet version); CoreDNS (Deployment kube-system/coredns,
 * "not installed" when absent); versions (configured, API server, kubelet); the nearest certificate expiry (the
 * check-expiration code). Nothing is written, and admin.conf's rights are not changed.
 */
import { CONTROL_PLANE_COMPONENTS, manifestPath, type StaticPodComponent } from '../components.js';
import type { Effects } from '../effects/types.js';
import { errorMessage, PreflightError } from '../errors.js';
import type { ApiClient } from '../kube/api.js';
import { checkExpiration, EXPIRING_SOON_MS, kubeadmDate, shortHumanDuration, type CertificateExpirationInfo, type ExpirationEntry } from '../pki/expiration.js';
import type { NodeContext } from './context.js';
import { adminKubeconfigPaths, kubeletNodeName, mirrorPodOf } from './names.js';

/** The longest any one probe may take. */
export const STATUS_TIMEOUT_MS = 2000;

export type CheckState = 'ok' | 'fail' | 'unknown';
export type CheckKind = 'kubelet' | 'component' | 'api' | 'mirror-pod' | 'node' | 'coredns' | 'versions' | 'certificates';

export interface StatusCheck {
  readonly kind: CheckKind;
  /** what the text output shows: kubelet, etcd, …, api, pod <name>, node <name>, coredns, versions, certificates */
  readonly name: string;
  readonly state: CheckState;
  /** one line: what was found, or what is wrong */
  readonly message: string;
  /** the facts, per kind (README: "kubeboot status") */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface NodeStatusReport {
  /** every check is ok */
  readonly healthy: boolean;
  /** the node name the kubelet registers with */
  readonly node: string;
  /** where the configuration came from (the recorded one, or --config's file) */
  readonly configuration: string;
  /** names of the checks that failed */
  readonly failed: readonly string[];
  /** names of the checks that could not be made (something they need failed) */
  readonly unknown: readonly string[];
  readonly checks: readonly StatusCheck[];
}

export interface StatusRequest {
  readonly configuration: string;
  readonly kubebootVersion: string;
  readonly timeoutMs?: number;
}

const check = (kind: CheckKind, name: string, state: CheckState, message: string, data: Record<string, unknown>): StatusCheck => ({
  kind,
  name,
  state,
  message: oneLine(message),
  data,
});

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The API server's answer to one GET, or why there was none. */
type ApiAnswer = { readonly ok: true; readonly status: number; readonly body: unknown; readonly message: string } | { readonly ok: false; readonly error: string };

/** admin.conf must be there: without it this is not a node kubeboot set up (exit 2). */
export async function requireAdminConf(fx: Effects, spec: NodeContext['spec']): Promise<string> {
  const path = adminKubeconfigPaths(spec).admin;
  if ((await fx.stat(path))?.kind !== 'file') {
    const where = fx.describe === 'host' ? '' : ` (under ${fx.realPath('/')})`;
    throw new PreflightError(`this node has no control plane set up by kubeboot: ${path}${where} does not exist`, [], {
      hint: "run 'kubeboot init' first (or 'kubeboot init phase kubeconfig admin' when only that file is missing)",
    });
  }
  return path;
}

export async function nodeStatus(ctx: NodeContext, req: StatusRequest): Promise<NodeStatusReport> {
  const { spec, fx } = ctx;
  const t = req.timeoutMs ?? STATUS_TIMEOUT_MS;
  const adminPath = await requireAdminConf(fx, spec);
  const [{ healthProbe, httpError }, { statusMessage }] = await Promise.all([import('../kube/control-plane-wait.js'), import('../kube/api.js')]);
  const components: StaticPodComponent[] = [...(spec.etcd.local !== undefined ? (['etcd'] as const) : []), ...CONTROL_PLANE_COMPONENTS];
  const nodeName = kubeletNodeName(spec);

  // --- everything that does not need the API server starts now (a check that throws is a failed check, never an
  // unhandled rejection while the others are awaited)
  const kubeletP = guard('kubelet', 'kubelet', kubeletCheck(ctx, t, healthProbe));
  const componentPs = components.map((c) => guard('component', c, componentCheck(ctx, c, t, healthProbe)));
  const certsP = guard('certificates', 'certificates', certificatesCheck(ctx));

  // --- the API server through admin.conf: four reads at once
  let client: ApiClient | undefined;
  let openError: string | undefined;
  try {
    client = (await ctx.client()).client;
  } catch (err) {
    openError = errorMessage(err);
  }
  const get = async (path: string): Promise<ApiAnswer> => {
    if (!client) return { ok: false, error: openError ?? `${adminPath} cannot be used` };
    try {
      const r = await client.get(path, t);
      return { ok: true, status: r.status, body: r.body, message: statusMessage(r) };
    } catch (err) {
      return { ok: false, error: httpError(client.creds.server, err) };
    }
  };
  const nodePath = `/api/v1/nodes/${encodeURIComponent(nodeName)}`;
  const podsPath = '/api/v1/namespaces/kube-system/pods';
  const corednsPath = '/apis/apps/v1/namespaces/kube-system/deployments/coredns';
  const [version, pods, node, coredns] = await Promise.all([get('/version'), get(podsPath), get(nodePath), get(corednsPath)]);

  // the API server itself: does it answer admin.conf?
  const server = client?.creds.server ?? null;
  const apiServerVersion = version.ok && version.status === 200 ? str(obj(version.body).gitVersion) : null;
  let api: StatusCheck;
  if (!version.ok) api = check('api', 'api', 'fail', version.error, { server, user: client?.creds.user ?? null, error: version.error });
  else if (version.status !== 200) {
    api = check('api', 'api', 'fail', `GET ${server}/version with ${adminPath}: ${version.status} ${version.message}`, { server, user: client?.creds.user ?? null, error: `${version.status} ${version.message}` });
  } else {
    api = check('api', 'api', 'ok', `${server} answers ${adminPath} (user ${client?.creds.user ?? '?'}), version ${apiServerVersion ?? 'unknown'}`, { server, user: client?.creds.user ?? null, error: null });
  }
  // what depends on the API server is not checked when it does not answer; the api check says why (or, when only this
  // read went unanswered, the check itself)
  const down = (a: ApiAnswer, path: string): string | undefined =>
    a.ok ? undefined : !version.ok ? 'not checked: no answer from the API server (see api)' : `not checked: GET ${path}: ${a.error}`;

  // the mirror pods
  const podChecks = await Promise.all(components.map((c) => podCheck(c, mirrorPodOf(spec, c), pods, down(pods, podsPath), podsPath)));

  const nodeCheck_ = nodeCheck(nodeName, node, down(node, nodePath), nodePath);
  const kubeletVersion = nodeCheck_.data.kubeletVersion as string | null;

  const checks: StatusCheck[] = [
    await kubeletP,
    ...(await Promise.all(componentPs)),
    api,
    ...podChecks,
    nodeCheck_,
    corednsCheck(coredns, down(coredns, corednsPath), corednsPath),
    versionsCheck(
      { kubeboot: req.kubebootVersion, configured: spec.kubernetesVersion, apiServer: apiServerVersion, kubelet: kubeletVersion },
      !version.ok ? down(version, '/version') : apiServerVersion === null ? "not checked: the API server's version is not known (see api)" : undefined,
    ),
    await certsP,
  ];
  const failed = checks.filter((c) => c.state === 'fail').map((c) => c.name);
  const unknown = checks.filter((c) => c.state === 'unknown').map((c) => c.name);
  return { healthy: failed.length === 0 && unknown.length === 0, node: nodeName, configuration: req.configuration, failed, unknown, checks };
}

function guard(kind: CheckKind, name: string, p: Promise<StatusCheck>): Promise<StatusCheck> {
  return p.catch((err: unknown) => check(kind, name, 'fail', `cannot check: ${errorMessage(err)}`, { error: errorMessage(err) }));
}

type Probe = (fx: Effects, url: string, insecure: boolean, remainingMs: number) => Promise<{ ok: boolean; error?: string }>;

async function kubeletCheck(ctx: NodeContext, t: number, probe: Probe): Promise<StatusCheck> {
  let url: string | undefined;
  try {
    const { kubeletHealthzUrl } = await import('./kubelet.js');
    url = await kubeletHealthzUrl(ctx);
  } catch (err) {
    return check('kubelet', 'kubelet', 'fail', `cannot tell where the kubelet's /healthz is: ${errorMessage(err)}`, { url: null, error: errorMessage(err) });
  }
  if (url === undefined) return check('kubelet', 'kubelet', 'ok', 'not checked: healthzPort is 0 in the kubelet configuration (no health endpoint)', { url: null, error: null });
  const r = await probe(ctx.fx, url, false, t);
  return r.ok ? check('kubelet', 'kubelet', 'ok', `${url} answers ok`, { url, error: null }) : check('kubelet', 'kubelet', 'fail', r.error ?? 'not healthy', { url, error: r.error ?? null });
}

async function componentCheck(ctx: NodeContext, component: StaticPodComponent, t: number, probe: Probe): Promise<StatusCheck> {
  const path = manifestPath(ctx.spec, component);
  const text = (await ctx.fx.readFile(path))?.toString('utf8');
  const manifest = { path, present: text !== undefined };
  const fail = (message: string, url: string | null) => check('component', component, 'fail', message, { component, manifest, url, error: message });
  if (text === undefined) return fail(`its static pod manifest ${path} does not exist`, null);
  let ep;
  try {
    const { componentEndpoint, manifestCommand } = await import('../kube/endpoints.js');
    ep = componentEndpoint(component, manifestCommand(text, path), ctx.spec.advertiseAddress);
  } catch (err) {
    return fail(`cannot read its health endpoint from ${path}: ${errorMessage(err)}`, null);
  }
  const r = await probe(ctx.fx, ep.url, ep.insecure, t);
  return r.ok ? check('component', component, 'ok', `${ep.url} answers ok`, { component, manifest, url: ep.url, error: null }) : fail(r.error ?? 'not healthy', ep.url);
}

async function podCheck(component: StaticPodComponent, pod: string, pods: ApiAnswer, unreachable: string | undefined, podsPath: string): Promise<StatusCheck> {
  const name = `pod ${pod}`;
  const base = { component, pod, found: null, mirror: null, ready: null, phase: null, restarts: null, containers: [] };
  if (unreachable !== undefined || !pods.ok) return check('mirror-pod', name, 'unknown', unreachable ?? 'not checked', base);
  if (pods.status !== 200) return check('mirror-pod', name, 'fail', `GET ${podsPath}: ${pods.status} ${pods.message}`, base);
  const { describePod, isPodDone, missingPod, viewPod } = await import('../kube/mirror-pods.js');
  const items = Array.isArray(obj(pods.body).items) ? (obj(pods.body).items as unknown[]) : [];
  const raw = items.find((p) => obj(obj(p).metadata).name === pod);
  const v = raw === undefined ? missingPod(pod) : viewPod(raw);
  const restarts = v.containers.reduce((n, c) => n + c.restartCount, 0);
  const data = {
    component,
    pod,
    found: v.found,
    mirror: v.mirror,
    ready: v.ready,
    phase: v.phase ?? null,
    restarts,
    containers: v.containers.map((c) => ({
      name: c.name,
      state: c.state,
      reason: c.reason ?? null,
      ready: c.ready,
      restartCount: c.restartCount,
      lastTermination: c.lastTerminated ? { exitCode: c.lastTerminated.exitCode ?? null, reason: c.lastTerminated.reason ?? null } : null,
    })),
  };
  if (isPodDone(v)) {
    const last = v.containers.find((c) => c.lastTerminated)?.lastTerminated;
    const lastText = restarts > 0 && last ? ` (last termination: ${last.reason ?? 'terminated'}, exit code ${last.exitCode ?? '?'})` : '';
    return check('mirror-pod', name, 'ok', `Ready, ${restarts} restart${restarts === 1 ? '' : 's'}${lastText}`, data);
  }
  // describePod says "<name>: …"; the name is the check's
  return check('mirror-pod', name, 'fail', describePod(v).replace(`${pod}: `, ''), data);
}

function taintText(t: { key: string; value: string | null; effect: string }): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}

function nodeCheck(nodeName: string, node: ApiAnswer, unreachable: string | undefined, nodePath: string): StatusCheck {
  const name = `node ${nodeName}`;
  const base = { name: nodeName, found: null as boolean | null, ready: null as boolean | null, reason: null as string | null, message: null as string | null, taints: [] as unknown[], kubeletVersion: null as string | null };
  if (unreachable !== undefined || !node.ok) return check('node', name, 'unknown', unreachable ?? 'not checked', base);
  if (node.status === 404) return check('node', name, 'fail', `not registered: the kubelet has not registered the Node "${nodeName}" with the API server`, { ...base, found: false });
  if (node.status !== 200) return check('node', name, 'fail', `GET ${nodePath}: ${node.status} ${node.message}`, base);
  const n = obj(node.body);
  const status = obj(n.status);
  const conditions = Array.isArray(status.conditions) ? (status.conditions as unknown[]).map(obj) : [];
  const cond = conditions.find((c) => c.type === 'Ready');
  const taints = (Array.isArray(obj(n.spec).taints) ? (obj(n.spec).taints as unknown[]).map(obj) : []).map((x) => ({
    key: String(x.key ?? ''),
    value: str(x.value),
    effect: String(x.effect ?? ''),
  }));
  const kubeletVersion = str(obj(status.nodeInfo).kubeletVersion);
  const data = { name: nodeName, found: true, ready: cond?.status === 'True', reason: str(cond?.reason), message: str(cond?.message), taints, kubeletVersion };
  const facts = `kubelet ${kubeletVersion ?? 'version unknown'}; ${taints.length === 0 ? 'no taints' : `taints ${taints.map(taintText).join(', ')}`}`;
  if (!cond) return check('node', name, 'fail', `no Ready condition yet; ${facts}`, data);
  if (cond.status !== 'True') {
    const why = [str(cond.reason), str(cond.message)].filter((x) => x !== null).join(': ');
    return check('node', name, 'fail', `not Ready (Ready=${String(cond.status)}${why ? `, ${why}` : ''}); ${facts}`, data);
  }
  return check('node', name, 'ok', `Ready; ${facts}`, data);
}

function corednsCheck(d: ApiAnswer, unreachable: string | undefined, path: string): StatusCheck {
  const base = { installed: null as boolean | null, replicas: null as number | null, readyReplicas: null as number | null };
  if (unreachable !== undefined || !d.ok) return check('coredns', 'coredns', 'unknown', unreachable ?? 'not checked', base);
  if (d.status === 404) return check('coredns', 'coredns', 'ok', 'not installed (there is no Deployment kube-system/coredns)', { ...base, installed: false });
  if (d.status !== 200) return check('coredns', 'coredns', 'fail', `GET ${path}: ${d.status} ${d.message}`, base);
  const dep = obj(d.body);
  const replicas = typeof obj(dep.spec).replicas === 'number' ? (obj(dep.spec).replicas as number) : 1;
  const ready = typeof obj(dep.status).readyReplicas === 'number' ? (obj(dep.status).readyReplicas as number) : 0;
  const data = { installed: true, replicas, readyReplicas: ready };
  const text = `${ready}/${replicas} replica${replicas === 1 ? '' : 's'} ready (Deployment kube-system/coredns)`;
  return check('coredns', 'coredns', ready >= replicas ? 'ok' : 'fail', text, data);
}

/** major, minor, patch of "v1.36.5", "v1.36.5-rc.0+abc" */
function versionCore(v: string | null): [number, number, number] | undefined {
  const m = v === null ? null : /^v?(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** The kubelet may be up to 3 minor versions older than the API server, never newer (Kubernetes' skew policy). */
export const KUBELET_MAX_MINOR_SKEW = 3;

export function versionsCheck(
  v: { readonly kubeboot: string; readonly configured: string; readonly apiServer: string | null; readonly kubelet: string | null },
  unreachable: string | undefined,
): StatusCheck {
  const data = { kubeboot: v.kubeboot, configured: v.configured, apiServer: v.apiServer, kubelet: v.kubelet };
  const facts = `configured ${v.configured}; API server ${v.apiServer ?? 'unknown'}; kubelet ${v.kubelet ?? 'unknown'}`;
  if (unreachable !== undefined) return check('versions', 'versions', 'unknown', `configured ${v.configured}; API server and kubelet ${unreachable}`, data);
  const conf = versionCore(v.configured);
  const api = versionCore(v.apiServer);
  const kubelet = versionCore(v.kubelet);
  const problems: string[] = [];
  if (conf && api && conf.join('.') !== api.join('.')) problems.push(`the API server runs ${v.apiServer}, the configuration says ${v.configured} ('kubeboot regenerate kube-apiserver' applies it)`);
  if (api && kubelet) {
    if (kubelet[0] !== api[0] || kubelet[1] > api[1]) problems.push(`the kubelet ${v.kubelet} is newer than the API server ${v.apiServer}: Kubernetes does not support that`);
    else if (api[1] - kubelet[1] > KUBELET_MAX_MINOR_SKEW) problems.push(`the kubelet ${v.kubelet} is more than ${KUBELET_MAX_MINOR_SKEW} minor versions older than the API server ${v.apiServer}: Kubernetes does not support that`);
  }
  return problems.length > 0 ? check('versions', 'versions', 'fail', `${problems.join('; ')} (${facts})`, data) : check('versions', 'versions', 'ok', facts, data);
}

async function certificatesCheck(ctx: NodeContext): Promise<StatusCheck> {
  try {
    const report = await checkExpiration(ctx.fx, ctx.spec, ctx.fx.now());
    return certificatesCheckOf(report.info);
  } catch (err) {
    const m = `cannot read the certificates: ${errorMessage(err)}`;
    return check('certificates', 'certificates', 'fail', m, { nearest: null, expired: [], expiringSoon: [], missing: [] });
  }
}

/**
 * kubeadm advises keeping super-admin.conf somewhere safe rather than on the node, so its absence is no fault; any
 * other missing certificate or kubeconfig is.
 */
export const MAY_BE_ABSENT = ['super-admin.conf'];

/** The certificates' check from check-expiration's data (PURE): the nearest expiry; a failure when one expired or is missing. */
export function certificatesCheckOf(info: CertificateExpirationInfo): StatusCheck {
  const all: { e: ExpirationEntry; ca: boolean }[] = [...info.certificates.map((e) => ({ e, ca: false })), ...info.certificateAuthorities.map((e) => ({ e, ca: true }))];
  const present = all.filter((x) => !x.e.missing && x.e.expirationDate !== null);
  const missing = all.filter((x) => x.e.missing || x.e.expirationDate === null).map((x) => x.e.name);
  const expired = present.filter((x) => x.e.residualTime < 0);
  const soon = present.filter((x) => x.e.residualTime >= 0 && x.e.residualTime * 1000 < EXPIRING_SOON_MS);
  const nearest = [...present].sort((a, b) => a.e.residualTime - b.e.residualTime || a.e.name.localeCompare(b.e.name))[0];
  const data = {
    nearest: nearest ? { name: nearest.e.name, authority: nearest.ca, expirationDate: nearest.e.expirationDate, residualTime: nearest.e.residualTime } : null,
    expired: expired.map((x) => x.e.name),
    expiringSoon: soon.map((x) => x.e.name),
    missing,
  };
  const renew = (x: { e: ExpirationEntry; ca: boolean }) => (x.ca ? 'a CA is not renewed by kubeboot' : `kubeboot certs renew ${x.e.name}`);
  const when = (x: { e: ExpirationEntry }) => kubeadmDate(new Date(x.e.expirationDate as string));
  const problems: string[] = [];
  if (expired.length > 0) problems.push(`expired: ${expired.map((x) => `${x.e.name} on ${when(x)} (${renew(x)})`).join(', ')}`);
  const badMissing = missing.filter((m) => !MAY_BE_ABSENT.includes(m));
  if (badMissing.length > 0) problems.push(`missing: ${badMissing.join(', ')}`);
  if (problems.length > 0) return check('certificates', 'certificates', 'fail', problems.join('; '), data);
  if (!nearest) return check('certificates', 'certificates', 'ok', 'no certificates to check', data);
  let text = `nearest expiry: ${nearest.e.name}${nearest.ca ? ' (CA)' : ''} in ${shortHumanDuration(nearest.e.residualTime * 1000)} (${when(nearest)})`;
  if (soon.length > 0) text += `; within 30 days: ${soon.map((x) => `${x.e.name} (${renew(x)})`).join(', ')}`;
  const absent = missing.filter((m) => MAY_BE_ABSENT.includes(m));
  if (absent.length > 0) text += `; not on this node: ${absent.join(', ')}`;
  return check('certificates', 'certificates', 'ok', text, data);
}

// ------------------------------------------------------------------------------------------------ presentation

const STATE_TEXT: Readonly<Record<CheckState, string>> = { ok: 'ok', fail: 'FAIL', unknown: 'UNKNOWN' };

/** The text output: one line per check, `ok`/`FAIL`/`UNKNOWN`, its name, and what was found or what is wrong. */
export function statusText(r: NodeStatusReport): string {
  const w = Math.max(0, ...r.checks.map((c) => c.name.length));
  return r.checks.map((c) => `${STATE_TEXT[c.state].padEnd(7)} ${c.name.padEnd(w)}  ${c.message}\n`).join('');
}

/** One line for the error of an unhealthy node: what failed, and what could not be checked because of it. */
export function problemSummary(r: NodeStatusReport): string {
  const parts: string[] = [];
  if (r.failed.length > 0) parts.push(`failed: ${r.failed.join(', ')}`);
  if (r.unknown.length > 0) parts.push(`not checked: ${r.unknown.join(', ')}`);
  return parts.join('; ');
}
