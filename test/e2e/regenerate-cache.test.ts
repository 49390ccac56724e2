/**
 * The render cache of `kubeboot regenerate` (src/render-cache.ts), under --root (no double): the second no-change run
 * takes the cached fast path; a change of any render input, or of the manifest, sends it back to the normal path.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { CACHE_COMPONENTS, RENDER_CACHE, readRenderCache } from '../../src/render-cache.js';
import { COMPONENTS } from '../../src/rollout.js';
import { RealEffects } from '../../src/effects/real.js';

const show = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

interface Node {
  readonly dir: string;
  readonly root: string;
  readonly patches: string;
  readonly at: (hostPath: string) => string;
  readonly regen: (args: readonly string[], env?: Record<string, string>) => Promise<{ r: CliResult; result: Record<string, unknown> | undefined }>;
}

async function initialised(t: TestContext): Promise<Node> {
  const dir = tempDir(t, 'kubeboot-regen-cache-');
  const root = path.join(dir, 'root');
  const patches = path.join(dir, 'patches');
  mkdirSync(patches);
  const init = await runCli(
    ['init', '--root', root, '--skip-phases', 'kubelet-start,wait-control-plane', '--ignore-preflight-errors', 'all', '--apiserver-advertise-address', '127.0.0.1', '--node-name', 'cache', '--patches', patches],
    { env: cleanEnv(), timeoutMs: 120_000 },
  );
  assert.equal(init.code, 0, show(init));
  const at = (p: string) => path.join(root, p);
  const regen = async (args: readonly string[], env: Record<string, string> = {}) => {
    const r = await runCli(['regenerate', ...args, '--root', root, '--output', 'json'], { env: cleanEnv(env), timeoutMs: 60_000 });
    const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = lines.find((e) => e.type === 'result')?.data as Record<string, unknown> | undefined;
    return { r, result };
  };
  return { dir, root, patches, at, regen };
}

/** a no-change run through the normal path (not cached), then a cached one */
async function warm(n: Node, component: string, extra: readonly string[] = []): Promise<void> {
  const a = await n.regen([component, ...extra]);
  assert.equal(a.r.code, 0, show(a.r));
  assert.equal(a.result?.changed, false, show(a.r));
  const b = await n.regen([component, ...extra]);
  assert.equal(b.r.code, 0, show(b.r));
  assert.equal(b.result?.changed, false, show(b.r));
  assert.equal(b.result?.cached, true, `the second no-change run is cached\n${show(b.r)}`);
}

function assertFullPath(x: { r: CliResult; result: Record<string, unknown> | undefined }, changed: boolean): void {
  assert.equal(x.r.code, 0, show(x.r));
  assert.equal(x.result?.cached, undefined, `the normal path ran\n${show(x.r)}`);
  assert.equal(x.result?.changed, changed, show(x.r));
}

describe('regenerate render cache', () => {
  it('the second no-change run is cached, prints the same lines, and writes nothing', async (t) => {
    const n = await initialised(t);
    const first = await runCli(['regenerate', 'kube-apiserver', '--root', n.root], { env: cleanEnv() });
    assert.equal(first.code, 0, show(first));
    const cacheFile = n.at(RENDER_CACHE);
    assert.equal(statSync(cacheFile).mode & 0o777, 0o600);
    // inside the state directory reset removes as a whole; the ledger (like for the ledger itself) does not list it
    const ledgerBytes = readFileSync(n.at('/etc/kubernetes/kubeboot/files.json'), 'utf8');
    assert.equal((JSON.parse(ledgerBytes) as { files: Record<string, unknown> }).files[RENDER_CACHE], undefined);
    const cacheBytes = readFileSync(cacheFile);
    const manifestStat = statSync(n.at('/etc/kubernetes/manifests/kube-apiserver.yaml'));
    const second = await runCli(['regenerate', 'kube-apiserver', '--root', n.root], { env: cleanEnv() });
    assert.equal(second.code, 0, show(second));
    assert.equal(second.stdout, first.stdout, 'the same lines');
    assert.match(second.stdout, /kube-apiserver: the manifest "\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml" is up to date; nothing to do/);
    assert.deepEqual(readFileSync(cacheFile), cacheBytes);
    assert.equal(readFileSync(n.at('/etc/kubernetes/kubeboot/files.json'), 'utf8'), ledgerBytes);
    assert.equal(statSync(n.at('/etc/kubernetes/manifests/kube-apiserver.yaml')).mtimeMs, manifestStat.mtimeMs);
    const json = await n.regen(['kube-apiserver']);
    assert.equal(json.result?.cached, true, show(json.r));
    const dry = await n.regen(['kube-apiserver', '--dry-run']);
    assert.equal(dry.result?.cached, true, show(dry.r));
    assert.equal(dry.result?.dryRun, true);
  });

  it('a recorded-configuration edit sends it to the normal path', async (t) => {
    const n = await initialised(t);
    await warm(n, 'kube-scheduler');
    appendFileSync(n.at('/etc/kubernetes/kubeboot/config.yaml'), '# edited by hand\n');
    assertFullPath(await n.regen(['kube-scheduler']), false);
    const again = await n.regen(['kube-scheduler']);
    assert.equal(again.result?.cached, true, 'the entry was refreshed');
  });

  it('--extra-args (and the kubeadm flag) take the normal path and show the diff', async (t) => {
    const n = await initialised(t);
    await warm(n, 'kube-apiserver');
    const x = await n.regen(['kube-apiserver', '--extra-args', 'v=2', '--dry-run']);
    assertFullPath(x, true);
    assert.match(String(x.result?.diff), /\+ {4}- --v=2/);
    const k = await n.regen(['kube-apiserver', '--apiserver-extra-args', 'v=3', '--dry-run']);
    assertFullPath(k, true);
    assert.match(String(k.result?.diff), /\+ {4}- --v=3/);
    // a kubeadm flag of another component is still refused (exit 3), cache or not
    const wrong = await n.regen(['kube-apiserver', '--scheduler-extra-args', 'v=2']);
    assert.equal(wrong.r.code, 3, show(wrong.r));
  });

  it('a patch file added (even one the loader ignores) sends it to the normal path', async (t) => {
    const n = await initialised(t);
    await warm(n, 'kube-apiserver');
    writeFileSync(path.join(n.patches, 'notes.txt'), 'not a patch\n');
    assertFullPath(await n.regen(['kube-apiserver']), false);
    await warm(n, 'kube-apiserver');
    writeFileSync(path.join(n.patches, 'kube-apiserver+merge.yaml'), 'metadata:\n  labels:\n    patched: "yes"\n');
    const x = await n.regen(['kube-apiserver', '--dry-run']);
    assertFullPath(x, true);
    assert.match(String(x.result?.diff), /patched: "yes"/);
  });

  it('a proxy variable in the environment sends it to the normal path', async (t) => {
    const n = await initialised(t);
    await warm(n, 'kube-apiserver');
    const x = await n.regen(['kube-apiserver', '--dry-run'], { HTTP_PROXY: 'http://proxy.example:3128' });
    assert.equal(x.r.code, 0, show(x.r));
    assert.equal(x.result?.cached, undefined, show(x.r));
  });

  it('removing ca.key (the external-CA rule) sends it to the normal path', async (t) => {
    const n = await initialised(t);
    await warm(n, 'kube-controller-manager');
    rmSync(n.at('/etc/kubernetes/pki/ca.key'));
    const x = await n.regen(['kube-controller-manager', '--dry-run']);
    assertFullPath(x, true);
    assert.match(String(x.result?.diff), /cluster-signing-cert-file=$/m);
  });

  it('a corrupt cache file is ignored and rewritten; a hand-edited manifest is not "up to date"', async (t) => {
    const n = await initialised(t);
    await warm(n, 'etcd');
    writeFileSync(n.at(RENDER_CACHE), '{not json', { mode: 0o600 });
    assertFullPath(await n.regen(['etcd']), false);
    assert.equal((await n.regen(['etcd'])).result?.cached, true);
    writeFileSync(n.at(RENDER_CACHE), JSON.stringify({ kind: 'KubebootRenderCache', version: 1, entries: { etcd: { key: 1 } } }));
    assertFullPath(await n.regen(['etcd']), false);

    const m = n.at('/etc/kubernetes/manifests/etcd.yaml');
    writeFileSync(m, readFileSync(m, 'utf8').replace('- --snapshot-count=10000', '- --snapshot-count=5'));
    const x = await n.regen(['etcd', '--dry-run']);
    assertFullPath(x, true);
    assert.match(String(x.result?.diff), /-    - --snapshot-count=5\n\+    - --snapshot-count=10000/);
  });

  it('refusals stay: a missing manifest, a node kubeboot did not set up', async (t) => {
    const n = await initialised(t);
    await warm(n, 'kube-scheduler');
    const m = n.at('/etc/kubernetes/manifests/kube-scheduler.yaml');
    const saved = readFileSync(m);
    rmSync(m);
    const gone = await n.regen(['kube-scheduler']);
    assert.equal(gone.r.code, 2, show(gone.r));
    writeFileSync(m, saved, { mode: 0o600 });
    rmSync(n.at('/etc/kubernetes/kubeboot/config.yaml'));
    const notSetUp = await n.regen(['kube-scheduler']);
    assert.equal(notSetUp.r.code, 2, show(notSetUp.r));
  });

  it('reset removes the cache with the state directory', async (t) => {
    const n = await initialised(t);
    await warm(n, 'kube-apiserver');
    const r = await runCli(['reset', '--root', n.root, '-f'], { env: cleanEnv(), timeoutMs: 60_000 });
    assert.equal(r.code, 0, show(r));
    assert.equal(existsSync(n.at(RENDER_CACHE)), false);
  });
});

describe('a relative --patches directory', () => {
  it('is recorded absolute, so regenerate run from another directory still applies the patch', async (t) => {
    const dir = tempDir(t, 'kubeboot-relpatch-');
    const root = path.join(dir, 'root');
    mkdirSync(path.join(dir, 'work', 'patches'), { recursive: true });
    writeFileSync(path.join(dir, 'work', 'patches', 'kube-scheduler+merge.yaml'), 'metadata:\n  labels:\n    patched: "yes"\n');
    const init = await runCli(
      ['init', '--root', root, '--skip-phases', 'kubelet-start,wait-control-plane', '--ignore-preflight-errors', 'all', '--apiserver-advertise-address', '127.0.0.1', '--node-name', 'rel', '--patches', 'patches'],
      { env: cleanEnv(), timeoutMs: 120_000, cwd: path.join(dir, 'work') },
    );
    assert.equal(init.code, 0, show(init));
    assert.match(readFileSync(path.join(root, 'etc/kubernetes/manifests/kube-scheduler.yaml'), 'utf8'), /patched: "yes"/);
    const recorded = readFileSync(path.join(root, 'etc/kubernetes/kubeboot/config.yaml'), 'utf8');
    assert.ok(recorded.includes(`directory: ${path.join(dir, 'work', 'patches')}\n`), recorded);
    // from another directory: the recorded absolute path finds the patch, so nothing differs
    const r = await runCli(['regenerate', 'kube-scheduler', '--root', root, '--output', 'json'], { env: cleanEnv(), timeoutMs: 60_000, cwd: dir });
    assert.equal(r.code, 0, show(r));
    const result = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data?: { changed?: boolean } }).find((e) => e.type === 'result');
    assert.equal(result?.data?.changed, false, show(r));
  });
});

describe('render cache module', () => {
  it('keeps its copy of the component list equal to rollout.ts', () => {
    assert.deepEqual([...CACHE_COMPONENTS], [...COMPONENTS]);
  });
  it('reads an absent or corrupt cache as empty', async (t) => {
    const dir = tempDir(t);
    const fx = new RealEffects(dir);
    assert.deepEqual(await readRenderCache(fx), {});
    mkdirSync(path.join(dir, 'etc/kubernetes/kubeboot'), { recursive: true });
    writeFileSync(path.join(dir, RENDER_CACHE), '\0\0garbage');
    assert.deepEqual(await readRenderCache(fx), {});
  });
});
