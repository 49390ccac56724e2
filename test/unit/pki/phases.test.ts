/**
 * The certs and kubeconfig phases in-process on the fake effects: all disk access goes through ctx.fx,
 * one start time per run comes from ctx.fx.now(), and the existing-file checks use that clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certs } from '../../../phases/init/certs.js';
import { kubeconfig } from '../../../phases/init/kubeconfig.js';
import { loadConfig } from '../../../src/config/load.js';
import { nodeContext, type InitContext } from '../../../src/node/context.js';
import { readCertificate } from '../../../src/pki/inspect.js';
import { parseKubeconfig } from '../../../src/kube/kubeconfig.js';
import { MemoryReporter } from '../../../src/workflow/reporters.js';
import { Output } from '../../../src/workflow/events.js';
import { runWorkflow } from '../../../src/workflow/run.js';
import { FakeEffects } from '../../helpers/fake-effects.js';
import { TEST_HOST } from '../../helpers/host.js';
import { configYaml } from './support.js';

async function context(fx: FakeEffects): Promise<{ ctx: InitContext; events: MemoryReporter }> {
  const spec = (await loadConfig({ path: 't.yaml', text: configYaml({ cluster: 'certificatesDir: /srv/pki\n' }) }, {}, TEST_HOST)).spec;
  const events = new MemoryReporter();
  const ctx: InitContext = nodeContext({
    spec,
    host: TEST_HOST,
    fx,
    out: new Output(events),
    options: { dryRun: false, root: '', ignorePreflightErrors: new Set<string>(), verbose: false, waitTimeoutMs: undefined, waitFor: ['all'] },
  });
  return { ctx, events };
}

const logs = (m: MemoryReporter) => m.events.flatMap((e) => (e.type === 'log' ? [`[${e.tag}] ${e.message}`] : []));

test('certs + kubeconfig on fake effects: files, modes, certificatesDir, the injected clock', async () => {
  const fx = new FakeEffects();
  fx.clock = Date.parse('2030-06-01T10:00:00Z');
  const { ctx, events } = await context(fx);
  await runWorkflow({ tree: [certs, kubeconfig], ctx, skip: [] });

  const files = [...fx.files.entries()].map(([p, f]) => `${p} 0${f.mode.toString(8)}`).sort();
  assert.deepEqual(files, [
    '/etc/kubernetes/admin.conf 0600',
    '/etc/kubernetes/controller-manager.conf 0600',
    '/etc/kubernetes/kubelet.conf 0600',
    '/etc/kubernetes/scheduler.conf 0600',
    '/etc/kubernetes/super-admin.conf 0600',
    '/srv/pki/apiserver-etcd-client.crt 0644',
    '/srv/pki/apiserver-etcd-client.key 0600',
    '/srv/pki/apiserver-kubelet-client.crt 0644',
    '/srv/pki/apiserver-kubelet-client.key 0600',
    '/srv/pki/apiserver.crt 0644',
    '/srv/pki/apiserver.key 0600',
    '/srv/pki/ca.crt 0644',
    '/srv/pki/ca.key 0600',
    '/srv/pki/etcd/ca.crt 0644',
    '/srv/pki/etcd/ca.key 0600',
    '/srv/pki/etcd/healthcheck-client.crt 0644',
    '/srv/pki/etcd/healthcheck-client.key 0600',
    '/srv/pki/etcd/peer.crt 0644',
    '/srv/pki/etcd/peer.key 0600',
    '/srv/pki/etcd/server.crt 0644',
    '/srv/pki/etcd/server.key 0600',
    '/srv/pki/front-proxy-ca.crt 0644',
    '/srv/pki/front-proxy-ca.key 0600',
    '/srv/pki/front-proxy-client.crt 0644',
    '/srv/pki/front-proxy-client.key 0600',
    '/srv/pki/sa.key 0600',
    '/srv/pki/sa.pub 0600',
  ]);
  assert.equal(logs(events)[0], '[certs] Using certificateDir folder "/srv/pki"');
  assert.deepEqual(fx.execCalls, [], 'no commands run');

  const ca = await readCertificate(fx.files.get('/srv/pki/ca.crt')?.data ?? '');
  const leaf = await readCertificate(fx.files.get('/srv/pki/etcd/peer.crt')?.data ?? '');
  assert.equal(ca.notBefore.toISOString(), '2030-06-01T09:55:00.000Z');
  assert.equal(ca.notAfter.toISOString(), '2040-05-29T10:00:00.000Z');
  assert.equal(leaf.notBefore.toISOString(), '2030-06-01T09:55:00.000Z');
  assert.equal(leaf.notAfter.toISOString(), '2031-06-01T10:00:00.000Z');
  const admin = parseKubeconfig(fx.files.get('/etc/kubernetes/admin.conf')?.data.toString('utf8') ?? '');
  assert.ok(typeof admin !== 'string');
  const client = await readCertificate(admin.clientCertData ?? '');
  assert.equal(client.notBefore.toISOString(), ca.notBefore.toISOString());
  assert.equal(client.notAfter.toISOString(), '2031-06-01T10:00:00.000Z');

  // same files, a new run two years later: the leaves have expired and the run says how to renew
  fx.clock = Date.parse('2032-06-01T10:00:00Z');
  const second = await context(fx);
  await assert.rejects(runWorkflow({ tree: [certs], ctx: second.ctx, skip: [] }), (err: Error & { hint?: string }) => {
    assert.match(err.message, /^error execution phase certs\/apiserver: certificate apiserver \("\/srv\/pki\/apiserver\.crt"\) has expired/);
    assert.equal(err.hint, 'renew it with `kubeboot certs renew apiserver`');
    return true;
  });
});
