import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import type { Phase } from '../../../src/workflow/phase.js';
import { flatten } from '../../../src/workflow/phase.js';
import { selectPhases } from '../../../src/workflow/select.js';
import { runWorkflow } from '../../../src/workflow/run.js';
import { Output } from '../../../src/workflow/events.js';
import { MemoryReporter } from '../../../src/workflow/reporters.js';

type C = { out: Output; log: string[] };
const leaf = (name: string): Phase<C> => ({ name, short: name, run: async (c) => void c.log.push(name) });
const TREE: Phase<C>[] = [
  leaf('preflight'),
  { name: 'certs', short: 'certs', run: async (c) => void c.log.push('certs'), phases: ['ca', 'apiserver', 'etcd-ca', 'sa'].map(leaf) },
  { name: 'kubeconfig', short: 'kc', phases: ['admin', 'kubelet'].map(leaf) },
  { name: 'control-plane', short: 'cp', phases: ['apiserver', 'scheduler'].map(leaf) },
  leaf('wait-control-plane'),
];

describe('flatten', () => {
  it('lists parents before children, depth first, in order', () => {
    assert.deepEqual(
      flatten(TREE).map((f) => f.path),
      ['preflight', 'certs', 'certs/ca', 'certs/apiserver', 'certs/etcd-ca', 'certs/sa', 'kubeconfig', 'kubeconfig/admin', 'kubeconfig/kubelet', 'control-plane', 'control-plane/apiserver', 'control-plane/scheduler', 'wait-control-plane'],
    );
  });
});

describe('selectPhases (kubeadm runner rules)', () => {
  const cases: { name: string; filter?: string; skip: string[]; expect: string[] }[] = [
    { name: 'everything by default', skip: [], expect: flatten(TREE).map((f) => f.path) },
    { name: 'filter keeps the subtree', filter: 'certs', skip: [], expect: ['certs', 'certs/ca', 'certs/apiserver', 'certs/etcd-ca', 'certs/sa'] },
    { name: 'filter on a leaf', filter: 'certs/sa', skip: [], expect: ['certs/sa'] },
    { name: 'X/all is the subtree', filter: 'certs/all', skip: [], expect: ['certs', 'certs/ca', 'certs/apiserver', 'certs/etcd-ca', 'certs/sa'] },
    { name: 'skip removes a subtree', skip: ['certs'], expect: ['preflight', 'kubeconfig', 'kubeconfig/admin', 'kubeconfig/kubelet', 'control-plane', 'control-plane/apiserver', 'control-plane/scheduler', 'wait-control-plane'] },
    { name: 'skip a leaf', skip: ['certs/etcd-ca'], expect: ['preflight', 'certs', 'certs/ca', 'certs/apiserver', 'certs/sa', 'kubeconfig', 'kubeconfig/admin', 'kubeconfig/kubelet', 'control-plane', 'control-plane/apiserver', 'control-plane/scheduler', 'wait-control-plane'] },
    { name: 'skip beats filter', filter: 'certs', skip: ['certs/ca', 'certs/sa'], expect: ['certs', 'certs/apiserver', 'certs/etcd-ca'] },
    { name: 'skipping the filtered phase leaves nothing', filter: 'kubeconfig', skip: ['kubeconfig'], expect: [] },
    { name: 'several skips, mixed case and spaces', skip: [' Preflight', 'WAIT-CONTROL-PLANE', 'control-plane/all'], expect: ['certs', 'certs/ca', 'certs/apiserver', 'certs/etcd-ca', 'certs/sa', 'kubeconfig', 'kubeconfig/admin', 'kubeconfig/kubelet'] },
    { name: 'same leaf name under two parents is distinct', skip: ['control-plane/apiserver'], filter: 'control-plane', expect: ['control-plane', 'control-plane/scheduler'] },
    { name: 'empty skip entries are ignored', skip: ['', ' '], filter: 'preflight', expect: ['preflight'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const sel = selectPhases(TREE, c.filter, c.skip);
      assert.deepEqual(sel.list.map((f) => f.path).filter((p) => sel.run.has(p)), c.expect);
    });
  }
  for (const bad of [{ filter: 'cert' }, { skip: ['certs/nope'] }, { skip: ['apiserver'] }, { filter: 'all' }]) {
    it(`unknown phase name fails before anything runs: ${JSON.stringify(bad)}`, async () => {
      const log: string[] = [];
      await assert.rejects(
        runWorkflow({ tree: TREE, ctx: { out: new Output(new MemoryReporter()), log }, filter: bad.filter, skip: bad.skip ?? [] }),
        (err: unknown) => err instanceof ConfigError && /invalid phase name/.test(err.message) && err.exitCode === 3,
      );
      assert.deepEqual(log, []);
    });
  }
});

describe('runWorkflow', () => {
  it('runs selected phases in order, emits started/finished/skipped events with durations', async () => {
    const rep = new MemoryReporter();
    const log: string[] = [];
    const res = await runWorkflow({ tree: TREE, ctx: { out: new Output(rep), log }, skip: ['kubeconfig/admin'] });
    assert.deepEqual(log, ['preflight', 'certs', 'ca', 'apiserver', 'etcd-ca', 'sa', 'kubelet', 'apiserver', 'scheduler', 'wait-control-plane']);
    assert.deepEqual(res.skipped, ['kubeconfig/admin']);
    const skipped = rep.events.filter((e) => e.type === 'phase' && e.status === 'skipped');
    assert.equal(skipped.length, 1);
    const finished = rep.events.filter((e) => e.type === 'phase' && e.status === 'finished');
    assert.equal(finished.length, 10);
    for (const e of finished) assert.ok(e.type === 'phase' && typeof e.durationMs === 'number');
  });
  it('wraps a failure with the phase path and stops', async () => {
    const log: string[] = [];
    const tree: Phase<C>[] = [leaf('a'), { name: 'b', short: 'b', phases: [{ name: 'c', short: 'c', run: async () => { throw new Error('boom'); } }] }, leaf('d')];
    await assert.rejects(runWorkflow({ tree, ctx: { out: new Output(new MemoryReporter()), log }, skip: [] }), (err: Error & { exitCode?: number }) => {
      assert.equal(err.message, 'error execution phase b/c: boom');
      assert.equal(err.exitCode, 1);
      return true;
    });
    assert.deepEqual(log, ['a']);
  });
  it('runIf false skips with reason "condition"', async () => {
    const rep = new MemoryReporter();
    const log: string[] = [];
    const tree: Phase<C>[] = [{ ...leaf('x'), runIf: () => false }, leaf('y')];
    await runWorkflow({ tree, ctx: { out: new Output(rep), log }, skip: [] });
    assert.deepEqual(log, ['y']);
    assert.ok(rep.events.some((e) => e.type === 'phase' && e.phase === 'x' && e.status === 'skipped' && e.reason === 'condition'));
  });
  it('an aborted signal stops before the next phase with exit code 130', async () => {
    const ac = new AbortController();
    const log: string[] = [];
    const tree: Phase<C>[] = [{ name: 'a', short: 'a', run: async (c) => { c.log.push('a'); ac.abort('SIGINT'); } }, leaf('b')];
    await assert.rejects(runWorkflow({ tree, ctx: { out: new Output(new MemoryReporter()), log }, skip: [], signal: ac.signal }), (e: Error & { exitCode?: number }) => e.exitCode === 130);
    assert.deepEqual(log, ['a']);
  });
});
