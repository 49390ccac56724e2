/**
 * The real tier, issue 12 point 7: a test cluster for CI from `kubeboot init --pod-network bridge --single-node
 * --wait-for node,dns,workloads`, on one test node (test/real/node.ts) where a real containerd, runc, the kubelet,
 * the CNI reference plugins (Debian's, /usr/lib/cni), CoreDNS and kube-proxy run what kubeboot writes. In order:
 *   init exits 0 → the node Ready without the control-plane taint, CoreDNS ready, kube-proxy running → a Deployment
 *   of the probe image behind a Service: from inside its pod the cluster DNS answers kubernetes.default.svc and the
 *   API server answers through the kubernetes Service (the pod's own resolver and the service-account CA; the node
 *   asks the pod through the probe Service's ClusterIP, i.e. through kube-proxy) → `kubeboot status -o json` healthy
 *   → `reset --force` leaves no pod sandbox, CNI configuration, bridge, address reservations or kubelet mounts → a
 *   second init on the same node succeeds, and a second reset.
 * The flags are used here; the same settings in a kubeboot.io/v1alpha1 KubebootConfiguration document are covered by
 * test/unit/node/pod-network.test.ts. Skipped (with the command that enables it) when the components are not built;
 * a failure under CI.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { imageFor, requireRealTier } from './components.js';
import { jsonLines, resultOf } from './events.js';
import { hostSnapshot, type HostSnapshot } from './host-state.js';
import { RealNode, nodeConfig, probeWorkload, sweepStaleNodes, type ExecResult } from './node.js';

const NODE = 'kb-ci';
const IP = '192.0.2.10';
const PROBE_IMAGE = 'kubeboot.test/probe:latest';
/** no podSubnet in the configuration: --pod-network's default (kind's) */
const DEFAULT_POD_SUBNET = /^10\.244\.\d{1,3}\.\d{1,3}$/;
const CONFLIST = '/etc/cni/net.d/10-kubeboot-bridge.conflist';
const IPAM_DIR = '/var/lib/cni/networks/kubeboot';
const INIT_FLAGS = ['--pod-network', 'bridge', '--single-node', '--wait-for', 'node,dns,workloads', '--output', 'json'];

type Condition = { type: string; status: string; reason?: string; message?: string };
interface Pod {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string; hostNetwork?: boolean };
  status: { phase?: string; podIP?: string; conditions?: Condition[]; containerStatuses?: { ready: boolean; restartCount: number }[] };
}
interface NodeObj {
  metadata: { labels?: Record<string, string> };
  spec: { taints?: { key: string; effect: string }[] };
  status: { conditions?: Condition[] };
}
interface Deployment {
  spec: { replicas?: number };
  status: { readyReplicas?: number; availableReplicas?: number; conditions?: Condition[] };
}

const podReady = (p: Pod) => p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

/** The probe workload: a Deployment of the probe image, Ready once it serves, and a Service in front of it. */
const PROBE_OBJECTS = probeWorkload(PROBE_IMAGE, { readiness: true, service: true });

describe('a test cluster for CI from kubeboot init (issue 12)', { timeout: 45 * 60_000 }, () => {
  it('one node: init with the pod network, workloads through DNS and Services, status, reset, init again', async (t) => {
    const components = requireRealTier(t);
    if (!components) return;
    sweepStaleNodes();
    const before: HostSnapshot = hostSnapshot();
    const images = [
      ...['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'pause', 'coredns', 'kube-proxy'].map((c) => imageFor(components, c)),
      PROBE_IMAGE,
    ];
    const node = await RealNode.start(components, { name: NODE, ip: IP, images });
    let failed = false;
    /** what the cluster looked like when a step failed (the API server may be gone: then nothing) */
    const clusterState = async (): Promise<string> => {
      const parts: string[] = [];
      for (const a of [
        ['get', 'nodes', '-o', 'wide'],
        ['get', 'pods', '-A', '-o', 'wide'],
        ['get', 'events', '-A', '--sort-by=.lastTimestamp'],
      ]) {
        const r = await node.kubectl(a).catch(() => undefined);
        parts.push(`--- kubectl ${a.join(' ')}\n${r ? `${r.stdout}${r.stderr}` : '(no answer)'}`);
      }
      const ps = await node.crictl(['ps', '-a']).catch(() => undefined);
      parts.push(`--- crictl ps -a\n${ps ? `${ps.stdout}${ps.stderr}` : '(no answer)'}`);
      return parts.join('\n');
    };
    t.after(async () => {
      if (failed) t.diagnostic(`${await clusterState()}\n${node.diagnostics(60)}`);
      await node.stop();
    });
    const step = async (name: string, fn: () => Promise<void>) => {
      const t0 = Date.now();
      await t.test(name, async () => {
        try {
          await fn();
        } catch (e) {
          failed = true;
          throw e;
        }
      });
      t.diagnostic(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };
    const show = (r: ExecResult) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n${node.diagnostics(25)}`;
    const until = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>) => node.until(what, timeoutMs, fn);
    /** an HTTP GET made in the node's network namespace (what reaches a ClusterIP there goes through kube-proxy's rules) */
    const fetchInNode = async (url: string): Promise<{ status: number; body: string }> => {
      const r = await node.exec('curl', ['-sS', '--max-time', '15', '-o', '-', '-w', '\n%{http_code}', url], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, `curl ${url}: ${show(r)}`);
      const cut = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
    };
    const nodeObj = () => node.kubectlJson<NodeObj>(['get', 'node', NODE]);
    const nodeReady = (n: NodeObj) => n.status.conditions?.find((c) => c.type === 'Ready');

    const config = path.join(node.dir, 'kubeboot.yaml');
    writeFileSync(
      config,
      nodeConfig({
        name: NODE,
        ip: IP,
        version: components.version,
        podSubnet: '',
        documents: [
          // what this VM needs, as kind sets it: the conntrack table's size is the host's (only its network namespace
          // may set it, and kube-proxy, seeing a value other than its own, would fail to), so kube-proxy leaves it alone
          'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nconntrack:\n  maxPerCore: 0\n',
        ],
      }),
    );
    t.diagnostic(`node start ${node.timings.startMs} ms, image import ${node.timings.importMs} ms (${images.length} images)`);

    let joinToken = '';
    const init = async (round: string) => {
      const t0 = Date.now();
      const r = await node.kubeboot(['init', '--config', config, ...INIT_FLAGS]);
      const ms = Date.now() - t0;
      assert.equal(r.code, 0, show(r));
      const res = resultOf(r);
      const events = jsonLines(r);
      const warnings = events.filter((e) => e.type === 'warning').map((e) => e.message);
      if (warnings.length) t.diagnostic(`${round} init warned: ${warnings.join(' | ')}`);
      const waits = events.filter((e) => e.type === 'log' && (e as { tag?: string }).tag === 'wait-cluster' && / after /.test(e.message ?? '')).map((e) => e.message);
      const phases = events
        .filter((e) => e.type === 'phase' && e.status === 'finished' && !String((e as { phase?: string }).phase).includes('/'))
        .map((e) => `${(e as { phase?: string }).phase} ${(((e as { durationMs?: number }).durationMs ?? 0) / 1000).toFixed(1)}`);
      t.diagnostic(`${round} kubeboot init --pod-network bridge --single-node --wait-for node,dns,workloads: ${(ms / 1000).toFixed(1)} s wall\n  phases (s): ${phases.join(', ')}\n  ${waits.join('\n  ')}`);
      assert.equal(res.kubeconfig, '/etc/kubernetes/admin.conf');
      const ran = res.phasesRun as string[];
      for (const p of ['pod-network', 'wait-cluster']) assert.ok(ran.some((x) => x === p || x.startsWith(`${p}/`)), `phase ${p} ran: ${ran.join(', ')}`);
      assert.ok(existsSync(node.hostPath(CONFLIST)), `${CONFLIST} written`);
      const join = (res.join as { token: string; endpoint: string }[] | undefined)?.[0];
      assert.ok(join && /^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(join.token), `the result names the join token: ${JSON.stringify(res.join)}`);
      joinToken = join.token;
      return ms;
    };

    await step('a. init --pod-network bridge --single-node --wait-for node,dns,workloads exits 0', async () => {
      await init('first');
    });

    await step('b. the node is Ready without the control-plane taint; CoreDNS ready; kube-proxy running', async () => {
      const n = await nodeObj();
      assert.equal(nodeReady(n)?.status, 'True', JSON.stringify(n.status.conditions));
      assert.ok(n.metadata.labels?.['node-role.kubernetes.io/control-plane'] !== undefined, 'still labelled control-plane');
      const taints = (n.spec.taints ?? []).map((x) => `${x.key}:${x.effect}`);
      assert.ok(!taints.some((x) => x.startsWith('node-role.kubernetes.io/control-plane')), `no control-plane taint: ${taints.join(', ')}`);
      const dns = await node.kubectlJson<Deployment>(['get', 'deployment', '-n', 'kube-system', 'coredns']);
      const want = dns.spec.replicas ?? 1;
      assert.ok(want >= 1);
      assert.equal(dns.status.readyReplicas, want, `CoreDNS ready: ${JSON.stringify(dns.status)}`);
      const dnsPods = await node.kubectlJson<{ items: Pod[] }>(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns']);
      for (const p of dnsPods.items) {
        assert.equal(p.spec.nodeName, NODE);
        assert.ok(!p.spec.hostNetwork, 'CoreDNS is off the host network');
        assert.match(p.status.podIP ?? '', DEFAULT_POD_SUBNET, `${p.metadata.name} has an address from the default pod subnet`);
      }
      const proxy = await node.kubectlJson<{ items: Pod[] }>(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy']);
      assert.equal(proxy.items.length, 1, 'one kube-proxy pod');
      const kp = proxy.items[0] as Pod;
      assert.equal(kp.status.phase, 'Running', JSON.stringify(kp.status));
      assert.ok(podReady(kp), `kube-proxy Ready: ${JSON.stringify(kp.status.conditions)}`);
      const cm = await node.kubectl(['get', 'configmap', '-n', 'kube-system', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}']);
      assert.equal(cm.code, 0, show(cm));
      assert.match(cm.stdout, /podSubnet: 10\.244\.0\.0\/16/, 'the default pod subnet is in the recorded ClusterConfiguration');
    });

    let apiServiceIP = '';
    await step('c. a probe Deployment behind a Service: its pod resolves the kubernetes Service through CoreDNS and reaches the API server', async () => {
      const apply = await node.kubectl(['apply', '-f', '-'], { input: PROBE_OBJECTS });
      assert.equal(apply.code, 0, show(apply));
      const rollout = await node.kubectl(['rollout', 'status', 'deployment/probe', '-n', 'default', '--timeout=180s'], { timeoutMs: 200_000 });
      assert.equal(rollout.code, 0, show(rollout));
      const d = await node.kubectlJson<Deployment>(['get', 'deployment', '-n', 'default', 'probe']);
      assert.equal(d.status.availableReplicas, 1, JSON.stringify(d.status));
      const pods = await node.kubectlJson<{ items: Pod[] }>(['get', 'pods', '-n', 'default', '-l', 'app=probe']);
      const running = pods.items.filter((p) => p.status.phase === 'Running');
      assert.equal(running.length, 1, JSON.stringify(pods.items.map((p) => p.status)));
      const podIP = (running[0] as Pod).status.podIP ?? '';
      assert.match(podIP, DEFAULT_POD_SUBNET);

      apiServiceIP = (await node.kubectl(['get', 'service', '-n', 'default', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
      assert.equal(apiServiceIP, '198.51.100.1');
      const probeIP = (await node.kubectl(['get', 'service', '-n', 'default', 'probe', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
      assert.match(probeIP, /^198\.51\.100\.\d+$/);

      // "/" through the probe Service (kube-proxy's rules in the node's network namespace, the bridge to the pod)
      const root = await until(`http://${probeIP}/ answers`, 60_000, async () => {
        const r = await fetchInNode(`http://${probeIP}/`);
        return r.status === 200 ? r : undefined;
      });
      assert.match(root.body, /^ok probe-/, root.body);
      // "/check": inside the pod, the pod's resolv.conf (the kube-dns Service), CoreDNS's answer, then HTTPS to that
      // address (the kubernetes Service, kube-proxy to the API server) with the service-account CA
      let last = '';
      const check = await until(`http://${probeIP}/check succeeds`, 60_000, async () => {
        const r = await fetchInNode(`http://${probeIP}/check`);
        last = `${r.status} ${r.body}`;
        return r.status === 200 ? r : undefined;
      }).catch((e: Error) => assert.fail(`${e.message}; the last answer: ${last}`));
      const report = JSON.parse(check.body) as { name: string; addresses?: string[]; version?: string; error?: string };
      t.diagnostic(`the probe pod's /check: ${check.body.trim()}`);
      assert.equal(report.name, 'kubernetes.default.svc.cluster.local');
      assert.ok(report.addresses?.includes(apiServiceIP), `resolved to the kubernetes Service ${apiServiceIP}: ${JSON.stringify(report.addresses)}`);
      assert.equal(report.version, components.version);
      assert.equal(report.error, undefined);
    });

    await step('c2. cluster-info is readable anonymously; a real kubectl with the bootstrap token posts a node CSR, which the controller-manager approves', async () => {
      // anonymous: no client certificate, no token (what a joining node's discovery does)
      // (-k: a joining node checks the CA against the discovery hash; here the point is that no credential is needed)
      const info = await node.exec('curl', ['-sSk', '--max-time', '15', '-o', '-', '-w', '\n%{http_code}', `https://${IP}:6443/api/v1/namespaces/kube-public/configmaps/cluster-info`], { timeoutMs: 30_000 });
      assert.equal(info.code, 0, show(info));
      const cut = info.stdout.lastIndexOf('\n');
      assert.equal(info.stdout.slice(cut + 1), '200', info.stdout);
      const cm = JSON.parse(info.stdout.slice(0, cut)) as { data?: Record<string, string> };
      assert.match(cm.data?.kubeconfig ?? '', /certificate-authority-data: \S+/);
      assert.match(cm.data?.kubeconfig ?? '', new RegExp(`server: https://${IP.replace(/\./g, '\\.')}:6443`));
      // the bootstrap token: a kubelet-client CSR, as the kubelet's TLS bootstrap posts it
      const dir = '/tmp/csr';
      const gen = await node.exec('sh', ['-c', `mkdir -p ${dir} && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=system:nodes/CN=system:node:kb-joiner" -keyout ${dir}/k.pem -out ${dir}/r.pem 2>/dev/null && base64 -w0 ${dir}/r.pem`]);
      assert.equal(gen.code, 0, show(gen));
      const csr = JSON.stringify({
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name: 'kb-joiner-csr' },
        spec: { request: gen.stdout.trim(), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
      });
      const post = await node.exec('sh', [
        '-c',
        `printf '%s' '${csr}' | kubectl --kubeconfig=/dev/null --server=https://${IP}:6443 --insecure-skip-tls-verify --token=${joinToken} create -f - -o jsonpath='{.spec.username}'`,
      ]);
      assert.equal(post.code, 0, show(post));
      assert.match(post.stdout, /^system:bootstrap:[a-z0-9]{6}$/, 'the CSR was posted as the bootstrap token');
      const approved = await until('the CSR approved by the controller-manager (kubeadm:node-autoapprove-bootstrap)', 60_000, async () => {
        const c = await node.kubectlJson<{ status?: { conditions?: { type: string }[]; certificate?: string } }>(['get', 'csr', 'kb-joiner-csr']);
        return c.status?.conditions?.some((x) => x.type === 'Approved') && c.status.certificate ? c : undefined;
      });
      assert.ok(approved.status?.certificate, 'signed');
    });

    await step('d. kubeboot status -o json: exit 0, healthy, CoreDNS installed and ready', async () => {
      const r = await node.kubeboot(['status', '-o', 'json']);
      assert.equal(r.code, 0, show(r));
      const s = JSON.parse(r.stdout) as { healthy: boolean; failed: string[]; unknown: string[]; checks: { kind: string; name: string; state: string; message: string; data: Record<string, unknown> }[] };
      assert.equal(s.healthy, true, r.stdout);
      assert.deepEqual([s.failed, s.unknown], [[], []]);
      const dns = s.checks.find((c) => c.kind === 'coredns');
      assert.ok(dns, 'a coredns check');
      assert.equal(dns.state, 'ok', dns.message);
      assert.equal(dns.data.installed, true);
      assert.ok(typeof dns.data.readyReplicas === 'number' && dns.data.readyReplicas >= 1 && dns.data.readyReplicas === dns.data.replicas, JSON.stringify(dns.data));
      const n = s.checks.find((c) => c.kind === 'node');
      assert.equal(n?.state, 'ok', n?.message);
      assert.equal(n?.data.ready, true);
    });

    /** reset --force, then nothing of the cluster on the node: sandboxes, CNI configuration, bridge, reservations, mounts */
    const resetAndCheck = async (round: string) => {
      const r = await node.kubeboot(['reset', '--force', '--output', 'json']);
      assert.equal(r.code, 0, show(r));
      const res = resultOf(r);
      const waited = jsonLines(r).filter((e) => e.type === 'log' && / gone after |did not stop/.test(e.message ?? '')).map((e) => e.message);
      t.diagnostic(`${round} kubeboot reset --force: ${(r.durationMs / 1000).toFixed(1)} s wall${waited.length ? ` (${waited.join('; ')})` : ''}`);
      const sandboxes = res.podSandboxes as { removed: string[]; failed: unknown[]; notDone: string | null };
      const mounts = res.mounts as { unmounted: string[]; failed: unknown[]; notDone: string | null };
      t.diagnostic(`${round} reset: ${sandboxes.removed.length} pod sandboxes removed, ${mounts.unmounted.length} mounts unmounted, ${(res.removed as string[]).length} paths removed, left ${JSON.stringify(res.left)}`);
      assert.equal(sandboxes.notDone, null);
      assert.deepEqual(sandboxes.failed, []);
      assert.ok(sandboxes.removed.some((s) => s.startsWith('default/probe-')) || round !== 'first', `the probe pod's sandbox was removed: ${sandboxes.removed.join(', ')}`);
      assert.equal(mounts.notDone, null);
      assert.deepEqual(mounts.failed, []);
      assert.ok((res.removed as string[]).includes(CONFLIST), `reset removed ${CONFLIST}`);

      const pods = await node.crictl(['pods', '-o', 'json']);
      assert.equal(pods.code, 0, show(pods));
      const left = (JSON.parse(pods.stdout) as { items: { metadata: { namespace: string; name: string }; state: string }[] }).items;
      assert.deepEqual(left.map((p) => `${p.metadata.namespace}/${p.metadata.name} ${p.state}`), [], 'no pod sandboxes');
      const ps = await node.crictl(['ps', '-a', '-o', 'json']);
      assert.equal(ps.code, 0, show(ps));
      assert.deepEqual((JSON.parse(ps.stdout) as { containers: unknown[] }).containers, [], 'no containers');
      assert.ok(!existsSync(node.hostPath(CONFLIST)), `${CONFLIST} is gone`);
      const link = await node.exec('ip', ['link', 'show', 'kubeboot0']);
      assert.notEqual(link.code, 0, `the bridge kubeboot0 is gone: ${link.stdout}`);
      assert.ok(!existsSync(node.hostPath(IPAM_DIR)), `${IPAM_DIR} is gone`);
      const mtab = await node.exec('cat', ['/proc/self/mounts']);
      assert.equal(mtab.code, 0, show(mtab));
      const under = mtab.stdout
        .split('\n')
        .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
        .filter((m) => m.startsWith('/var/lib/kubelet/'));
      assert.deepEqual(under, [], 'nothing under /var/lib/kubelet mounted');
      const active = await node.exec('systemctl', ['is-active', 'kubelet']);
      assert.equal(active.stdout.trim(), 'inactive', 'the kubelet is stopped');
    };

    await step('e. reset --force: no pod sandboxes, CNI configuration, bridge, address reservations or kubelet mounts left', async () => {
      await resetAndCheck('first');
    });

    await step('f. init again with the same options: the node Ready again; then reset again', async () => {
      await init('second');
      const n = await until('the node Ready', 30_000, async () => {
        const x = await nodeObj();
        return nodeReady(x)?.status === 'True' ? x : undefined;
      });
      assert.ok(!(n.spec.taints ?? []).some((x) => x.key === 'node-role.kubernetes.io/control-plane'));
      const dns = await node.kubectlJson<Deployment>(['get', 'deployment', '-n', 'kube-system', 'coredns']);
      assert.equal(dns.status.readyReplicas, dns.spec.replicas ?? 1);
      await resetAndCheck('second');
    });

    if (failed) t.diagnostic(`${node.diagnostics(60)}`);
    failed = false;
    await node.stop();
    assert.deepEqual(hostSnapshot(), before, "the host's own paths, sysctls and mounts are as before");
  });
});
