import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareKeys, parseYaml, toYaml, toYamlDocuments } from '../../src/render/yaml.js';

describe('the one YAML serializer', () => {
  it('sorts keys like go-yaml at every level (a Pod: apiVersion, kind, metadata, spec, status)', () => {
    const pod = { status: {}, spec: { volumes: [], containers: [{ name: 'x', command: ['a'] }], hostNetwork: true }, kind: 'Pod', metadata: { name: 'p', creationTimestamp: null }, apiVersion: 'v1' };
    assert.equal(
      toYaml(pod),
      'apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: null\n  name: p\nspec:\n  containers:\n  - command:\n    - a\n    name: x\n  hostNetwork: true\n  volumes: []\nstatus: {}\n',
    );
  });
  it('kubeconfig order: apiVersion, clusters, contexts, current-context, kind, preferences, users', () => {
    const text = toYaml({ users: [], kind: 'Config', preferences: {}, 'current-context': 'x', contexts: [], clusters: [], apiVersion: 'v1' });
    assert.deepEqual(text.split('\n').filter(Boolean).map((l) => l.split(':')[0]), ['apiVersion', 'clusters', 'contexts', 'current-context', 'kind', 'preferences', 'users']);
  });
  it("go-yaml's comparator: digits numerically, non-letters before letters", () => {
    assert.ok(compareKeys('a2', 'a10') < 0);
    assert.ok(compareKeys('a-b', 'ab') < 0);
    assert.ok(compareKeys('B', 'a') < 0);
    assert.ok(compareKeys('ab', 'abc') < 0);
    assert.equal(compareKeys('x', 'x'), 0);
  });
  it('same input, same bytes, whatever the insertion order', () => {
    const a = { b: 1, a: { d: [1, 2, { z: 1, y: 2 }], c: 'x' } };
    const b = { a: { c: 'x', d: [1, 2, { y: 2, z: 1 }] }, b: 1 };
    assert.equal(toYaml(a), toYaml(b));
    for (let i = 0; i < 5; i++) assert.equal(toYaml(structuredClone(a)), toYaml(a));
  });
  it('quotes ambiguous strings with double quotes and keeps plain ones plain', () => {
    const t = toYaml({ e: '', t: 'true', num: '10', ip6: '::1', hp: '192.0.2.2:6443', flag: '--controllers=*,bootstrapsigner' });
    assert.match(t, /^e: ""$/m);
    assert.match(t, /^t: "true"$/m);
    assert.match(t, /^num: "10"$/m);
    assert.match(t, /^ip6: ::1$/m);
    assert.match(t, /^hp: 192.0.2.2:6443$/m);
    assert.match(t, /^flag: --controllers=\*,bootstrapsigner$/m);
  });
  it('never folds long lines and ends with exactly one newline', () => {
    const long = 'x'.repeat(5000);
    const t = toYaml({ data: long });
    assert.equal(t, `data: ${long}\n`);
  });
  it('round-trips', () => {
    const v = { a: [{ b: null, c: 'd' }], e: { f: 1.5, g: false } };
    assert.deepEqual(parseYaml(toYaml(v)), v);
  });
  it('rejects non-plain values instead of dropping them', () => {
    assert.throws(() => toYaml({ d: new Date(0) }), /not a plain object/);
    assert.throws(() => toYaml({ f: () => 1 }), /cannot serialize a function/);
    assert.throws(() => toYaml({ n: Number.NaN }), /not a finite number/);
    assert.throws(() => toYaml({ l: [1, undefined] }), /undefined inside a list/);
  });
  it('omits undefined fields like Go omitempty', () => {
    assert.equal(toYaml({ a: 1, b: undefined }), 'a: 1\n');
  });
  it('joins documents with ---', () => {
    assert.equal(toYamlDocuments([{ a: 1 }, { b: 2 }]), 'a: 1\n---\nb: 2\n');
  });
});

describe("strings are quoted as go-yaml v2 quotes them (sigs.k8s.io/yaml, what kubeadm writes with)", () => {
  it('double quotes for text that would read as another type, single quotes for text that cannot be plain, plain otherwise', () => {
    const cases: [string, string][] = [
      ['[2001:db8::10]:6443', "'[2001:db8::10]:6443'"],
      ['x: y', "'x: y'"],
      ['-', "'-'"],
      ['*x', "'*x'"],
      [' lead', "' lead'"],
      ['5000', '"5000"'],
      ['8589934592', '"8589934592"'],
      ['0x1F', '"0x1F"'],
      ['017', '"017"'],
      ['1_000', '"1_000"'],
      ['1.5', '"1.5"'],
      ['.5', '".5"'],
      ['on', '"on"'],
      ['Yes', '"Yes"'],
      ['true', '"true"'],
      ['~', '"~"'],
      ['', '""'],
      ['2026-01-12', '"2026-01-12"'],
      ['190:20:30', '"190:20:30"'],
      ['10.96.0.10', '10.96.0.10'],
      ['3.6.8-0', '3.6.8-0'],
      ['v1.36.5', 'v1.36.5'],
      ['--flag=x', '--flag=x'],
      ['08', '"08"'], // not an octal int, but Go's float syntax
      ['node-role.kubernetes.io/control-plane:NoSchedule', 'node-role.kubernetes.io/control-plane:NoSchedule'],
    ];
    for (const [value, want] of cases) assert.equal(toYaml({ k: value }), `k: ${want}\n`, value);
    assert.equal(toYaml({ n: 1 }), '"n": 1\n', 'a key go-yaml reads as a boolean is quoted too');
  });
});
