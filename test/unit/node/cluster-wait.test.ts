/**
 * `--wait-for node,dns,workloads` (src/node/cluster-wait.ts) against a scripted API server and DNS: what each
 * target waits for, that the probe pod is created off the host network and deleted again, and that a timeout names
 * the target, the last reason and what to do. The real cluster (test/real) shows the same waits pass for real.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WaitTimeoutError } from '../../../src/errors.js';
import type { HttpRequest, HttpResponse } from '../../../src/effects/types.js';
import { ApiClient } from '../../../src/kube/api.js';
import { PROBE_POD, dnsNotReady, inSubnets, nodeNotReady, probePod, probePodNotRunning, waitForCluster } from '../../../src/node/cluster-wait.js';
import type { InitContext } from '../../../src/node/context.js';
import { testContext } from '../../helpers/context.js';

const SERVER = 'https://192.0.2.10:6443';
type Obj = Record<string, any>;

describe('why a target is not ready yet', () => {
  it('the node: unregistered, no condition, NotReady with the kubelet’s reason', () => {
    assert.equal(nodeNotReady(undefined), 'the node is not registered');
    assert.equal(nodeNotReady({ status: {} }), 'the node reports no Ready condition yet');
    assert.equal(
      nodeNotReady({ status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady' }] } }),
      'Ready is False (KubeletNotReady): container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady',
    );
    assert.equal(nodeNotReady({ status: { conditions: [{ type: 'Ready', status: 'True' }] } }), undefined);
  });

  it('CoreDNS: absent, some replicas ready, all ready', () => {
    assert.match(dnsNotReady(undefined) as string, /does not exist/);
    assert.equal(dnsNotReady({ spec: { replicas: 2 }, status: { readyReplicas: 1, conditions: [{ type: 'Available', status: 'False', message: 'Deployment does not have minimum availability.' }] } }), '1/2 CoreDNS replicas ready (Deployment does not have minimum availability.)');
    assert.equal(dnsNotReady({ spec: { replicas: 2 }, status: { readyReplicas: 2 } }), undefined);
  });

  it('the probe pod: unschedulable (the taint), waiting with a reason, running without an address, running with one', () => {
    assert.equal(
      probePodNotRunning({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', message: "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }." }] } }),
      "not scheduled: 0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.",
    );
    assert.equal(probePodNotRunning({ status: { phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ContainerCreating' } } }] } }), 'Pending: ContainerCreating');
    assert.equal(probePodNotRunning({ status: { phase: 'Running' } }), 'Running, no pod IP yet');
    assert.equal(probePodNotRunning({ status: { phase: 'Running', podIP: '10.244.0.5' } }), undefined);
  });

  it('addresses in the pod subnet(s), either family', async () => {
    assert.equal(await inSubnets('10.244.0.5', '10.244.0.0/16'), true);
    assert.equal(await inSubnets('192.0.2.10', '10.244.0.0/16'), false, 'a host-network address is not a pod address');
    assert.equal(await inSubnets('fd00:10:244::5', '10.244.0.0/16,fd00:10:244::/56'), true);
    assert.equal(await inSubnets('not-an-ip', '10.244.0.0/16'), false);
  });

  it('the probe pod is off the host network, never restarted, without a token, and uses the pause image', () => {
    const p = probePod('registry.k8s.io/pause:3.10.1') as Obj;
    assert.equal(p.spec.hostNetwork, undefined);
    assert.equal(p.spec.restartPolicy, 'Never');
    assert.equal(p.spec.automountServiceAccountToken, false);
    assert.equal(p.spec.containers[0].image, 'registry.k8s.io/pause:3.10.1');
    assert.deepEqual([p.metadata.namespace, p.metadata.name], [PROBE_POD.namespace, PROBE_POD.name]);
  });
});

/** A scripted cluster: the node turns Ready after `readyAfter` reads; CoreDNS ready; the probe pod runs at once. */
class Cluster {
  readonly calls: string[] = [];
  nodeReads = 0;
  readyAfter = 2;
  podIP = '10.244.0.7';
  pod: Obj | undefined;
  deleted = 0;
  handle = (req: HttpRequest): HttpResponse => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url);
    const json = (status: number, body: unknown): HttpResponse => ({ status, body: JSON.stringify(body), headers: {} });
    this.calls.push(`${method} ${url.host === '192.0.2.10:6443' ? '' : `https://${url.host}`}${url.pathname}`);
    if (url.hostname === '10.96.0.1') {
      assert.equal(url.port, '', 'the kubernetes Service on 443');
      return { status: 200, body: 'ok', headers: {} };
    }
    const p = url.pathname;
    if (p === '/api/v1/nodes/cp1') {
      this.nodeReads++;
      return json(200, { status: { conditions: [{ type: 'Ready', status: this.nodeReads > this.readyAfter ? 'True' : 'False', reason: 'KubeletNotReady', message: 'NetworkPluginNotReady' }] } });
    }
    if (p === '/apis/apps/v1/namespaces/kube-system/deployments/coredns') return json(200, { spec: { replicas: 2 }, status: { readyReplicas: 2 } });
    if (p === '/api/v1/namespaces/kube-system/services/kube-dns') return json(200, { spec: { clusterIP: '10.96.0.10' } });
    if (p === '/api/v1/namespaces/default/services/kubernetes') return json(200, { spec: { clusterIP: '10.96.0.1' } });
    const podPath = `/api/v1/namespaces/${PROBE_POD.namespace}/pods/${PROBE_POD.name}`;
    if (p === podPath && method === 'DELETE') {
      if (!this.pod) return json(404, { kind: 'Status', reason: 'NotFound' });
      this.pod = undefined;
      this.deleted++;
      return json(200, {});
    }
    if (p === podPath) return this.pod ? json(200, this.pod) : json(404, { kind: 'Status', reason: 'NotFound' });
    if (p === `/api/v1/namespaces/${PROBE_POD.namespace}/pods` && method === 'POST') {
      this.pod = { ...JSON.parse(req.body as string), status: { phase: 'Running', podIP: this.podIP } };
      return json(201, this.pod);
    }
    return json(404, { kind: 'Status', reason: 'NotFound', message: p });
  };
}

function setup(waitFor: string[], flags: Record<string, string | boolean> = {}) {
  const base = testContext({ 'node-name': 'cp1', 'pod-network': 'bridge', ...flags }, { waitFor, waitTimeoutMs: 3000 });
  const cluster = new Cluster();
  base.fx.http_ = cluster.handle;
  const client = new ApiClient(base.fx, { server: SERVER, ca: undefined, cert: '', key: '', user: 'kubernetes-admin', cluster: 'kubernetes', insecure: true } as never, '/etc/kubernetes/admin.conf');
  const ctx: InitContext = { ...base.ctx, client: async () => ({ client, superAdmin: async () => undefined, ensureClusterAdmins: async () => ({ ok: true, how: 'exists' }) as const }) };
  return { ctx, fx: base.fx, cluster, events: base.events };
}

const logs = (events: { events: readonly unknown[] }) => events.events.filter((e) => (e as { type: string }).type === 'log').map((e) => (e as { message: string }).message);

describe('waitForCluster', () => {
  it('node, dns, workloads: each passes in turn; the probe pod is created, checked and deleted; the DNS answer is the Service address', async () => {
    const { ctx, fx, cluster, events } = setup(['all', 'node', 'dns', 'workloads']);
    fx.dns.set('10.96.0.10 kubernetes.default.svc.cluster.local', ['10.96.0.1']);
    await waitForCluster(ctx);
    assert.equal(cluster.nodeReads, 3, 'polled until the node turned Ready');
    assert.equal(cluster.deleted, 1, 'the probe pod is deleted afterwards');
    assert.ok(cluster.calls.includes('GET https://10.96.0.1/readyz'), cluster.calls.join('\n'));
    const l = logs(events);
    assert.ok(l.some((x) => /^The node is Ready after/.test(x)), l.join('\n'));
    assert.ok(l.some((x) => /^CoreDNS is ready after/.test(x)));
    assert.ok(l.some((x) => /^A workload pod ran with a pod address/.test(x)));
  });

  it('only the targets named; none of them: no API call at all', async () => {
    const a = setup(['dns']);
    await waitForCluster(a.ctx);
    assert.equal(a.cluster.nodeReads, 0);
    assert.equal(a.cluster.pod, undefined);
    const b = setup(['all']);
    await waitForCluster(b.ctx);
    assert.deepEqual(b.cluster.calls, []);
  });

  it('a timeout names the target, the last reason and what to do (exit 4)', async () => {
    const { ctx, cluster } = setup(['node']);
    cluster.readyAfter = Number.POSITIVE_INFINITY;
    await assert.rejects(waitForCluster(ctx), (err: WaitTimeoutError) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.match(err.message, /^node not ready after .* \(timeout 3s\): Ready is False \(KubeletNotReady\): NetworkPluginNotReady$/);
      assert.match(err.hint ?? '', /--pod-network bridge/);
      return true;
    });
  });

  it('the attempt at the deadline gets a request time a real API server can answer in, so the timeout keeps the reason', async () => {
    // found on the real node: CoreDNS never ready (kube-proxy crashed), and the last attempt, made with 1 ms left,
    // asked the API server with a 1 ms timeout; its "timed out after 1 ms" replaced "0/2 CoreDNS replicas ready"
    const { ctx, fx, cluster } = setup(['dns']);
    const timeouts: number[] = [];
    const handle = cluster.handle;
    fx.http_ = (req) => {
      timeouts.push(req.timeoutMs ?? Number.POSITIVE_INFINITY);
      // an API server answers in some milliseconds, never in one
      if ((req.timeoutMs ?? Number.POSITIVE_INFINITY) < 20) throw new Error(`request to ${req.url} timed out after ${req.timeoutMs} ms`);
      const r = handle(req);
      if (new URL(req.url).pathname.endsWith('/deployments/coredns')) return { ...r, body: JSON.stringify({ spec: { replicas: 2 }, status: { readyReplicas: 0 } }) };
      return r;
    };
    await assert.rejects(waitForCluster(ctx), (err: WaitTimeoutError) => {
      assert.match(err.message, /^dns not ready after .* \(timeout 3s\): 0\/2 CoreDNS replicas ready$/);
      return true;
    });
    assert.ok(Math.min(...timeouts) >= 1000, `every request may take at least 1 s: ${timeouts.join(', ')}`);
  });

  it('workloads: a pod address outside the pod subnet and a DNS answer that is not the Service are reasons, not passes', async () => {
    const a = setup(['workloads']);
    a.cluster.podIP = '192.0.2.10';
    a.fx.dns.set('10.96.0.10 kubernetes.default.svc.cluster.local', ['10.96.0.1']);
    await assert.rejects(waitForCluster(a.ctx), /workloads not ready .*: the pod's address 192\.0\.2\.10 is not in the pod subnet 10\.244\.0\.0\/16/);
    assert.equal(a.cluster.pod, undefined, 'the probe pod is deleted after a failure too');
    const b = setup(['workloads']);
    b.fx.dns.set('10.96.0.10 kubernetes.default.svc.cluster.local', ['10.96.0.99']);
    await assert.rejects(waitForCluster(b.ctx), /answered kubernetes\.default\.svc\.cluster\.local with 10\.96\.0\.99, not the kubernetes Service's 10\.96\.0\.1/);
    const c = setup(['workloads']);
    await assert.rejects(waitForCluster(c.ctx), /the cluster DNS at 10\.96\.0\.10 did not answer kubernetes\.default\.svc\.cluster\.local/);
  });
});
