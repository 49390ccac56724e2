/** The etcd and control-plane phases against a fake file tree (patches from a real temp directory). */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { controlPlane } from '../../../phases/init/control-plane.js';
import { etcd } from '../../../phases/init/etcd.js';
import { INIT_PHASES } from '../../../phases/index.js';
import type { ClusterSpec } from '../../../src/config/spec.js';
import { WRITTEN_FILES, nodeContext, type InitContext } from '../../../src/node/context.js';
import { Output, type KubebootEvent } from '../../../src/workflow/events.js';
import { runWorkflow } from '../../../src/workflow/run.js';
import { FakeEffects } from '../../helpers/fake-effects.js';
import { TEST_HOST } from '../../helpers/host.js';
import { tempDir } from '../../helpers/tmp.js';
import { command, makeSpec, validatePod } from './manifest-helpers.js';

const M = '/etc/kubernetes/manifests';

function context(spec: ClusterSpec, fx = new FakeEffects()): { ctx: InitContext; fx: FakeEffects; events: KubebootEvent[] } {
  const events: KubebootEvent[] = [];
  const ctx: InitContext = nodeContext({
    spec,
    host: TEST_HOST,
    fx,
    out: new Output({ emit: (e) => events.push(e) }),
    options: { dryRun: false, root: '', ignorePreflightErrors: new Set<string>(), verbose: false, waitTimeoutMs: undefined, waitFor: ['all'] },
  });
  return { ctx, fx, events };
}

const logs = (events: KubebootEvent[]) => events.filter((e) => e.type === 'log').map((e) => `[${(e as { tag: string }).tag}] ${(e as { message: string }).message}`);
const warnings = (events: KubebootEvent[]) => events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);

async function run(ctx: InitContext, filter: string): Promise<void> {
  await runWorkflow({ tree: [etcd, controlPlane], ctx, filter, skip: [] });
}

describe('phase tree', () => {
  it('etcd/local and control-plane/{apiserver,controller-manager,scheduler} are in the init list, control-plane right after etcd', () => {
    const names = INIT_PHASES.map((p) => p.name);
    assert.ok(names.indexOf('etcd') >= 0 && names.indexOf('control-plane') === names.indexOf('etcd') + 1);
    assert.deepEqual(etcd.phases?.map((p) => p.name), ['local']);
    assert.deepEqual(controlPlane.phases?.map((p) => p.name), ['apiserver', 'controller-manager', 'scheduler']);
    assert.deepEqual(controlPlane.phases?.map((p) => p.short), [
      'Generates the kube-apiserver static Pod manifest',
      'Generates the kube-controller-manager static Pod manifest',
      'Generates the kube-scheduler static Pod manifest',
    ]);
    for (const f of ['cert-dir', 'config', 'dry-run', 'image-repository', 'patches']) assert.ok(etcd.phases?.[0]?.flags?.includes(f), f);
    assert.ok(controlPlane.flags?.includes('apiserver-extra-args') && controlPlane.flags.includes('scheduler-extra-args'));
    assert.ok(!controlPlane.phases?.[2]?.flags?.includes('apiserver-extra-args'));
  });
});

describe('etcd and control-plane phases', () => {
  it('write the four manifests 0600 into a 0700 dir with kubeadm messages; a second run is unchanged', async () => {
    const { ctx, fx, events } = context(await makeSpec());
    await run(ctx, 'etcd');
    await run(ctx, 'control-plane');
    assert.deepEqual(logs(events), [
      '[etcd] Creating static Pod manifest for local etcd in "/etc/kubernetes/manifests"',
      '[control-plane] Using manifest folder "/etc/kubernetes/manifests"',
      '[control-plane] Creating static Pod manifest for "kube-apiserver"',
      '[control-plane] Creating static Pod manifest for "kube-controller-manager"',
      '[control-plane] Creating static Pod manifest for "kube-scheduler"',
    ]);
    assert.equal(fx.dirs.get(M), 0o700);
    for (const n of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      const f = fx.files.get(`${M}/${n}.yaml`);
      assert.ok(f, n);
      assert.equal(f.mode, 0o600);
      validatePod(f.data.toString('utf8'));
    }
    assert.deepEqual(warnings(events), []);
    const again = context(ctx.spec, fx);
    await run(again.ctx, 'control-plane');
    assert.deepEqual((again.ctx.slots.get(WRITTEN_FILES) ?? []).map((f) => f.status), ['unchanged', 'unchanged', 'unchanged']);
  });

  it('external etcd: etcd/local is skipped with kubeadm’s message (at -v, as kubeadm logs it at -v 1) and writes nothing', async () => {
    const spec = await makeSpec({ etcd: { external: { endpoints: ['https://10.0.0.1:2379'] } } });
    const quiet = context(spec);
    await run(quiet.ctx, 'etcd');
    assert.deepEqual(logs(quiet.events), []);
    const { ctx, fx, events } = context(spec);
    const verbose = { ...ctx, options: { ...ctx.options, verbose: true } };
    await run(verbose, 'etcd');
    assert.deepEqual(logs(events), ['[etcd] External etcd mode. Skipping the creation of a manifest for local etcd']);
    assert.ok(events.some((e) => e.type === 'phase' && e.phase === 'etcd/local' && e.status === 'skipped'));
    assert.equal(fx.files.size, 0);
  });

  it('KCM gets empty signing flags when ca.crt exists without ca.key', async () => {
    const { ctx, fx } = context(await makeSpec());
    fx.files.set('/etc/kubernetes/pki/ca.crt', { data: Buffer.from('x'), mode: 0o644 });
    await run(ctx, 'control-plane/controller-manager');
    const cmd = command(validatePod((fx.files.get(`${M}/kube-controller-manager.yaml`) as { data: Buffer }).data.toString()));
    assert.ok(cmd.includes('--cluster-signing-cert-file=') && cmd.includes('--cluster-signing-key-file='));
    const withKey = context(await makeSpec());
    withKey.fx.files.set('/etc/kubernetes/pki/ca.crt', { data: Buffer.from('x'), mode: 0o644 });
    withKey.fx.files.set('/etc/kubernetes/pki/ca.key', { data: Buffer.from('x'), mode: 0o600 });
    await run(withKey.ctx, 'control-plane/controller-manager');
    const cmd2 = command(validatePod((withKey.fx.files.get(`${M}/kube-controller-manager.yaml`) as { data: Buffer }).data.toString()));
    assert.ok(cmd2.includes('--cluster-signing-key-file=/etc/kubernetes/pki/ca.key'));
  });

  it('stray files are warned about once per run; a .bak copy of a manifest stops the run before writing', async () => {
    const { ctx, fx, events } = context(await makeSpec());
    fx.files.set(`${M}/etcd.yaml~`, { data: Buffer.from('apiVersion: v1\nkind: Pod\nmetadata: {name: etcd-old, namespace: kube-system}\n'), mode: 0o600 });
    fx.files.set(`${M}/.hidden.yaml`, { data: Buffer.from('apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system}\n'), mode: 0o600 });
    await run(ctx, 'etcd');
    await run(ctx, 'control-plane');
    const w = warnings(events);
    assert.equal(w.length, 1);
    assert.match(w[0] ?? '', /"\/etc\/kubernetes\/manifests\/etcd.yaml~" is not a kubeboot manifest, but the kubelet will run it as a pod \(kube-system\/etcd-old\)/);

    const bad = context(await makeSpec());
    const copy = (await (async () => {
      const c = context(await makeSpec());
      await run(c.ctx, 'control-plane/scheduler');
      return (c.fx.files.get(`${M}/kube-scheduler.yaml`) as { data: Buffer }).data;
    })());
    bad.fx.files.set(`${M}/kube-scheduler.yaml.bak`, { data: copy, mode: 0o600 });
    await assert.rejects(run(bad.ctx, 'control-plane/scheduler'), (err: Error) => {
      assert.match(err.message, /^error execution phase control-plane\/scheduler: static pod path \/etc\/kubernetes\/manifests would define the same pod twice/);
      assert.match(err.message, /kube-scheduler.yaml" and ".*kube-scheduler.yaml.bak" both define the pod kube-system\/kube-scheduler/);
      return true;
    });
    assert.equal(bad.fx.files.has(`${M}/kube-scheduler.yaml`), false, 'nothing written');
  });

  it('patches from a real directory: messages, application, and an error naming the file', async (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'kube-apiserver+json.yaml'), '- op: add\n  path: /metadata/labels/patched\n  value: "json"\n');
    writeFileSync(path.join(dir, 'kube-apiserver0.yaml'), 'metadata:\n  labels:\n    patched: strategic\n    first: "yes"\n');
    writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    const { ctx, fx, events } = context(await makeSpec({}, { patches: { directory: dir } }));
    await run(ctx, 'control-plane');
    const l = logs(events);
    assert.equal(l.filter((x) => x.startsWith('[patches] Reading patches from path')).length, 1, 'read once per run');
    assert.ok(l.includes(`[patches] Found the following patch files: [kube-apiserver+json.yaml kube-apiserver0.yaml]`));
    assert.ok(l.includes('[patches] Ignored the following files: [notes.txt]'));
    assert.equal(l.filter((x) => x === '[patches] Applied patch of type "application/json-patch+json" to target "kube-apiserver"').length, 1);
    const labels = (validatePod((fx.files.get(`${M}/kube-apiserver.yaml`) as { data: Buffer }).data.toString()).metadata as Record<string, unknown>).labels;
    // lexical order: "kube-apiserver+json.yaml" < "kube-apiserver0.yaml" ('+' sorts before '0')
    assert.deepEqual(labels, { component: 'kube-apiserver', first: 'yes', patched: 'strategic', tier: 'control-plane' });

    const badDir = tempDir(t);
    mkdirSync(path.join(badDir, 'sub'));
    writeFileSync(path.join(badDir, 'sub', 'etcd+json.json'), '[{"op":"remove","path":"/spec/nope"}]');
    const bad = context(await makeSpec({}, { patches: { directory: badDir } }));
    await assert.rejects(run(bad.ctx, 'etcd'), (err: Error) => {
      assert.match(err.message, /^error execution phase etcd\/local: failed to patch static Pod manifest file for "etcd": could not apply patch file ".*\/sub\/etcd\+json.json" of type "application\/json-patch\+json" to target "etcd": operation 0 \(remove \/spec\/nope\): path "\/spec\/nope" does not exist/);
      return true;
    });
    const missing = context(await makeSpec({}, { patches: { directory: path.join(dir, 'missing') } }));
    await assert.rejects(run(missing.ctx, 'etcd'), /could not list patch files for path ".*missing": no such directory/);
  });
});
