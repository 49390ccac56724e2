/**
 * Waiting for what a CI job needs after init (issue 12): `--wait-for node,dns,workloads`.
 *
 *  - node: the Node object's Ready condition is True (the kubelet reports the runtime's network ready: a CNI
 *    configuration works). The diagnosis quotes the condition's reason and message (e.g. "NetworkPluginNotReady").
 *  - dns: the CoreDNS Deployment kube-system/coredns has all its replicas ready (which needs a pod network, the node
 *    schedulable for it, and CoreDNS reaching the API server through the kubernetes Service: its `ready` plugin waits
 *    for the kubernetes plugin's first sync), and the kube-dns Service exists.
 *  - workloads: a pod that is not on the host network starts (the pause image, which the runtime has for every pod
 *    sandbox; no other image is assumed), gets an address from the pod subnet, and is deleted again; then the
 *    cluster DNS (the kube-dns Service address, reached from the node through kube-proxy's rules) answers
 *    kubernetes.default.svc.<dnsDomain> with the kubernetes Service's address, and that address answers HTTPS.
 *    What this proves: pods are scheduled and networked, and the names and Service addresses pods use work. What it
 *    does not: a lookup made from inside a pod (that needs an image with a resolver client, which kubeboot does not
 *    ship); the pod reaches CoreDNS through the same Service rules the node's query goes through.
 * Each wait polls through the effects with the run's clock; a timeout names what was missing and why.
 */
import { WaitTimeoutError, errorMessage } from '../errors.js';
import type { ApiClient } from '../kube/api.js';
import { poll, requestTimeout } from '../kube/wait.js';
import { formatDuration } from '../util/duration.js';
import type { InitContext } from './context.js';
import { kubeletNodeName } from './names.js';

export const CLUSTER_WAIT_TARGETS = ['node', 'dns', 'workloads'] as const;
export type ClusterWaitTarget = (typeof CLUSTER_WAIT_TARGETS)[number];

/** the probe pod of the workloads wait */
export const PROBE_POD = { namespace: 'default', name: 'kubeboot-workload-check' } as const;

const INTERVAL_MS = 250;

type Condition = { type?: string; status?: string; reason?: string; message?: string };

/** Why the node is not Ready yet (undefined: it is). */
export function nodeNotReady(node: { status?: { conditions?: Condition[] } } | undefined): string | undefined {
  if (!node) return 'the node is not registered';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready) return 'the node reports no Ready condition yet';
  if (ready.status === 'True') return undefined;
  return `Ready is ${ready.status ?? 'Unknown'}${ready.reason ? ` (${ready.reason})` : ''}${ready.message ? `: ${ready.message}` : ''}`;
}

/** Why the CoreDNS Deployment is not ready yet (undefined: it is). */
export function dnsNotReady(d: { spec?: { replicas?: number }; status?: { readyReplicas?: number; replicas?: number; conditions?: Condition[] } } | undefined): string | undefined {
  if (!d) return 'the Deployment kube-system/coredns does not exist (the addon/coredns phase did not run, or dns.disabled is set)';
  const want = d.spec?.replicas ?? 1;
  const ready = d.status?.readyReplicas ?? 0;
  if (want > 0 && ready >= want) return undefined;
  const cond = d.status?.conditions?.find((c) => c.type === 'Available' && c.status !== 'True');
  return `${ready}/${want} CoreDNS replicas ready${cond?.message ? ` (${cond.message})` : ''}`;
}

type PodBody = {
  status?: { phase?: string; podIP?: string; conditions?: Condition[]; containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[] };
};

/** Why the probe pod is not running with an address yet (undefined: it is). */
export function probePodNotRunning(p: PodBody | undefined): string | undefined {
  if (!p) return 'the pod is not created yet';
  const st = p.status ?? {};
  if (st.phase === 'Running' && st.podIP) return undefined;
  const unscheduled = st.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return `not scheduled: ${unscheduled.message ?? unscheduled.reason ?? 'no reason given'}`;
  const waiting = st.containerStatuses?.[0]?.state?.waiting;
  if (waiting) return `${st.phase ?? 'Pending'}: ${waiting.reason ?? 'waiting'}${waiting.message ? `: ${waiting.message}` : ''}`;
  const sandbox = st.conditions?.find((c) => c.type === 'PodReadyToStartContainers' && c.status === 'False');
  if (sandbox) return `${st.phase ?? 'Pending'}: the pod sandbox is not ready (its network is set up by the CNI plugin)`;
  return `${st.phase ?? 'Pending'}${st.podIP ? '' : ', no pod IP yet'}`;
}

/** The address is inside one of the comma-separated CIDRs (IPv4 and IPv6). */
export async function inSubnets(ip: string, cidrs: string): Promise<boolean> {
  const { Address4, Address6 } = await import('ip-address');
  for (const c of cidrs.split(',').map((s) => s.trim()).filter(Boolean)) {
    try {
      if (c.includes(':') && ip.includes(':')) {
        if (new Address6(ip).isInSubnet(new Address6(c))) return true;
      } else if (!c.includes(':') && !ip.includes(':')) {
        if (new Address4(ip).isInSubnet(new Address4(c))) return true;
      }
    } catch {
      // not an address: no
    }
  }
  return false;
}

/** The probe pod: pause, off the host network, never restarted, no service account token, gone at once when deleted. */
export function probePod(pauseImage: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: PROBE_POD.name, namespace: PROBE_POD.namespace, labels: { 'app.kubernetes.io/managed-by': 'kubeboot' } },
    spec: {
      containers: [{ name: 'pause', image: pauseImage, imagePullPolicy: 'IfNotPresent' }],
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
    },
  };
}

async function getJson<T>(client: ApiClient, path: string, timeoutMs: number): Promise<{ status: number; body: T | undefined }> {
  const r = await client.get<T>(path, requestTimeout(timeoutMs, 5000));
  return { status: r.status, body: r.body };
}

/** Polls `check` (undefined: done; a string: why not) until done or the timeout; throws WaitTimeoutError naming the target. */
async function waitUntil(ctx: InitContext, target: string, timeoutMs: number, check: (remainingMs: number) => Promise<string | undefined>): Promise<number> {
  let said = '';
  const r = await poll(
    ctx.fx,
    {
      name: target,
      timeoutMs,
      intervalMs: INTERVAL_MS,
      probe: async (remaining) => {
        const why = await check(remaining).catch((err: unknown) => `the API server did not answer: ${errorMessage(err)}`);
        return why === undefined ? { ok: true } : { ok: false, error: why };
      },
      onErrorChange: (error) => {
        if (error !== said) ctx.out.emit({ type: 'wait', target, status: 'progress', message: `${target}: ${error}` });
        said = error;
      },
    },
    ctx.options.signal,
  );
  if (!r.ok) {
    throw new WaitTimeoutError(`${target} not ready after ${formatDuration(r.elapsedMs)} (timeout ${formatDuration(timeoutMs)}): ${r.lastError ?? 'no answer'}`, {
      hint: HINTS[target as ClusterWaitTarget],
    });
  }
  ctx.out.log('wait-cluster', `${LABELS[target as ClusterWaitTarget]} after ${formatDuration(r.elapsedMs)}`);
  return r.elapsedMs;
}

const LABELS: Record<ClusterWaitTarget, string> = {
  node: 'The node is Ready',
  dns: 'CoreDNS is ready',
  workloads: 'A workload pod ran with a pod address, and the cluster DNS and the kubernetes Service answer',
};

const HINTS: Record<ClusterWaitTarget, string> = {
  node: "a node stays NotReady without a pod network: use --pod-network bridge (or install a CNI); then 'kubectl describe node'",
  dns: "CoreDNS needs a pod network and a node it may run on (--single-node removes the control-plane taint); run 'kubectl -n kube-system describe deployment coredns' and 'kubectl -n kube-system get pods -l k8s-app=kube-dns'",
  workloads: "run 'kubectl describe pod -n default kubeboot-workload-check' while it waits; a pod not scheduled on a one-node cluster usually means the control-plane taint (--single-node)",
};

/** The waits `--wait-for` selects among node, dns and workloads, in that order. */
export async function waitForCluster(ctx: InitContext): Promise<void> {
  const wanted = new Set(ctx.options.waitFor);
  const targets = CLUSTER_WAIT_TARGETS.filter((t) => wanted.has(t));
  if (targets.length === 0) return;
  const timeoutMs = ctx.options.waitTimeoutMs ?? ctx.spec.timeouts.controlPlaneComponentHealthCheckMs;
  ctx.out.log('wait-cluster', `Waiting for ${targets.join(', ')}. This can take up to ${formatDuration(timeoutMs)} each`);
  const done = await ctx.fx.waitForNode(`the cluster to be usable (${targets.join(', ')})`, async () => {
    const { client } = await ctx.client();
    const node = kubeletNodeName(ctx.spec);
    for (const t of targets) {
      if (t === 'node') {
        await waitUntil(ctx, 'node', timeoutMs, async (rem) => {
          const r = await getJson<{ status?: { conditions?: Condition[] } }>(client, `/api/v1/nodes/${encodeURIComponent(node)}`, rem);
          return nodeNotReady(r.status === 200 ? r.body : undefined);
        });
      } else if (t === 'dns') {
        await waitUntil(ctx, 'dns', timeoutMs, async (rem) => {
          const d = await getJson<Parameters<typeof dnsNotReady>[0]>(client, '/apis/apps/v1/namespaces/kube-system/deployments/coredns', rem);
          const why = dnsNotReady(d.status === 200 ? d.body : undefined);
          if (why) return why;
          const svc = await getJson(client, '/api/v1/namespaces/kube-system/services/kube-dns', rem);
          return svc.status === 200 ? undefined : 'the Service kube-system/kube-dns does not exist';
        });
      } else {
        await waitForWorkloads(ctx, client, timeoutMs);
      }
    }
    return true;
  });
  if (!done) ctx.out.log('wait-cluster', 'dry-run: the waits are not performed');
}

async function waitForWorkloads(ctx: InitContext, client: ApiClient, timeoutMs: number): Promise<void> {
  const pause = `${ctx.spec.imageRepository}/pause:${ctx.spec.version.pauseTag}`;
  const podPath = `/api/v1/namespaces/${PROBE_POD.namespace}/pods/${PROBE_POD.name}`;
  const remove = async () => {
    await client.delete(`${podPath}?gracePeriodSeconds=0`).catch(() => undefined);
  };
  // a probe pod left by an interrupted run goes first
  await remove();
  await waitUntil(ctx, 'workloads', timeoutMs, async (rem) => {
    const cur = await getJson<PodBody & { metadata?: { deletionTimestamp?: string } }>(client, podPath, rem);
    if (cur.status === 404) {
      const c = await client.create(`/api/v1/namespaces/${PROBE_POD.namespace}/pods`, probePod(pause), requestTimeout(rem, 5000));
      if (c.status !== 201 && c.status !== 200 && c.status !== 409) return `creating the pod ${PROBE_POD.namespace}/${PROBE_POD.name}: HTTP ${c.status}`;
      return 'the pod was created';
    }
    if (cur.body?.metadata?.deletionTimestamp) return 'the previous probe pod is still being deleted';
    const why = probePodNotRunning(cur.body);
    if (why) return why;
    const ip = cur.body?.status?.podIP as string;
    const subnet = ctx.spec.networking.podSubnet;
    if (subnet !== '' && !(await inSubnets(ip, subnet))) return `the pod's address ${ip} is not in the pod subnet ${subnet}`;
    return dnsAndService(ctx, client, rem);
  }).finally(remove);
}

/** The cluster DNS answers kubernetes.default.svc.<domain> with the kubernetes Service's address, which answers HTTPS. */
async function dnsAndService(ctx: InitContext, client: ApiClient, rem: number): Promise<string | undefined> {
  const dnsSvc = await getJson<{ spec?: { clusterIP?: string } }>(client, '/api/v1/namespaces/kube-system/services/kube-dns', rem);
  const dnsIP = dnsSvc.body?.spec?.clusterIP;
  if (dnsSvc.status !== 200 || !dnsIP) return 'the Service kube-system/kube-dns has no address';
  const apiSvc = await getJson<{ spec?: { clusterIP?: string } }>(client, '/api/v1/namespaces/default/services/kubernetes', rem);
  const apiIP = apiSvc.body?.spec?.clusterIP;
  if (apiSvc.status !== 200 || !apiIP) return 'the Service default/kubernetes has no address';
  const name = `kubernetes.default.svc.${ctx.spec.networking.dnsDomain}`;
  let answers: readonly string[];
  try {
    answers = await ctx.fx.resolveName(dnsIP, name, requestTimeout(rem, 2000));
  } catch (err) {
    return `the cluster DNS at ${dnsIP} did not answer ${name}: ${errorMessage(err)}`;
  }
  if (!answers.includes(apiIP)) return `the cluster DNS at ${dnsIP} answered ${name} with ${answers.join(', ') || 'nothing'}, not the kubernetes Service's ${apiIP}`;
  const host = apiIP.includes(':') ? `[${apiIP}]` : apiIP;
  try {
    const r = await ctx.fx.http({ url: `https://${host}:443/readyz`, insecure: true, timeoutMs: requestTimeout(rem, 2000) });
    if (r.status <= 0) return `the kubernetes Service ${apiIP}:443 did not answer`;
  } catch (err) {
    return `the kubernetes Service ${apiIP}:443 (through kube-proxy) did not answer: ${errorMessage(err)}`;
  }
  return undefined;
}
