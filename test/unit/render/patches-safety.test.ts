/**
 * Patches cannot reach a JavaScript prototype (issue 10): a json, merge or strategic patch that names __proto__,
 * constructor or prototype is refused with an error naming the patch file, and nothing outside the patched copy changes.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { applyJsonPatch, applyMergePatch, applyPatches, applyStrategicMergePatch, parsePatchDocuments, PatchError } from '../../../src/render/patches.js';

type Obj = Record<string, unknown>;

function polluted(): boolean {
  return (Object.prototype as Obj).polluted !== undefined || ({} as Obj).polluted !== undefined;
}

afterEach(() => {
  delete (Object.prototype as Obj).polluted;
});

const REFUSED = /__proto__, constructor and prototype are refused/;

describe('JSON patch (RFC 6902) and prototypes', () => {
  it('"/__proto__" as a path is refused, not a prototype change', () => {
    assert.throws(() => applyJsonPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: 1 } }]), REFUSED);
    assert.throws(() => applyJsonPatch({}, [{ op: 'add', path: '/__proto__/polluted', value: 1 }]), REFUSED);
    assert.throws(() => applyJsonPatch({ a: {} }, [{ op: 'replace', path: '/a/constructor/prototype/polluted', value: 1 }]), REFUSED);
    assert.throws(() => applyJsonPatch({ a: 1 }, [{ op: 'copy', from: '/a', path: '/__proto__' }]), REFUSED);
    assert.throws(() => applyJsonPatch({ a: 1 }, [{ op: 'move', from: '/__proto__', path: '/b' }]), REFUSED);
    assert.equal(polluted(), false);
  });
  it('a value carrying a __proto__ key is refused', () => {
    const value = JSON.parse('{"__proto__": {"polluted": 1}}') as unknown;
    assert.throws(() => applyJsonPatch({}, [{ op: 'add', path: '/a', value }]), /value names the key "__proto__"/);
  });
  it('the result never shares objects with the patch', () => {
    const patch = [{ op: 'add', path: '/a', value: { b: 1 } }, { op: 'add', path: '/a/c', value: 2 }];
    const out = applyJsonPatch({}, patch) as Obj;
    assert.deepEqual(out, { a: { b: 1, c: 2 } });
    assert.deepEqual(patch[0]?.value, { b: 1 }, 'the patch document is unchanged, so it can be applied again');
  });
});

describe('merge patch (RFC 7386) and prototypes', () => {
  it('a "__proto__" key is refused, not a prototype change', () => {
    const patch = JSON.parse('{"metadata": {"__proto__": {"polluted": 1}}}') as unknown;
    assert.throws(() => applyMergePatch({ metadata: {} }, patch), REFUSED);
    const top = JSON.parse('{"__proto__": {"polluted": 1}}') as unknown;
    assert.throws(() => applyMergePatch({}, top), REFUSED);
    assert.equal(polluted(), false);
  });
  it('null deletes, lists replace, the target stays untouched', () => {
    const target = { a: { b: 1, c: 2 }, l: [1, 2] };
    assert.deepEqual(applyMergePatch(target, { a: { b: null }, l: [3] }), { a: { c: 2 }, l: [3] });
    assert.deepEqual(target, { a: { b: 1, c: 2 }, l: [1, 2] });
  });
});

describe('strategic merge patch and prototypes', () => {
  it('a "__proto__", "constructor" or "prototype" key is refused', () => {
    assert.throws(() => applyStrategicMergePatch({ spec: {} }, JSON.parse('{"spec": {"__proto__": {"polluted": 1}}}')), REFUSED);
    assert.throws(() => applyStrategicMergePatch({ spec: {} }, { spec: { constructor: { prototype: { polluted: 1 } } } }), REFUSED);
    assert.equal(polluted(), false);
  });
});

describe('the error names the patch file', () => {
  for (const [type, name, text] of [
    ['merge', 'etcd+merge.yaml', '__proto__:\n  polluted: 1\n'],
    ['strategic', 'etcd.yaml', 'metadata:\n  __proto__:\n    polluted: 1\n'],
    ['json', 'etcd+json.yaml', '- op: add\n  path: /__proto__/polluted\n  value: 1\n'],
  ] as const) {
    it(`${type}: ${name}`, () => {
      const path = `/patches/${name}`;
      const documents = parsePatchDocuments(text, path);
      assert.throws(
        () => applyPatches('etcd', { metadata: { name: 'etcd' } }, [{ path, target: 'etcd', type, documents }]),
        (err: Error) => err instanceof PatchError && err.message.includes(`could not apply patch file "${path}"`) && REFUSED.test(err.message),
      );
      assert.equal(polluted(), false);
    });
  }
});
