/**
 * The real tier: the built `kubeboot` runs on a test node (test/real/node.ts) where a real containerd, runc and
 * kubelet run what it writes, and real etcd, kube-apiserver, kube-controller-manager and kube-scheduler serve.
 * One node for the whole file; the steps run in order on it:
 *   init → four Running and Ready mirror pods; init again → nothing changed; regenerate kube-apiserver with a new
 *   flag → a new container runs it, with a flag the API server rejects → rolled back, exit 4, its own error line
 *   quoted; restart kube-scheduler → a new container, a deleted mirror pod is recreated and not taken for a restart;
 *   certs renew all --restart → the API server serves the new certificate; reset → pods gone, nothing of kubeboot's
 *   left. Afterwards the host's own paths are as they were.
 * Skipped (with the command that enables it) when the components are not built; a failure under CI.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { requireRealTier } from './components.js';
import { RealNode, nodeConfig, sweepStaleNodes, type ExecResult } from './node.js';
import { jsonLines, resultOf } from './events.js';
import { hostSnapshot, type HostSnapshot } from './host-state.js';

const NODE = 'kb-real';
const IP = '192.0.2.10';
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

interface PodStatus {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  status: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready: boolean; containerID?: string; restartCount: number; state?: Record<string, unknown> }[];
  };
}

interface CriContainer {
  id: string;
  createdAt: string;
  state: string;
  metadata: { name: string; attempt?: number };
  labels?: Record<string, string>;
}

const mirrorName = (c: string) => `${c}-${NODE}`;
const ready = (p: PodStatus) => p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

describe('the real control plane from kubeboot init', { timeout: 45 * 60_000 }, () => {
  it('one node: init, init again, regenerate, restart, certs renew, reset', async (t) => {
    const components = requireRealTier(t);
    if (!components) return;
    sweepStaleNodes();
    const before: HostSnapshot = hostSnapshot();
    const node = await RealNode.start(components, { name: NODE, ip: IP });
    let failed = false;
    t.after(async () => {
      if (failed) t.diagnostic(node.diagnostics(60));
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
    const hostPath = (p: string) => node.hostPath(p);
    const pods = async (): Promise<Map<string, PodStatus>> => {
      const list = await node.kubectlJson<{ items: PodStatus[] }>(['get', 'pods', '-n', 'kube-system']);
      return new Map(list.items.map((p) => [p.metadata.name, p]));
    };
    const pod = async (c: string): Promise<PodStatus> => {
      const p = (await pods()).get(mirrorName(c));
      assert.ok(p, `mirror pod ${mirrorName(c)} exists`);
      return p;
    };
    const running = async (c: string): Promise<CriContainer[]> => {
      const r = await node.crictl(['ps', '--name', `^${c}$`, '-o', 'json']);
      assert.equal(r.code, 0, show(r));
      return (JSON.parse(r.stdout) as { containers: CriContainer[] }).containers.filter((x) => x.state === 'CONTAINER_RUNNING');
    };
    const oneRunning = async (c: string): Promise<CriContainer> => {
      const list = await running(c);
      assert.equal(list.length, 1, `one running ${c} container: ${JSON.stringify(list)}`);
      return list[0] as CriContainer;
    };
    const args = async (id: string): Promise<string[]> => {
      const r = await node.crictl(['inspect', id]);
      assert.equal(r.code, 0, show(r));
      return (JSON.parse(r.stdout) as { info: { runtimeSpec: { process: { args: string[] } } } }).info.runtimeSpec.process.args;
    };
    const until = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>) => node.until(what, timeoutMs, fn);
    const servedSerial = async (): Promise<string> => {
      const r = await node.exec('sh', ['-c', `openssl s_client -connect ${IP}:6443 -servername ${IP} </dev/null 2>/dev/null | openssl x509 -noout -serial`]);
      assert.equal(r.code, 0, show(r));
      return normSerial(r.stdout.trim().replace(/^serial=/, ''));
    };
    const normSerial = (hex: string) => hex.toUpperCase().replace(/^0+(?=.)/, '');
    const fileSerial = (p: string) => normSerial(new X509Certificate(readFileSync(hostPath(p))).serialNumber);

    const config = path.join(node.dir, 'kubeboot.yaml');
    writeFileSync(config, nodeConfig({ name: NODE, ip: IP, version: components.version }));
    t.diagnostic(`node start ${node.timings.startMs} ms, image import ${node.timings.importMs} ms`);

    let initFiles: string[] = [];
    await step('init exits 0 and the four mirror pods are Running and Ready', async () => {
      const t0 = Date.now();
      const r = await node.kubeboot(['init', '--config', config, '--output', 'json']);
      const initMs = Date.now() - t0;
      assert.equal(r.code, 0, show(r));
      const res = resultOf(r);
      const warnings = jsonLines(r).filter((e) => e.type === 'warning').map((e) => e.message);
      if (warnings.length) t.diagnostic(`init warned: ${warnings.join(' | ')}`);
      assert.equal(res.changed, true);
      initFiles = (res.files as { path: string; status: string }[]).filter((f) => f.status === 'written').map((f) => f.path);
      // what kubeboot's own wait said is checked independently, with kubectl and kubeboot's admin.conf
      const all = await pods();
      for (const c of COMPONENTS) {
        const p = all.get(mirrorName(c));
        assert.ok(p, `${mirrorName(c)} in ${[...all.keys()].join(', ')}`);
        assert.equal(p.status.phase, 'Running', `${c} phase`);
        assert.ok(ready(p), `${c} Ready: ${JSON.stringify(p.status.conditions)}`);
        assert.ok(p.metadata.annotations?.['kubernetes.io/config.mirror'], `${c} is a mirror pod`);
      }
      const crb = await node.kubectl(['get', 'clusterrolebinding', 'kubeadm:cluster-admins', '-o', 'jsonpath={.roleRef.name}']);
      assert.equal(crb.code, 0, show(crb));
      assert.equal(crb.stdout, 'cluster-admin');
      const who = await node.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}']);
      if (who.code === 0) assert.match(who.stdout, /kubeadm:cluster-admins/);
      t.diagnostic(`init → four Ready mirror pods: ${(initMs / 1000).toFixed(1)} s (kubeboot's own wait included)`);
      // the phases after the wait: the real API server took every object, and the node is marked
      // 16 objects of the phases before the addons (the Node patched besides) and the addons' 12; CoreDNS's ConfigMap is
      // kept as it is on a re-run (kubeadm's rule for a Corefile that may have been edited)
      assert.deepEqual(res.objects, { created: 28, patched: 1 }, JSON.stringify(res.objects));
      for (const [kind, ns, name] of [
        ['configmap', 'kube-system', 'kubeadm-config'],
        ['configmap', 'kube-system', 'kubelet-config'],
        ['configmap', 'kube-public', 'cluster-info'],
        ['clusterrolebinding', '', 'kubeadm:kubelet-bootstrap'],
      ] as const) {
        const g = await node.kubectl(['get', kind, name, ...(ns ? ['-n', ns] : []), '-o', 'name']);
        assert.equal(g.code, 0, show(g));
      }
      const marks = await node.kubectl(['get', 'node', NODE, '-o', 'jsonpath={.metadata.labels.node-role\\.kubernetes\\.io/control-plane}|{.spec.taints[*].key}']);
      assert.equal(marks.code, 0, show(marks));
      assert.match(marks.stdout, /^\|.*node-role\.kubernetes\.io\/control-plane/);
      const join = (res.join as { command?: string }[] | undefined)?.[0]?.command ?? '';
      assert.match(join, /^kubeadm join 192\.0\.2\.10:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} /);
    });

    await step('init again converges and says nothing changed', async () => {
      const ids = new Map<string, string>();
      for (const c of COMPONENTS) ids.set(c, (await oneRunning(c)).id);
      const r = await node.kubeboot(['init', '--config', config, '--output', 'json']);
      assert.equal(r.code, 0, show(r));
      const res = resultOf(r);
      assert.equal(res.changed, false, JSON.stringify(res));
      assert.equal(res.written, 0);
      // every API object as it was: nothing created, updated or patched
      assert.deepEqual(res.objects, { unchanged: 28, retained: 1 }, JSON.stringify(res.objects));
      for (const c of COMPONENTS) assert.equal((await oneRunning(c)).id, ids.get(c), `${c} was not restarted`);
    });

    await step('regenerate kube-apiserver with a new flag: a new container runs with it', async () => {
      const old = await oneRunning('kube-apiserver');
      const r = await node.kubeboot(['regenerate', 'kube-apiserver', '--apiserver-extra-args', 'event-ttl=2h', '--output', 'json']);
      assert.equal(r.code, 0, show(r));
      const res = resultOf(r);
      t.diagnostic(`regenerate: ${String(res.confirmation)}, kubeboot waited ${Number(res.elapsedMs) / 1000} s`);
      assert.equal(res.changed, true);
      const now = await oneRunning('kube-apiserver');
      assert.notEqual(now.id, old.id, 'a new container');
      assert.ok((await args(now.id)).includes('--event-ttl=2h'), 'the new container runs with --event-ttl=2h');
      assert.ok(!(await args(old.id).catch((): string[] => [])).includes('--event-ttl=2h'));
      const p = await pod('kube-apiserver');
      assert.ok(ready(p));
      assert.equal(p.status.containerStatuses?.[0]?.containerID, `containerd://${now.id}`);
      assert.equal(res.hashAfter, p.metadata.annotations?.['kubernetes.io/config.hash']);
    });

    await step('regenerate kube-apiserver with a flag it rejects: rolled back, exit 4, its own error quoted', async () => {
      const okHash = (await pod('kube-apiserver')).metadata.annotations?.['kubernetes.io/config.hash'];
      const manifestBefore = readFileSync(hostPath('/etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
      // while kubeboot waits, read what the runtime itself says about the crashing container (the kubelet removes
      // those containers once the rollback replaces the pod, so this is the only time to see it)
      const errorLine = /unknown flag: --no-such-flag/;
      let seen: string | undefined;
      let watching = true;
      const watch = (async () => {
        const read = new Set<string>();
        while (watching && !seen) {
          const ps = await node.crictl(['ps', '-a', '--name', '^kube-apiserver$', '-o', 'json']).catch(() => undefined);
          const exited = ps?.code === 0 ? (JSON.parse(ps.stdout) as { containers: CriContainer[] }).containers.filter((c) => c.state === 'CONTAINER_EXITED') : [];
          for (const c of exited.filter((x) => !read.has(x.id))) {
            read.add(c.id);
            const logs = await node.crictl(['logs', c.id]).catch(() => undefined);
            seen = `${logs?.stdout ?? ''}${logs?.stderr ?? ''}`.split('\n').find((l) => errorLine.test(l)) ?? seen;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      })();
      const before = await oneRunning('kube-apiserver');
      const r = await node.kubeboot(['regenerate', 'kube-apiserver', '--apiserver-extra-args', 'no-such-flag=1', '--wait-timeout', '60s']);
      watching = false;
      await watch;
      t.diagnostic(`kubeboot regenerate with a rejected flag:\n${r.stdout}${r.stderr}`);
      assert.equal(r.code, 4, show(r));
      assert.match(r.stderr, /rolled back to the previous manifest .*, which is Ready again/, show(r));
      assert.equal(readFileSync(hostPath('/etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8'), manifestBefore);
      // the old manifest runs again, in a new container (the kubelet killed the old one for the bad manifest)
      const now = await until('one running kube-apiserver container from the old manifest', 120_000, async () => {
        const list = await running('kube-apiserver');
        return list.length === 1 && list[0] && !(await args(list[0].id)).includes('--no-such-flag=1') ? list[0] : undefined;
      });
      assert.ok((await args(now.id)).includes('--event-ttl=2h'));
      assert.notEqual(now.id, before.id, 'the container that ran before the change was stopped');
      await until('the kube-apiserver mirror pod Ready with the old hash and the running container', 120_000, async () => {
        const x = await pod('kube-apiserver');
        const ok = ready(x) && x.metadata.annotations?.['kubernetes.io/config.hash'] === okHash && x.status.containerStatuses?.[0]?.containerID === `containerd://${now.id}`;
        return ok ? x : undefined;
      });
      // the runtime had kube-apiserver's own error line (crictl, as kubeboot asks it) while kubeboot waited
      assert.ok(seen, 'crictl logs of the exited kube-apiserver container showed its error line during the wait');
      t.diagnostic(`the runtime said: ${seen.trim()}`);
      // what kubeboot reported: both are checked, and both are listed when they fail
      const problems: string[] = [];
      if (!errorLine.test(`${r.stdout}\n${r.stderr}`)) problems.push(`the diagnosis does not quote kube-apiserver's own error line "${seen.trim()}"`);
      const confirmed = /Ready again with the previous manifest \(config hash \S+, container ([0-9a-f]+)\)/.exec(r.stdout)?.[1];
      if (!confirmed || !now.id.startsWith(confirmed)) {
        problems.push(
          `the rollback was confirmed with container ${confirmed ?? '(none named)'}, but the container that runs the old manifest is ${now.id.slice(0, 13)}` +
            (confirmed && before.id.startsWith(confirmed) ? ` (${confirmed} is the container from before the change, which the kubelet had stopped: a stale mirror pod status)` : ''),
        );
      }
      assert.deepEqual(problems, [], show(r));
    });

    await step('restart kube-scheduler: a new container; a deleted mirror pod is recreated and is not a restart', async () => {
      // the kubelet recreates a deleted mirror pod (new UID) around the same container
      const kcm = await pod('kube-controller-manager');
      const kcmContainer = await oneRunning('kube-controller-manager');
      const del = await node.kubectl(['delete', 'pod', '-n', 'kube-system', mirrorName('kube-controller-manager'), '--wait=false']);
      assert.equal(del.code, 0, show(del));
      const again = await until('the kubelet recreates the mirror pod', 60_000, async () => {
        const x = (await pods()).get(mirrorName('kube-controller-manager'));
        return x && x.metadata.uid !== kcm.metadata.uid && ready(x) ? x : undefined;
      });
      assert.equal(again.status.containerStatuses?.[0]?.containerID, `containerd://${kcmContainer.id}`, 'same container');
      assert.equal((await oneRunning('kube-controller-manager')).id, kcmContainer.id);

      // restart kube-scheduler while its mirror pod is deleted under kubeboot's wait
      const old = await oneRunning('kube-scheduler');
      const oldPod = await pod('kube-scheduler');
      const started = Date.now();
      const manifestPath = hostPath('/etc/kubernetes/manifests/kube-scheduler.yaml');
      const manifestBefore = readFileSync(manifestPath, 'utf8');
      const restart = node.kubeboot(['restart', 'kube-scheduler', '--output', 'json', '--wait-timeout', '120s']);
      // as soon as kubeboot has written the manifest (it is waiting now), the mirror pod goes
      await until('kubeboot writes the manifest', 60_000, async () => (readFileSync(manifestPath, 'utf8') !== manifestBefore ? true : undefined));
      const del2 = await node.kubectl(['delete', 'pod', '-n', 'kube-system', mirrorName('kube-scheduler'), '--wait=false']);
      assert.equal(del2.code, 0, show(del2));
      const r = await restart;
      assert.equal(r.code, 0, show(r));
      const res = resultOf(r);
      t.diagnostic(`restart: ${String(res.confirmation)}, kubeboot waited ${Number(res.elapsedMs) / 1000} s`);
      const now = await oneRunning('kube-scheduler');
      assert.notEqual(now.id, old.id, 'a new container');
      assert.ok(Number(BigInt(now.createdAt) / 1_000_000n) >= started - 1000, 'created after the restart began');
      assert.match(String(res.confirmation), new RegExp(now.id.slice(0, 13)), `kubeboot confirmed the container that runs: ${JSON.stringify(res)}`);
      const p = await until('the kube-scheduler mirror pod Ready with the new container', 60_000, async () => {
        const x = await pod('kube-scheduler');
        return ready(x) && x.status.containerStatuses?.[0]?.containerID === `containerd://${now.id}` ? x : undefined;
      });
      assert.notEqual(p.metadata.annotations?.['kubernetes.io/config.hash'], oldPod.metadata.annotations?.['kubernetes.io/config.hash']);
    });

    await step('certs renew all --restart: the API server serves the new certificate', async () => {
      const fileBefore = fileSerial('/etc/kubernetes/pki/apiserver.crt');
      assert.equal(await servedSerial(), fileBefore, 'serves the certificate on disk');
      const r = await node.kubeboot(['certs', 'renew', 'all', '--restart', '--wait-timeout', '180s']);
      assert.equal(r.code, 0, show(r));
      t.diagnostic(r.stdout.split('\n').filter((l) => /Ready with the new manifest after|restarted/.test(l)).join('\n'));
      const fileAfter = fileSerial('/etc/kubernetes/pki/apiserver.crt');
      assert.notEqual(fileAfter, fileBefore, 'renewed on disk');
      assert.equal(await servedSerial(), fileAfter, 'the API server serves the renewed certificate');
      for (const c of COMPONENTS) assert.ok(ready(await pod(c)), `${c} Ready after the restarts`);
      const get = await node.kubectl(['get', '--raw', '/readyz']);
      assert.equal(get.code, 0, show(get));
    });

    await step('reset --force: the pods are gone and the node holds nothing kubeboot wrote', async () => {
      assert.ok(initFiles.length > 20, `init wrote files: ${initFiles.length}`);
      const r = await node.kubeboot(['reset', '--force']);
      assert.equal(r.code, 0, show(r));
      t.diagnostic(`kubeboot reset --force:\n${r.stdout}${r.stderr}`);
      /** what the runtime still runs: container and sandbox names */
      const runtimeLeft = async () => {
        const ps = await node.crictl(['ps', '-o', 'json']);
        assert.equal(ps.code, 0, show(ps));
        const pods = await node.crictl(['pods', '--state', 'ready', '-o', 'json']);
        assert.equal(pods.code, 0, show(pods));
        return {
          containers: (JSON.parse(ps.stdout) as { containers: CriContainer[] }).containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => c.metadata.name),
          sandboxes: (JSON.parse(pods.stdout) as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name),
        };
      };
      const atExit = await runtimeLeft();
      const problems: string[] = [];
      if (atExit.containers.length || atExit.sandboxes.length) {
        // a straggler that the kubelet had already told to stop goes away by itself; a sandbox nobody stops does not
        await new Promise((res) => setTimeout(res, 45_000));
        const later = await runtimeLeft();
        problems.push(
          `when reset exited 0, the runtime still ran containers [${atExit.containers.join(', ')}] and Ready pod sandboxes [${atExit.sandboxes.join(', ')}]; ` +
            `45 s later: containers [${later.containers.join(', ')}], sandboxes [${later.sandboxes.join(', ')}]`,
        );
      }
      const active = await node.exec('systemctl', ['is-active', 'kubelet']);
      assert.equal(active.stdout.trim(), 'inactive', 'the kubelet is stopped');
      for (const f of initFiles) assert.ok(!existsSync(hostPath(f)), `${f} is gone`);
      const manifests = hostPath('/etc/kubernetes/manifests');
      if (existsSync(manifests)) assert.deepEqual(readdirSync(manifests).filter((n) => !n.startsWith('.')), [], 'no manifests left');
      assert.deepEqual(readdirSync(hostPath('/var/lib/etcd')), [], 'etcd data removed');
      assert.ok(!existsSync(hostPath('/etc/kubernetes/kubeboot')), 'state directory removed');
      const tmp = hostPath('/etc/kubernetes/tmp');
      if (existsSync(tmp)) assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('kubeboot-')), [], 'no backups left');
      for (const f of ['config.yaml', 'kubeadm-flags.env', 'instance-config.yaml']) assert.ok(!existsSync(hostPath(`/var/lib/kubelet/${f}`)), `/var/lib/kubelet/${f} removed`);
      assert.deepEqual(problems, [], 'the pods are gone when reset says it is done');
    });

    if (failed) t.diagnostic(node.diagnostics(60));
    failed = false;
    await node.stop();
    assert.deepEqual(hostSnapshot(), before, "the host's own paths, sysctls and mounts are as before");
  });
});
