/**
 * The strategic merge patch as kubeadm applies it (apimachinery's StrategicMergePatch with v1.Pod{} or
 * KubeletConfiguration{} as the schema). Every expectation here was checked against kubeadm v1.36.5's own output
 * for the same patches (test/fixtures/kubeadm-patches, compared byte for byte by test/integration/kubeadm-patches.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPatches, applyStrategicMergePatch, KUBELET_CONFIGURATION_SCHEMA, type PatchFile } from '../../../src/render/patches.js';

type Obj = Record<string, unknown>;

const apiserver = (): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'kube-apiserver', labels: { component: 'kube-apiserver', tier: 'control-plane' } },
  spec: {
    containers: [
      {
        name: 'kube-apiserver',
        command: ['kube-apiserver', '--a=1'],
        ports: [{ containerPort: 6443, name: 'probe-port', protocol: 'TCP' }],
        resources: { requests: { cpu: '250m' } },
        volumeMounts: [
          { mountPath: '/etc/ssl/certs', name: 'ca-certs', readOnly: true },
          { mountPath: '/etc/kubernetes/pki', name: 'k8s-certs', readOnly: true },
        ],
      },
    ],
    volumes: [
      { name: 'ca-certs', hostPath: { path: '/etc/ssl/certs', type: 'DirectoryOrCreate' } },
      { name: 'k8s-certs', hostPath: { path: '/etc/kubernetes/pki', type: 'DirectoryOrCreate' } },
    ],
  },
  status: {},
});

const container = (pod: unknown): Obj => (((pod as Obj).spec as Obj).containers as Obj[])[0] as Obj;
const names = (list: unknown, key = 'name'): unknown[] => (list as Obj[]).map((x) => x[key]);

function patchFiles(target: string, ...documents: unknown[]): PatchFile[] {
  return [{ path: `/patches/${target}.yaml`, target, type: 'strategic', documents }];
}

describe('merge keys by path, from the Go struct tags', () => {
  it('PodSpec.volumes by name, Container.volumeMounts by mountPath, Container.ports by containerPort, Container.env by name', () => {
    const out = applyStrategicMergePatch(apiserver(), {
      spec: {
        containers: [
          {
            name: 'kube-apiserver',
            ports: [{ containerPort: 6443, hostPort: 6443 }],
            volumeMounts: [{ mountPath: '/etc/ssl/certs', readOnly: false }],
            env: [{ name: 'GOGC', value: '50' }],
          },
        ],
        volumes: [{ name: 'k8s-certs', hostPath: { path: '/srv/pki' } }],
      },
    });
    const c = container(out);
    assert.deepEqual(c.ports, [{ containerPort: 6443, name: 'probe-port', protocol: 'TCP', hostPort: 6443 }]);
    assert.deepEqual((c.volumeMounts as Obj[])[0], { mountPath: '/etc/ssl/certs', name: 'ca-certs', readOnly: false });
    assert.deepEqual(c.env, [{ name: 'GOGC', value: '50' }]);
    assert.deepEqual(((out as Obj).spec as Obj).volumes, [
      { name: 'ca-certs', hostPath: { path: '/etc/ssl/certs', type: 'DirectoryOrCreate' } },
      { name: 'k8s-certs', hostPath: { path: '/srv/pki', type: 'DirectoryOrCreate' } },
    ]);
  });

  it('hostAliases merge by ip (their hostnames list has no strategy and is replaced); imagePullSecrets by name', () => {
    const first = applyStrategicMergePatch(apiserver(), {
      spec: { hostAliases: [{ ip: '192.0.2.20', hostnames: ['registry.example.com'] }], imagePullSecrets: [{ name: 'pull-a' }] },
    });
    const out = applyStrategicMergePatch(first, {
      spec: {
        hostAliases: [
          { ip: '192.0.2.21', hostnames: ['mirror.example.com'] },
          { ip: '192.0.2.20', hostnames: ['registry.internal'] },
        ],
        imagePullSecrets: [{ name: 'pull-b' }],
      },
    }) as Obj;
    assert.deepEqual((out.spec as Obj).hostAliases, [
      { ip: '192.0.2.21', hostnames: ['mirror.example.com'] },
      { ip: '192.0.2.20', hostnames: ['registry.internal'] },
    ]);
    assert.deepEqual(names((out.spec as Obj).imagePullSecrets), ['pull-b', 'pull-a']);
  });

  it('lists without a merge strategy are replaced: tolerations, command, args', () => {
    const first = applyStrategicMergePatch(apiserver(), { spec: { tolerations: [{ operator: 'Exists' }] } });
    const out = applyStrategicMergePatch(first, {
      spec: {
        tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'kube-apiserver', command: ['kube-apiserver', '--b=2'], args: ['--v=2'] }],
      },
    }) as Obj;
    assert.deepEqual((out.spec as Obj).tolerations, [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(container(out).command, ['kube-apiserver', '--b=2']);
    assert.deepEqual(container(out).args, ['--v=2']);
  });

  it('ObjectMeta.finalizers merge as a set of scalars; topologySpreadConstraints by topologyKey; status.conditions by type', () => {
    const pod = { ...apiserver(), metadata: { name: 'p', finalizers: ['a', 'b'] }, status: { conditions: [{ type: 'Ready', status: 'False' }] } };
    const out = applyStrategicMergePatch(pod, {
      metadata: { finalizers: ['c', 'a'] },
      spec: { topologySpreadConstraints: [{ topologyKey: 'zone', maxSkew: 1 }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] },
    }) as Obj;
    assert.deepEqual((out.metadata as Obj).finalizers, ['c', 'a', 'b']);
    assert.deepEqual((out.status as Obj).conditions, [
      { type: 'Ready', status: 'True' },
      { type: 'Initialized', status: 'True' },
    ]);
    const again = applyStrategicMergePatch(out, { spec: { topologySpreadConstraints: [{ topologyKey: 'host', maxSkew: 2 }] } }) as Obj;
    assert.deepEqual(names((again.spec as Obj).topologySpreadConstraints, 'topologyKey'), ['host', 'zone']);
  });

  it('a list named like a merged one elsewhere is replaced where its type has no merge key', () => {
    // "containers" merges by name only as PodSpec.containers; under another path it is a plain list
    const out = applyStrategicMergePatch(
      { spec: { overhead: { cpu: '1' } }, metadata: { annotations: { a: '1' } }, extra: { containers: [{ name: 'x', image: 'a' }] } },
      { extra: { containers: [{ image: 'b' }] } },
    ) as Obj;
    assert.deepEqual((out.extra as Obj).containers, [{ image: 'b' }]);
  });

  it('KubeletConfiguration has no merge keys: every list is replaced, maps merge', () => {
    const kc = { clusterDNS: ['10.96.0.10'], tlsCipherSuites: ['A', 'B'], evictionHard: { 'memory.available': '100Mi' } };
    const out = applyStrategicMergePatch(kc, { clusterDNS: ['10.96.0.11'], evictionHard: { 'nodefs.available': '5%' } }, KUBELET_CONFIGURATION_SCHEMA);
    assert.deepEqual(out, { clusterDNS: ['10.96.0.11'], tlsCipherSuites: ['A', 'B'], evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '5%' } });
  });
});

describe("Kubernetes' element order after a merge", () => {
  it('patch items keep the patch order; an item the original order cannot place goes before the original-only ones', () => {
    const out = applyStrategicMergePatch(apiserver(), {
      spec: {
        containers: [{ name: 'kube-apiserver', volumeMounts: [{ mountPath: '/var/log/audit', name: 'audit' }] }],
        volumes: [{ name: 'audit', hostPath: { path: '/var/log/audit' } }],
      },
    });
    assert.deepEqual(names(container(out).volumeMounts, 'mountPath'), ['/var/log/audit', '/etc/ssl/certs', '/etc/kubernetes/pki']);
    assert.deepEqual(names(((out as Obj).spec as Obj).volumes), ['audit', 'ca-certs', 'k8s-certs']);
  });

  it('merged and new items interleave with the original-only ones by the original order', () => {
    const first = applyStrategicMergePatch(apiserver(), {
      spec: { containers: [{ name: 'kube-apiserver', env: [{ name: 'GOGC', value: '50' }, { name: 'GOMAXPROCS', value: '2' }] }] },
    });
    const out = applyStrategicMergePatch(first, {
      spec: { containers: [{ name: 'kube-apiserver', env: [{ name: 'GOGC', value: '75' }, { name: 'TZ', value: 'UTC' }] }] },
    });
    assert.deepEqual(container(out).env, [
      { name: 'GOGC', value: '75' },
      { name: 'TZ', value: 'UTC' },
      { name: 'GOMAXPROCS', value: '2' },
    ]);
  });

  it('$setElementOrder puts the list in the given order', () => {
    const out = applyStrategicMergePatch(apiserver(), {
      spec: {
        containers: [{ name: 'kube-apiserver', '$setElementOrder/volumeMounts': [{ mountPath: '/etc/kubernetes/pki' }, { mountPath: '/etc/ssl/certs' }] }],
      },
    });
    assert.deepEqual(names(container(out).volumeMounts, 'mountPath'), ['/etc/kubernetes/pki', '/etc/ssl/certs']);
  });
});

describe('directives as kubeadm users meet them', () => {
  it('$patch: delete removes list items by merge key; $retainKeys clears the keys it does not name', () => {
    const out = applyStrategicMergePatch(apiserver(), {
      spec: {
        containers: [{ name: 'kube-apiserver', volumeMounts: [{ mountPath: '/etc/ssl/certs', $patch: 'delete' }] }],
        volumes: [
          { name: 'ca-certs', $patch: 'delete' },
          { name: 'k8s-certs', $retainKeys: ['name', 'emptyDir'], emptyDir: {} },
        ],
      },
    }) as Obj;
    assert.deepEqual(names(container(out).volumeMounts, 'mountPath'), ['/etc/kubernetes/pki']);
    assert.deepEqual((out.spec as Obj).volumes, [{ name: 'k8s-certs', emptyDir: {} }]);
  });

  it('$retainKeys must name every key the patch sets', () => {
    assert.throws(
      () => applyStrategicMergePatch(apiserver(), { spec: { volumes: [{ name: 'k8s-certs', $retainKeys: ['name'], emptyDir: {} }] } }),
      /invalid patch format of \$retainKeys: "emptyDir" is patched but not retained/,
    );
  });

  it('$patch: replace as a list item makes the other items the list', () => {
    const out = applyStrategicMergePatch(apiserver(), {
      spec: { containers: [{ name: 'kube-apiserver', volumeMounts: [{ $patch: 'replace' }, { mountPath: '/only', name: 'only' }] }] },
    });
    assert.deepEqual(container(out).volumeMounts, [{ mountPath: '/only', name: 'only' }]);
  });

  it('$patch: replace on a map replaces it; on a map the original lacks, the whole entry is dropped (as apimachinery does)', () => {
    const out = applyStrategicMergePatch(apiserver(), {
      metadata: { labels: { $patch: 'replace', only: 'this' } },
      spec: { containers: [{ name: 'kube-apiserver', securityContext: { $patch: 'replace', runAsUser: 0 } }] },
    }) as Obj;
    assert.deepEqual((out.metadata as Obj).labels, { only: 'this' });
    assert.equal(container(out).securityContext, undefined);
  });

  it('$deleteFromPrimitiveList removes scalars from a merged list', () => {
    const out = applyStrategicMergePatch(
      { metadata: { finalizers: ['a', 'b'] } },
      { metadata: { finalizers: ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
    );
    assert.deepEqual(out, { metadata: { finalizers: ['c', 'a'] } });
  });

  it('$patch: merge is not a directive apimachinery takes, in a map or a list', () => {
    assert.throws(() => applyStrategicMergePatch(apiserver(), { metadata: { labels: { $patch: 'merge', a: 'b' } } }), /unknown \$patch directive "merge"/);
    assert.throws(
      () => applyStrategicMergePatch(apiserver(), { spec: { volumes: [{ $patch: 'merge' }] } }),
      /merging lists cannot yet be specified in the patch/,
    );
  });

  it('a list of maps with a merge strategy needs the merge key in every patch item', () => {
    assert.throws(() => applyStrategicMergePatch(apiserver(), { spec: { volumes: [{ emptyDir: {} }] } }), /spec.volumes: list item has no merge key "name"/);
  });
});

describe('the patched Pod as kubeadm prints it (its v1.Pod round trip)', () => {
  it('empty maps and false value fields vanish, a container always has resources', () => {
    const r = applyPatches(
      'kube-apiserver',
      apiserver(),
      patchFiles(
        'kube-apiserver',
        {
          metadata: { labels: { $patch: 'delete' } },
          spec: {
            containers: [
              { name: 'kube-apiserver', resources: { requests: { $patch: 'delete' } }, volumeMounts: [{ mountPath: '/etc/ssl/certs', readOnly: false }] },
              { name: 'sidecar', image: 'registry.k8s.io/pause:3.10' },
            ],
          },
        },
      ),
    );
    const pod = r.object as Obj;
    assert.equal((pod.metadata as Obj).labels, undefined);
    const [api, side] = (pod.spec as Obj).containers as Obj[];
    assert.deepEqual(api?.resources, {});
    assert.deepEqual((api?.volumeMounts as Obj[])[0], { mountPath: '/etc/ssl/certs', name: 'ca-certs' });
    assert.deepEqual(side, { name: 'sidecar', image: 'registry.k8s.io/pause:3.10', resources: {} });
  });

  it('KubeletConfiguration is written as patched (kubeadm does not decode it again)', () => {
    const r = applyPatches('kubeletconfiguration', { evictionHard: { a: '1' }, failSwapOn: true }, [
      { path: 'k.yaml', target: 'kubeletconfiguration', type: 'strategic', documents: [{ evictionHard: { $patch: 'delete' }, failSwapOn: false }] },
    ]);
    assert.deepEqual(r.object, { evictionHard: {}, failSwapOn: false });
  });
});
