import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyJsonPatch,
  applyMergePatch,
  applyPatches,
  applyStrategicMergePatch,
  loadPatchFiles,
  parsePatchDocuments,
  parsePatchFileName,
  PatchError,
  type PatchReader,
} from '../../../src/render/patches.js';

type Obj = Record<string, unknown>;

const pod = (): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'kube-apiserver', labels: { component: 'kube-apiserver', tier: 'control-plane' } },
  spec: {
    containers: [
      {
        name: 'kube-apiserver',
        command: ['kube-apiserver', '--a=1'],
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 6443, name: 'probe-port', protocol: 'TCP' }],
        volumeMounts: [
          { mountPath: '/etc/ssl/certs', name: 'ca-certs', readOnly: true },
          { mountPath: '/etc/kubernetes/pki', name: 'k8s-certs', readOnly: true },
        ],
      },
    ],
    volumes: [
      { name: 'ca-certs', hostPath: { path: '/etc/ssl/certs' } },
      { name: 'k8s-certs', hostPath: { path: '/etc/kubernetes/pki' } },
    ],
    tolerations: [{ operator: 'Exists' }],
  },
});

describe('patch file names', () => {
  it('target[suffix][+patchtype].ext', () => {
    assert.deepEqual(parsePatchFileName('kube-apiserver.yaml'), { kind: 'patch', target: 'kube-apiserver', type: 'strategic' });
    assert.deepEqual(parsePatchFileName('kube-apiserver0+merge.yaml'), { kind: 'patch', target: 'kube-apiserver', type: 'merge' });
    assert.deepEqual(parsePatchFileName('etcd-01-ports+json.json'), { kind: 'patch', target: 'etcd', type: 'json' });
    assert.deepEqual(parsePatchFileName('kube-scheduler+strategic.yml'), { kind: 'patch', target: 'kube-scheduler', type: 'strategic' });
    assert.deepEqual(parsePatchFileName('kubeletconfiguration.json'), { kind: 'patch', target: 'kubeletconfiguration', type: 'strategic' });
    assert.deepEqual(parsePatchFileName('kube-controller-manager_x.yaml'), { kind: 'patch', target: 'kube-controller-manager', type: 'strategic' });
  });

  it('ignores unknown extensions and targets; a + without a known type is an error', () => {
    assert.equal(parsePatchFileName('etcd.txt').kind, 'ignored');
    assert.match((parsePatchFileName('etcd.yaml.bak') as { reason: string }).reason, /extension/);
    assert.match((parsePatchFileName('coredns.yaml') as { reason: string }).reason, /unknown target/);
    assert.match((parsePatchFileName('README.md') as { reason: string }).reason, /extension/);
    assert.throws(() => parsePatchFileName('etcd+.yaml'), PatchError);
    assert.throws(() => parsePatchFileName('etcd+yaml.yaml'), /unknown or missing patch type after '\+'/);
    // kubeadm's expression is not anchored after the type: "strategicx" reads as strategic
    assert.deepEqual(parsePatchFileName('etcd+strategicx.yaml'), { kind: 'patch', target: 'etcd', type: 'strategic' });
  });
});

describe('RFC 6902 json patch', () => {
  it('add, remove, replace, move, copy, test with escapes and "-"', () => {
    const doc = { a: { 'b/c': 1, 'd~e': [1, 2] }, list: ['x', 'z'] };
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/list/1', value: 'y' },
      { op: 'add', path: '/list/-', value: 'end' },
      { op: 'replace', path: '/a/b~1c', value: 2 },
      { op: 'test', path: '/a/d~0e', value: [1, 2] },
      { op: 'copy', from: '/a/d~0e', path: '/copied' },
      { op: 'move', from: '/list/0', path: '/first' },
      { op: 'remove', path: '/a/d~0e/0' },
    ]);
    assert.deepEqual(out, { a: { 'b/c': 2, 'd~e': [2] }, list: ['y', 'z', 'end'], copied: [1, 2], first: 'x' });
    assert.deepEqual(doc, { a: { 'b/c': 1, 'd~e': [1, 2] }, list: ['x', 'z'] }, 'input unchanged');
  });

  it('fails on missing paths, a failed test, bad indexes and unknown ops', () => {
    assert.throws(() => applyJsonPatch({}, [{ op: 'remove', path: '/x' }]), /operation 0 \(remove \/x\): path "\/x" does not exist/);
    assert.throws(() => applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b/c', value: 1 }]), /does not exist/);
    assert.throws(() => applyJsonPatch({ l: [1] }, [{ op: 'replace', path: '/l/1', value: 1 }]), /operation 0 \(replace \/l\/1\)/);
    assert.throws(() => applyJsonPatch({ a: 1 }, [{ op: 'add', path: 'a', value: 1 }]), /must start with "\/"/);
    assert.throws(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), /test failed/);
    assert.throws(() => applyJsonPatch({ l: [1] }, [{ op: 'add', path: '/l/5', value: 1 }]), /out of bounds/);
    // kubeadm's json-patch reads an index with strconv.Atoi, so "01" is index 1 there too
    assert.deepEqual(applyJsonPatch({ l: [1] }, [{ op: 'add', path: '/l/01', value: 2 }]), { l: [1, 2] });
    assert.throws(() => applyJsonPatch({ l: [1] }, [{ op: 'add', path: '/l/x', value: 1 }]), /operation 0 \(add \/l\/x\)/);
    assert.throws(() => applyJsonPatch({}, [{ op: 'frob', path: '/x' }]), /unknown operation/);
    assert.throws(() => applyJsonPatch({}, { op: 'add' }), /list of operations/);
    assert.throws(() => applyJsonPatch({}, [{ op: 'add', path: '/x' }]), /missing "value"/);
  });

  it("reads operations as kubeadm's json-patch does: replace of an absent map key adds it, negative indexes count from the end", () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 2 }]), { a: 1, b: 2 });
    assert.deepEqual(applyJsonPatch({ l: [1, 2, 3] }, [{ op: 'add', path: '/l/-1', value: 9 }]), { l: [1, 2, 3, 9] });
    assert.deepEqual(applyJsonPatch({ l: [1, 2, 3] }, [{ op: 'add', path: '/l/-2', value: 9 }]), { l: [1, 2, 9, 3] });
    assert.deepEqual(applyJsonPatch({ l: [1, 2, 3] }, [{ op: 'replace', path: '/l/-1', value: 9 }]), { l: [1, 2, 9] });
    assert.deepEqual(applyJsonPatch({ l: [1, 2, 3] }, [{ op: 'remove', path: '/l/-3' }]), { l: [2, 3] });
    assert.deepEqual(applyJsonPatch({ l: [{ a: 1 }, { a: 2 }] }, [{ op: 'copy', from: '/l/-1/a', path: '/b' }]), { l: [{ a: 1 }, { a: 2 }], b: 2 });
    assert.throws(() => applyJsonPatch({ l: [1] }, [{ op: 'remove', path: '/l/-2' }]), /operation 0 \(remove \/l\/-2\)/);
  });

  it('patches a probe port the way kubeadm users do', () => {
    const out = applyJsonPatch(pod(), [{ op: 'replace', path: '/spec/containers/0/ports/0/containerPort', value: 7443 }]) as Obj;
    assert.equal((((out.spec as Obj).containers as Obj[])[0]?.ports as Obj[])[0]?.containerPort, 7443);
  });
});

describe('RFC 7386 merge patch', () => {
  it('merges maps, null deletes, lists and scalars replace', () => {
    assert.deepEqual(applyMergePatch({ a: { b: 1, c: 2 }, l: [1, 2], s: 'x' }, { a: { b: null, d: 3 }, l: [9], s: { n: 1 } }), {
      a: { c: 2, d: 3 },
      l: [9],
      s: { n: 1 },
    });
    assert.deepEqual(applyMergePatch({ a: 1 }, ['x']), ['x']);
    assert.deepEqual(applyMergePatch('x', { a: { b: null } }), { a: {} });
  });
});

describe('strategic merge patch', () => {
  it('merges containers by name, env by name, volumeMounts by mountPath, ports by containerPort; appends new ones', () => {
    const out = applyStrategicMergePatch(pod(), {
      spec: {
        containers: [
          {
            name: 'kube-apiserver',
            env: [
              { name: 'B', value: '20' },
              { name: 'C', value: '3' },
            ],
            volumeMounts: [{ mountPath: '/etc/kubernetes/pki', readOnly: false }, { mountPath: '/audit', name: 'audit' }],
            ports: [{ containerPort: 6443, name: 'https' }],
            resources: { requests: { cpu: '500m' } },
          },
          { name: 'sidecar', image: 'busybox' },
        ],
        volumes: [{ name: 'audit', hostPath: { path: '/var/log/audit' } }],
      },
    }) as Obj;
    const [c, side] = (out.spec as Obj).containers as Obj[];
    assert.deepEqual(c?.env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '20' },
      { name: 'C', value: '3' },
    ]);
    assert.deepEqual(c?.volumeMounts, [
      { mountPath: '/etc/ssl/certs', name: 'ca-certs', readOnly: true },
      { mountPath: '/etc/kubernetes/pki', name: 'k8s-certs', readOnly: false },
      { mountPath: '/audit', name: 'audit' },
    ]);
    assert.deepEqual(c?.ports, [{ containerPort: 6443, name: 'https', protocol: 'TCP' }]);
    assert.deepEqual(c?.command, ['kube-apiserver', '--a=1'], 'untouched');
    assert.deepEqual(c?.resources, { requests: { cpu: '500m' } });
    assert.deepEqual(side, { name: 'sidecar', image: 'busybox' });
    // Kubernetes' order: a new item that the original order does not place goes before the original-only items
    assert.deepEqual(((out.spec as Obj).volumes as Obj[]).map((v) => v.name), ['audit', 'ca-certs', 'k8s-certs']);
  });

  it('lists without a merge key (command, tolerations) are replaced; null deletes a field', () => {
    const out = applyStrategicMergePatch(pod(), {
      metadata: { labels: { tier: null, extra: 'x' } },
      spec: { containers: [{ name: 'kube-apiserver', command: ['kube-apiserver', '--b=2'] }], tolerations: [{ key: 'k', operator: 'Exists' }] },
    }) as Obj;
    assert.deepEqual((out.metadata as Obj).labels, { component: 'kube-apiserver', extra: 'x' });
    assert.deepEqual(((out.spec as Obj).containers as Obj[])[0]?.command, ['kube-apiserver', '--b=2']);
    assert.deepEqual((out.spec as Obj).tolerations, [{ key: 'k', operator: 'Exists' }]);
  });

  it('$patch: delete removes a list element or a map; $patch: replace replaces a list or a map', () => {
    const out = applyStrategicMergePatch(pod(), {
      spec: {
        volumes: [{ name: 'ca-certs', $patch: 'delete' }],
        containers: [
          {
            name: 'kube-apiserver',
            volumeMounts: [{ mountPath: '/etc/ssl/certs', $patch: 'delete' }],
            env: [{ $patch: 'replace' }, { name: 'ONLY', value: '1' }],
          },
        ],
      },
      metadata: { labels: { $patch: 'replace', only: 'this' } },
    }) as Obj;
    const s = out.spec as Obj;
    assert.deepEqual((s.volumes as Obj[]).map((v) => v.name), ['k8s-certs']);
    const c = (s.containers as Obj[])[0] as Obj;
    assert.deepEqual((c.volumeMounts as Obj[]).map((m) => m.name), ['k8s-certs']);
    assert.deepEqual(c.env, [{ name: 'ONLY', value: '1' }]);
    assert.deepEqual((out.metadata as Obj).labels, { only: 'this' });
    const gone = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'kube-apiserver', env: null }] }, metadata: { labels: { $patch: 'delete' } } }) as Obj;
    assert.equal(((gone.spec as Obj).containers as Obj[])[0]?.env, undefined);
    // apimachinery leaves an empty map; kubeadm's v1.Pod round trip then drops it, and so does applyPatches
    assert.deepEqual((gone.metadata as Obj).labels, {});
    const viaFiles = applyPatches('kube-apiserver', pod(), [
      { path: 'p.yaml', target: 'kube-apiserver', type: 'strategic', documents: [{ metadata: { labels: { $patch: 'delete' } } }] },
    ]).object as Obj;
    assert.equal((viaFiles.metadata as Obj).labels, undefined);
  });

  it('$deleteFromPrimitiveList and $setElementOrder directives', () => {
    const out = applyStrategicMergePatch(
      { metadata: { finalizers: ['a', 'b', 'c'] } },
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'], '$setElementOrder/finalizers': ['a', 'c'] } },
    );
    assert.deepEqual(out, { metadata: { finalizers: ['a', 'c'] } });
  });

  it('rejects a list item without the merge key and a non-mapping patch', () => {
    assert.throws(() => applyStrategicMergePatch(pod(), { spec: { containers: [{ image: 'x' }] } }), /spec.containers: list item has no merge key "name"/);
    assert.throws(() => applyStrategicMergePatch(pod(), [1]), /must be a mapping/);
    assert.throws(() => applyStrategicMergePatch(pod(), { spec: { $patch: 'frob' } }), /unknown \$patch directive/);
  });

  it('without merge keys (kubeletconfiguration) every list is replaced', () => {
    const kc = { kind: 'KubeletConfiguration', clusterDNS: ['10.96.0.10'], evictionHard: { 'memory.available': '100Mi' } };
    const r = applyPatches('kubeletconfiguration', kc, [
      { path: 'kubeletconfiguration.yaml', target: 'kubeletconfiguration', type: 'strategic', documents: [{ clusterDNS: ['10.96.0.11'], evictionHard: { 'nodefs.available': '5%' } }] },
    ]);
    assert.deepEqual(r.object, { kind: 'KubeletConfiguration', clusterDNS: ['10.96.0.11'], evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '5%' } });
    assert.deepEqual(r.applied, [{ file: 'kubeletconfiguration.yaml', type: 'application/strategic-merge-patch+json' }]);
  });
});

describe('applyPatches', () => {
  it('applies only the target’s files, in order, document by document, without touching the input', () => {
    const input = pod();
    const before = JSON.stringify(input);
    const r = applyPatches('kube-apiserver', input, [
      { path: 'a.yaml', target: 'kube-apiserver', type: 'merge', documents: [{ metadata: { labels: { step: '1' } } }, { metadata: { labels: { step: '2' } } }] },
      { path: 'b.yaml', target: 'etcd', type: 'merge', documents: [{ metadata: { labels: { step: 'etcd' } } }] },
      { path: 'c.json', target: 'kube-apiserver', type: 'json', documents: [[{ op: 'test', path: '/metadata/labels/step', value: '2' }, { op: 'add', path: '/metadata/labels/step', value: '3' }]] },
    ]);
    assert.equal((((r.object as Obj).metadata as Obj).labels as Obj).step, '3');
    assert.deepEqual(r.applied.map((a) => a.file), ['a.yaml', 'a.yaml', 'c.json']);
    assert.equal(JSON.stringify(input), before);
  });

  it('an error names the patch file, the document and the type', () => {
    assert.throws(
      () =>
        applyPatches('etcd', pod(), [
          { path: '/patches/etcd+json.yaml', target: 'etcd', type: 'json', documents: [[{ op: 'add', path: '/x', value: 1 }], [{ op: 'remove', path: '/nope' }]] },
        ]),
      (err: Error) =>
        err instanceof PatchError &&
        err.message.startsWith('could not apply patch file "/patches/etcd+json.yaml" (document 2) of type "application/json-patch+json" to target "etcd"') &&
        err.message.includes('"/nope" does not exist'),
    );
  });
});

describe('loadPatchFiles', () => {
  function reader(files: Record<string, string>): PatchReader {
    const dirs = new Set<string>();
    for (const f of Object.keys(files)) {
      const parts = f.split('/');
      for (let i = 2; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    return {
      async listDir(p) {
        const out = new Set<string>();
        for (const k of [...Object.keys(files), ...dirs]) if (k.startsWith(`${p}/`)) out.add(k.slice(p.length + 1).split('/')[0] as string);
        return dirs.has(p) ? [...out].sort().reverse() : undefined; // unsorted on purpose
      },
      async stat(p) {
        if (dirs.has(p)) return { kind: 'dir' };
        return p in files ? { kind: 'file' } : undefined;
      },
      async readFile(p) {
        return p in files ? Buffer.from(files[p] as string) : undefined;
      },
    };
  }

  it('reads files in lexical order (sub-directories walked in place), skipping unknown names and empty files', async () => {
    const r = reader({
      '/p/kube-apiserver1.yaml': 'metadata: {labels: {n: "1"}}\n',
      '/p/kube-apiserver0+merge.yaml': 'metadata: {labels: {n: "0"}}\n---\nmetadata: {labels: {m: "0"}}\n',
      '/p/sub/etcd+json.json': '[{"op": "add", "path": "/x", "value": 1}]',
      '/p/README.md': '# notes',
      '/p/coredns.yaml': 'a: 1',
      '/p/kube-scheduler.yaml': '',
    });
    const loaded = await loadPatchFiles('/p', r);
    assert.deepEqual(
      loaded.files.map((f) => [f.path, f.target, f.type, f.documents.length]),
      [
        ['/p/kube-apiserver0+merge.yaml', 'kube-apiserver', 'merge', 2],
        ['/p/kube-apiserver1.yaml', 'kube-apiserver', 'strategic', 1],
        ['/p/sub/etcd+json.json', 'etcd', 'json', 1],
      ],
    );
    assert.deepEqual(loaded.ignored.map((i) => i.name), ['README.md', 'coredns.yaml', 'kube-scheduler.yaml']);
  });

  it('a missing directory, a file instead of a directory and unparsable YAML are errors', async () => {
    await assert.rejects(loadPatchFiles('/none', reader({})), /could not list patch files for path "\/none": no such directory/);
    await assert.rejects(loadPatchFiles('/p/etcd.yaml', reader({ '/p/etcd.yaml': 'a: 1' })), /not a directory/);
    await assert.rejects(loadPatchFiles('/p', reader({ '/p/etcd.yaml': 'a: [1' })), /could not parse patch file "\/p\/etcd.yaml"/);
  });

  it('parsePatchDocuments drops empty documents', () => {
    assert.deepEqual(parsePatchDocuments('---\na: 1\n---\n---\nb: 2\n', 'x'), [{ a: 1 }, { b: 2 }]);
  });
});
