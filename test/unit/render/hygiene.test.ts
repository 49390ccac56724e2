import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStaticPodPath, kubeletReads, podKey } from '../../../src/render/hygiene.js';

const D = '/etc/kubernetes/manifests';
const apiserver = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers: []\n';
const other = (name: string, ns?: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}`;

describe('kubelet rules', () => {
  it('reads regular files whose name does not start with "."', () => {
    assert.equal(kubeletReads({ name: 'etcd.yaml', kind: 'file' }), true);
    assert.equal(kubeletReads({ name: '4913', kind: 'file' }), true);
    assert.equal(kubeletReads({ name: '.etcd.yaml.1a2b.tmp', kind: 'file' }), false);
    assert.equal(kubeletReads({ name: 'old', kind: 'dir' }), false);
  });

  it('podKey: namespace/name, "default" when empty, undefined when not a Pod', () => {
    assert.equal(podKey(apiserver), 'kube-system/kube-apiserver');
    assert.equal(podKey(other('x')), 'default/x');
    assert.equal(podKey('{"kind":"Pod","metadata":{"name":"j","namespace":"n"}}'), 'n/j');
    assert.equal(podKey(''), undefined);
    assert.equal(podKey('kind: Deployment\nmetadata: {name: x}\n'), undefined);
    assert.equal(podKey('a: [1'), undefined);
    assert.equal(podKey(undefined), undefined);
  });
});

describe('checkStaticPodPath', () => {
  it('warns about every stray file the kubelet would read, names it, and ignores dot files and directories', () => {
    const r = checkStaticPodPath(
      D,
      [
        { name: '.kube-apiserver.yaml.abc.tmp', kind: 'file', content: apiserver },
        { name: '4913', kind: 'file', content: '' },
        { name: 'backup', kind: 'dir' },
        { name: 'etcd.yaml', kind: 'file', content: other('etcd', 'kube-system') },
        { name: 'etcd.yaml~', kind: 'file', content: other('etcd-old', 'kube-system') },
        { name: 'nginx.yaml', kind: 'file', content: other('nginx') },
      ],
      [{ path: `${D}/kube-apiserver.yaml`, content: apiserver }],
    );
    assert.deepEqual(r.warnings.map((w) => w.name), ['4913', 'etcd.yaml~', 'nginx.yaml']);
    assert.match(r.warnings[0]?.message ?? '', /^"\/etc\/kubernetes\/manifests\/4913" is not a kubeboot manifest, but the kubelet will try to run it as a pod/);
    assert.match(r.warnings[1]?.message ?? '', /the kubelet will run it as a pod \(kube-system\/etcd-old\)/);
    assert.match(r.warnings[2]?.message ?? '', /\/etc\/kubernetes\/tmp\//);
    assert.deepEqual(r.conflicts, []);
  });

  it('two files that define the same pod are a conflict (a .bak copy of the manifest being written)', () => {
    const r = checkStaticPodPath(D, [{ name: 'kube-apiserver.yaml.bak', kind: 'file', content: apiserver }], [{ path: `${D}/kube-apiserver.yaml`, content: apiserver }]);
    assert.equal(r.warnings.length, 1);
    assert.deepEqual(r.conflicts, [
      '"/etc/kubernetes/manifests/kube-apiserver.yaml" and "/etc/kubernetes/manifests/kube-apiserver.yaml.bak" both define the pod kube-system/kube-apiserver: the kubelet runs only one of them; move the extra file(s) out of the static pod path (to /etc/kubernetes/tmp/ for example)',
    ]);
  });

  it('the rendered file replaces the one on disk of the same name (no self-conflict); a dot-file copy is harmless', () => {
    const r = checkStaticPodPath(
      D,
      [
        { name: 'kube-apiserver.yaml', kind: 'file', content: apiserver },
        { name: '.kube-apiserver.yaml.bak', kind: 'file', content: apiserver },
      ],
      [{ path: `${D}/kube-apiserver.yaml`, content: apiserver }],
    );
    assert.deepEqual(r, { warnings: [], conflicts: [] });
  });

  it('conflicts between files kubeboot does not own are reported too', () => {
    const r = checkStaticPodPath(D, [
      { name: 'a.yaml', kind: 'file', content: other('x') },
      { name: 'b.json', kind: 'file', content: '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","namespace":"default"}}' },
    ], []);
    assert.equal(r.conflicts.length, 1);
    assert.match(r.conflicts[0] ?? '', /a\.yaml" and ".*b\.json" both define the pod default\/x/);
  });
});
