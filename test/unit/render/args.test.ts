import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { argsToFlags, buildCommand, lastArgValue, mergeArgs, parseFlags, setArg } from '../../../src/render/args.js';

const defaults = [
  { name: 'secure-port', value: '6443' },
  { name: 'bind-address', value: '127.0.0.1' },
  { name: 'authorization-mode', value: 'Node,RBAC' },
  { name: 'allow-privileged', value: 'true' },
];
const overrides = [
  { name: 'service-account-issuer', value: 'https://z.example' },
  { name: 'bind-address', value: '0.0.0.0' },
  { name: 'service-account-issuer', value: 'https://a.example' },
  { name: 'audit-log-path', value: '' },
];

describe('mergeArgs (kubeadm ArgumentsToCommand, every supported patch)', () => {
  it('the defaults that are not overridden, sorted by name then value; then the user entries as given, duplicates kept', () => {
    assert.deepEqual(argsToFlags(mergeArgs(defaults, overrides)), [
      '--allow-privileged=true',
      '--authorization-mode=Node,RBAC',
      '--secure-port=6443',
      '--service-account-issuer=https://z.example',
      '--bind-address=0.0.0.0',
      '--service-account-issuer=https://a.example',
      '--audit-log-path=',
    ]);
  });

  it('sorts defaults with the same name by value, and leaves its inputs alone', () => {
    const d = [
      { name: 'x', value: 'b' },
      { name: 'x', value: 'a' },
    ];
    const copy = JSON.stringify(d);
    assert.deepEqual(argsToFlags(mergeArgs(d, [])), ['--x=a', '--x=b']);
    assert.equal(JSON.stringify(d), copy);
  });

  it('no overrides: the sorted defaults', () => {
    assert.deepEqual(mergeArgs(defaults, []).map((x) => x.name), ['allow-privileged', 'authorization-mode', 'bind-address', 'secure-port']);
  });

  it('buildCommand puts the binary first', () => {
    assert.deepEqual(buildCommand('kube-scheduler', [{ name: 'v', value: '2' }], []), ['kube-scheduler', '--v=2']);
  });
});

describe('arg helpers', () => {
  it('lastArgValue finds the last entry (kubeadm searches backwards)', () => {
    assert.equal(lastArgValue(overrides, 'service-account-issuer'), 'https://a.example');
    assert.equal(lastArgValue(overrides, 'audit-log-path'), '');
    assert.equal(lastArgValue(overrides, 'nope'), undefined);
  });

  it('setArg replaces every entry of a name with one, or appends', () => {
    assert.deepEqual(setArg([{ name: 'a', value: '1' }, { name: 'b', value: '2' }, { name: 'a', value: '3' }], 'a', '9'), [
      { name: 'a', value: '9' },
      { name: 'b', value: '2' },
    ]);
    assert.deepEqual(setArg([{ name: 'b', value: '2' }], 'a', '1'), [
      { name: 'b', value: '2' },
      { name: 'a', value: '1' },
    ]);
  });

  it('parseFlags reads a command back (binary and malformed items skipped, = inside values kept)', () => {
    assert.deepEqual(parseFlags(['etcd', '--name=cp1', '--initial-cluster=cp1=https://x:2380', 'junk', '--=x', '--empty=']), [
      { name: 'name', value: 'cp1' },
      { name: 'initial-cluster', value: 'cp1=https://x:2380' },
      { name: 'empty', value: '' },
    ]);
  });
});
