import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  buildStaticPod,
  etcdUsesNewFlags,
  renderStaticPod,
  renderStaticPods,
  startupFailureThreshold,
} from '../../../src/render/manifests.js';
import { checkPodTemplate, type StaticPodTemplates } from '../../../src/render/templates.js';
import { loadStaticPodTemplates } from '../../../src/node/templates.js';
import { parseYaml } from '../../../src/render/yaml.js';
import { TEST_HOST } from '../../helpers/host.js';
import { command, container, makeSpec, validatePod, withVersion } from './manifest-helpers.js';

type Obj = Record<string, unknown>;
let T: StaticPodTemplates;
before(async () => {
  T = await loadStaticPodTemplates();
});

const pod = (content: string): Obj => validatePod(content);
const byComponent = (items: { component: string; content: string }[], c: string): Obj =>
  pod((items.find((i) => i.component === c) as { content: string }).content);

const P = '/etc/kubernetes/pki';

// Reference §4.4, advertise 192.0.2.10, bindPort 6443, default dirs and subnets: already in name order.
const APISERVER_DEFAULT = [
  'kube-apiserver',
  '--advertise-address=192.0.2.10',
  '--allow-privileged=true',
  '--authorization-mode=Node,RBAC',
  `--client-ca-file=${P}/ca.crt`,
  '--enable-admission-plugins=NodeRestriction',
  '--enable-bootstrap-token-auth=true',
  `--etcd-cafile=${P}/etcd/ca.crt`,
  `--etcd-certfile=${P}/apiserver-etcd-client.crt`,
  `--etcd-keyfile=${P}/apiserver-etcd-client.key`,
  '--etcd-servers=https://127.0.0.1:2379',
  `--kubelet-client-certificate=${P}/apiserver-kubelet-client.crt`,
  `--kubelet-client-key=${P}/apiserver-kubelet-client.key`,
  '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
  `--proxy-client-cert-file=${P}/front-proxy-client.crt`,
  `--proxy-client-key-file=${P}/front-proxy-client.key`,
  '--requestheader-allowed-names=front-proxy-client',
  `--requestheader-client-ca-file=${P}/front-proxy-ca.crt`,
  '--requestheader-extra-headers-prefix=X-Remote-Extra-',
  '--requestheader-group-headers=X-Remote-Group',
  '--requestheader-username-headers=X-Remote-User',
  '--secure-port=6443',
  '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
  `--service-account-key-file=${P}/sa.pub`,
  `--service-account-signing-key-file=${P}/sa.key`,
  '--service-cluster-ip-range=10.96.0.0/12',
  `--tls-cert-file=${P}/apiserver.crt`,
  `--tls-private-key-file=${P}/apiserver.key`,
];

const K = '/etc/kubernetes/controller-manager.conf';
// Reference §4.5 with podSubnet 10.244.0.0/16.
const KCM_WITH_POD_SUBNET = [
  'kube-controller-manager',
  '--allocate-node-cidrs=true',
  `--authentication-kubeconfig=${K}`,
  `--authorization-kubeconfig=${K}`,
  '--bind-address=127.0.0.1',
  `--client-ca-file=${P}/ca.crt`,
  '--cluster-cidr=10.244.0.0/16',
  '--cluster-name=kubernetes',
  `--cluster-signing-cert-file=${P}/ca.crt`,
  `--cluster-signing-key-file=${P}/ca.key`,
  '--controllers=*,bootstrapsigner,tokencleaner',
  `--kubeconfig=${K}`,
  '--leader-elect=true',
  `--requestheader-client-ca-file=${P}/front-proxy-ca.crt`,
  `--root-ca-file=${P}/ca.crt`,
  `--service-account-private-key-file=${P}/sa.key`,
  '--service-cluster-ip-range=10.96.0.0/12',
  '--use-service-account-credentials=true',
];

const S = '/etc/kubernetes/scheduler.conf';

function etcdCommand(corrupt: [string, string]): string[] {
  // Reference §4.7 for node cp1, advertise 192.0.2.10, with the given corrupt-check / progress-notify pair.
  const out = [
    'etcd',
    '--advertise-client-urls=https://192.0.2.10:2379',
    `--cert-file=${P}/etcd/server.crt`,
    '--client-cert-auth=true',
    '--data-dir=/var/lib/etcd',
    '--initial-advertise-peer-urls=https://192.0.2.10:2380',
    '--initial-cluster=cp1=https://192.0.2.10:2380',
    `--key-file=${P}/etcd/server.key`,
    '--listen-client-urls=https://127.0.0.1:2379,https://192.0.2.10:2379',
    '--listen-metrics-urls=http://127.0.0.1:2381',
    '--listen-peer-urls=https://192.0.2.10:2380',
    '--name=cp1',
    `--peer-cert-file=${P}/etcd/peer.crt`,
    '--peer-client-cert-auth=true',
    `--peer-key-file=${P}/etcd/peer.key`,
    `--peer-trusted-ca-file=${P}/etcd/ca.crt`,
    '--snapshot-count=10000',
    `--trusted-ca-file=${P}/etcd/ca.crt`,
    ...corrupt,
  ];
  return ['etcd', ...out.slice(1).sort()];
}
const NEW_ETCD: [string, string] = ['--feature-gates=InitialCorruptCheck=true', '--watch-progress-notify-interval=5s'];
const OLD_ETCD: [string, string] = ['--experimental-initial-corrupt-check=true', '--experimental-watch-progress-notify-interval=5s'];

describe('templates', () => {
  it('loads the four package templates and rejects a broken one', async () => {
    assert.deepEqual(Object.keys(T).sort(), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    assert.throws(() => checkPodTemplate('etcd', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }), /template for etcd is broken/);
    assert.throws(() => checkPodTemplate('etcd', 'text'), /not a mapping/);
    await assert.rejects(loadStaticPodTemplates('/nonexistent-dir'), /cannot read template/);
  });
});

describe('renderStaticPods: defaults (1.36)', () => {
  it('renders four valid Pods at the manifest paths with mode 0600, in kubeadm order', async () => {
    const spec = await makeSpec();
    const items = renderStaticPods(spec, TEST_HOST, T);
    assert.deepEqual(
      items.map((i) => [i.component, i.path, i.mode]),
      [
        ['etcd', '/etc/kubernetes/manifests/etcd.yaml', 0o600],
        ['kube-apiserver', '/etc/kubernetes/manifests/kube-apiserver.yaml', 0o600],
        ['kube-controller-manager', '/etc/kubernetes/manifests/kube-controller-manager.yaml', 0o600],
        ['kube-scheduler', '/etc/kubernetes/manifests/kube-scheduler.yaml', 0o600],
      ],
    );
    for (const i of items) {
      const p = pod(i.content);
      assert.equal((p.metadata as Obj).name, i.component);
      assert.equal((p.metadata as Obj).namespace, 'kube-system');
      assert.deepEqual((p.metadata as Obj).labels, { component: i.component, tier: 'control-plane' });
      // kubeadm 1.34+ (every supported minor) omits the zero creationTimestamp (kubernetes#130989)
      assert.ok(!('creationTimestamp' in (p.metadata as Obj)), 'no creationTimestamp');
      assert.deepEqual(p.status, {});
      const s = p.spec as Obj;
      assert.equal(s.hostNetwork, true);
      assert.equal(s.priority, 2000001000);
      assert.equal(s.priorityClassName, 'system-node-critical');
      assert.deepEqual(s.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
      assert.equal(container(p).imagePullPolicy, 'IfNotPresent');
      assert.ok(i.content.endsWith('status: {}\n'), 'status: {} is the last line');
      assert.ok(!i.content.includes('creationTimestamp'));
    }
  });

  it('the apiserver command, image, annotation, probes and volumes match reference §4', async () => {
    const spec = await makeSpec();
    const p = byComponent(renderStaticPods(spec, TEST_HOST, T), 'kube-apiserver');
    assert.deepEqual(command(p), APISERVER_DEFAULT);
    const c = container(p);
    assert.equal(c.image, 'registry.k8s.io/kube-apiserver:v1.36.5');
    assert.deepEqual((p.metadata as Obj).annotations, {
      'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': '192.0.2.10:6443',
    });
    assert.deepEqual(c.livenessProbe, {
      failureThreshold: 8,
      httpGet: { host: '192.0.2.10', path: '/livez', port: 'probe-port', scheme: 'HTTPS' },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      timeoutSeconds: 15,
    });
    assert.deepEqual(c.readinessProbe, {
      failureThreshold: 3,
      httpGet: { host: '192.0.2.10', path: '/readyz', port: 'probe-port', scheme: 'HTTPS' },
      periodSeconds: 1,
      timeoutSeconds: 15,
    });
    assert.deepEqual(c.startupProbe, {
      failureThreshold: 24,
      httpGet: { host: '192.0.2.10', path: '/livez', port: 'probe-port', scheme: 'HTTPS' },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      timeoutSeconds: 15,
    });
    assert.deepEqual(c.ports, [{ containerPort: 6443, name: 'probe-port', protocol: 'TCP' }]);
    assert.deepEqual(c.resources, { requests: { cpu: '250m' } });
    assert.equal(c.env, undefined, 'no env without proxies or extraEnvs');
    assert.deepEqual(c.volumeMounts, [
      { mountPath: '/etc/ssl/certs', name: 'ca-certs', readOnly: true },
      { mountPath: P, name: 'k8s-certs', readOnly: true },
    ]);
    assert.deepEqual((p.spec as Obj).volumes, [
      { hostPath: { path: '/etc/ssl/certs', type: 'DirectoryOrCreate' }, name: 'ca-certs' },
      { hostPath: { path: P, type: 'DirectoryOrCreate' }, name: 'k8s-certs' },
    ]);
  });

  it('KCM: reference §4.5 flags with a pod subnet, no flexvolume-dir from 1.36, probes on 10257 /healthz only', async () => {
    const spec = await makeSpec({ networking: { podSubnet: '10.244.0.0/16' } });
    const p = byComponent(renderStaticPods(spec, TEST_HOST, T), 'kube-controller-manager');
    assert.deepEqual(command(p), KCM_WITH_POD_SUBNET);
    const c = container(p);
    assert.equal(c.readinessProbe, undefined);
    assert.deepEqual((c.livenessProbe as Obj).httpGet, { host: '127.0.0.1', path: '/healthz', port: 'probe-port', scheme: 'HTTPS' });
    assert.deepEqual(c.ports, [{ containerPort: 10257, name: 'probe-port', protocol: 'TCP' }]);
    assert.deepEqual(c.resources, { requests: { cpu: '200m' } });
    assert.deepEqual(
      ((p.spec as Obj).volumes as Obj[]).map((v) => v.name),
      ['ca-certs', 'k8s-certs', 'kubeconfig'],
    );
    assert.deepEqual(((p.spec as Obj).volumes as Obj[])[2], { hostPath: { path: K, type: 'FileOrCreate' }, name: 'kubeconfig' });
  });

  it('KCM without a pod subnet has no cidr flags; scheduler is reference §4.6 with /livez + /readyz on 10259', async () => {
    const spec = await makeSpec();
    const items = renderStaticPods(spec, TEST_HOST, T);
    const kcm = command(byComponent(items, 'kube-controller-manager'));
    assert.ok(!kcm.some((f) => /^--(allocate-node-cidrs|cluster-cidr|service-cluster-ip-range)=/.test(f)));
    const s = byComponent(items, 'kube-scheduler');
    assert.deepEqual(command(s), [
      'kube-scheduler',
      `--authentication-kubeconfig=${S}`,
      `--authorization-kubeconfig=${S}`,
      '--bind-address=127.0.0.1',
      `--kubeconfig=${S}`,
      '--leader-elect=true',
    ]);
    const c = container(s);
    assert.equal(((c.livenessProbe as Obj).httpGet as Obj).path, '/livez');
    assert.equal(((c.readinessProbe as Obj).httpGet as Obj).path, '/readyz');
    assert.equal(((c.startupProbe as Obj).httpGet as Obj).path, '/livez');
    assert.deepEqual(c.ports, [{ containerPort: 10259, name: 'probe-port', protocol: 'TCP' }]);
    assert.deepEqual(c.resources, { requests: { cpu: '100m' } });
    assert.deepEqual((s.spec as Obj).volumes, [{ hostPath: { path: S, type: 'FileOrCreate' }, name: 'kubeconfig' }]);
    assert.deepEqual(c.volumeMounts, [{ mountPath: S, name: 'kubeconfig', readOnly: true }]);
  });

  it('etcd: reference §4.7 command (3.6 flags for 1.36), read-write mounts data then certs, volumes sorted', async () => {
    const spec = await makeSpec();
    const p = byComponent(renderStaticPods(spec, TEST_HOST, T), 'etcd');
    assert.deepEqual(command(p), etcdCommand(NEW_ETCD));
    const c = container(p);
    assert.equal(c.image, 'registry.k8s.io/etcd:3.6.8-0');
    assert.deepEqual((p.metadata as Obj).annotations, { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://192.0.2.10:2379' });
    assert.deepEqual(c.resources, { requests: { cpu: '100m', memory: '100Mi' } });
    assert.deepEqual((c.livenessProbe as Obj).httpGet, { host: '127.0.0.1', path: '/livez', port: 'probe-port', scheme: 'HTTP' });
    assert.deepEqual((c.readinessProbe as Obj).httpGet, { host: '127.0.0.1', path: '/readyz', port: 'probe-port', scheme: 'HTTP' });
    assert.deepEqual((c.startupProbe as Obj).httpGet, { host: '127.0.0.1', path: '/readyz', port: 'probe-port', scheme: 'HTTP' });
    assert.deepEqual(c.ports, [{ containerPort: 2381, name: 'probe-port', protocol: 'TCP' }]);
    assert.deepEqual(c.volumeMounts, [
      { mountPath: '/var/lib/etcd', name: 'etcd-data' },
      { mountPath: `${P}/etcd`, name: 'etcd-certs' },
    ]);
    assert.deepEqual((p.spec as Obj).volumes, [
      { hostPath: { path: `${P}/etcd`, type: 'DirectoryOrCreate' }, name: 'etcd-certs' },
      { hostPath: { path: '/var/lib/etcd', type: 'DirectoryOrCreate' }, name: 'etcd-data' },
    ]);
  });

  it('renders the same bytes twice', async () => {
    const spec = await makeSpec({ networking: { podSubnet: '10.244.0.0/16' } });
    const a = renderStaticPods(spec, TEST_HOST, T).map((i) => i.content);
    const b = renderStaticPods(spec, TEST_HOST, T).map((i) => i.content);
    assert.deepEqual(a, b);
    assert.ok(a.every((c) => c.length > 1000));
  });

  it('does not change the templates it is given', async () => {
    const spec = await makeSpec();
    const before = JSON.stringify(T);
    renderStaticPods(spec, TEST_HOST, T);
    assert.equal(JSON.stringify(T), before);
  });
});

describe('version table differences', () => {
  it('etcd flag style: by-tag compares the (overridden) tag, new always, experimental never', async () => {
    const v134 = await makeSpec({ kubernetesVersion: 'v1.34.11' });
    assert.equal(v134.etcd.local?.imageTag, '3.6.5-0');
    assert.equal(etcdUsesNewFlags(v134), true);
    const v135old = await makeSpec({ kubernetesVersion: 'v1.35.8', etcd: { local: { imageTag: '3.5.24-0' } } });
    assert.equal(etcdUsesNewFlags(v135old), false);
    assert.deepEqual(command(pod(renderStaticPod(v135old, TEST_HOST, T, 'etcd').content)), etcdCommand(OLD_ETCD));
    assert.equal(container(pod(renderStaticPod(v135old, TEST_HOST, T, 'etcd').content)).image, 'registry.k8s.io/etcd:3.5.24-0');
    const v136old = await makeSpec({ kubernetesVersion: 'v1.36.5', etcd: { local: { imageTag: '3.5.24-0' } } });
    assert.equal(etcdUsesNewFlags(v136old), true, '1.36 always uses the 3.6 forms (kubernetes#135701)');
    const unparsable = await makeSpec({ kubernetesVersion: 'v1.35.8', etcd: { local: { imageTag: 'latest' } } });
    assert.equal(etcdUsesNewFlags(unparsable), false);
    assert.equal(etcdUsesNewFlags(withVersion(v134, { etcdFlags: 'experimental' })), false);
  });

  it('KCM flexvolume-dir (read-write) in 1.34/1.35, gone in 1.36/1.37; flex-volume-plugin-dir moves it', async () => {
    for (const [v, expected] of [
      ['v1.34.11', true],
      ['v1.35.8', true],
      ['v1.36.5', false],
      ['v1.37.1', false],
    ] as const) {
      const p = pod(renderStaticPod(await makeSpec({ kubernetesVersion: v }), TEST_HOST, T, 'kube-controller-manager').content);
      const vols = (p.spec as Obj).volumes as Obj[];
      assert.equal(vols.some((x) => x.name === 'flexvolume-dir'), expected, v);
      if (expected) {
        assert.deepEqual(
          vols.find((x) => x.name === 'flexvolume-dir'),
          { hostPath: { path: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', type: 'DirectoryOrCreate' }, name: 'flexvolume-dir' },
        );
        assert.deepEqual(
          (container(p).volumeMounts as Obj[]).find((m) => m.name === 'flexvolume-dir'),
          { mountPath: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', name: 'flexvolume-dir' },
        );
      }
    }
    const moved = await makeSpec({
      kubernetesVersion: 'v1.35.8',
      controllerManager: { extraArgs: [{ name: 'flex-volume-plugin-dir', value: '/opt/flex' }] },
    });
    const vols = (pod(renderStaticPod(moved, TEST_HOST, T, 'kube-controller-manager').content).spec as Obj).volumes as Obj[];
    assert.equal((vols.find((x) => x.name === 'flexvolume-dir')?.hostPath as Obj).path, '/opt/flex');
  });

  it('without namedProbePort probes use the number and the container has no ports', async () => {
    const spec = withVersion(await makeSpec(), { namedProbePort: false });
    for (const i of renderStaticPods(spec, TEST_HOST, T)) {
      const c = container(pod(i.content));
      assert.equal(c.ports, undefined, i.component);
      const expectedPort = { etcd: 2381, 'kube-apiserver': 6443, 'kube-controller-manager': 10257, 'kube-scheduler': 10259 }[i.component];
      for (const k of ['livenessProbe', 'startupProbe']) assert.equal(((c[k] as Obj).httpGet as Obj).port, expectedPort, `${i.component} ${k}`);
    }
  });

  it('without schedulerLivez the scheduler uses /healthz and has no readiness probe', async () => {
    const spec = withVersion(await makeSpec(), { schedulerLivez: false });
    const c = container(pod(renderStaticPod(spec, TEST_HOST, T, 'kube-scheduler').content));
    assert.equal(((c.livenessProbe as Obj).httpGet as Obj).path, '/healthz');
    assert.equal(((c.startupProbe as Obj).httpGet as Obj).path, '/healthz');
    assert.equal(c.readinessProbe, undefined);
  });

  it('the startup probe covers the control-plane health-check timeout', async () => {
    const spec = await makeSpec({}, { timeouts: { controlPlaneComponentHealthCheck: '2m5s' } });
    assert.equal(startupFailureThreshold(spec), 13);
    for (const i of renderStaticPods(spec, TEST_HOST, T)) {
      assert.equal((container(pod(i.content)).startupProbe as Obj).failureThreshold, 13, i.component);
    }
  });
});

describe('extraArgs merge order in manifests', () => {
  const extra = [
    { name: 'service-account-issuer', value: 'https://new.example' },
    { name: 'service-account-issuer', value: 'https://kubernetes.default.svc.cluster.local' },
    { name: 'audit-log-path', value: '/var/log/audit.log' },
  ];
  it('the other defaults sorted, then the overrides in the given order, duplicates kept (kubeadm ArgumentsToCommand)', async () => {
    const spec = await makeSpec({ apiServer: { extraArgs: extra } });
    const cmd = command(pod(renderStaticPod(spec, TEST_HOST, T, 'kube-apiserver').content));
    assert.equal(cmd[0], 'kube-apiserver');
    assert.deepEqual(cmd.slice(-3), [
      '--service-account-issuer=https://new.example',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--audit-log-path=/var/log/audit.log',
    ]);
    assert.deepEqual(cmd.slice(1, -3), APISERVER_DEFAULT.slice(1).filter((f) => !f.startsWith('--service-account-issuer=')));
  });

  it('v1beta3 map extraArgs arrive as a name-sorted list', async () => {
    const { loadConfig } = await import('../../../src/config/load.js');
    const text = `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
nodeRegistration: {name: cp1, criSocket: "unix:///var/run/containerd/containerd.sock"}
localAPIEndpoint: {advertiseAddress: 192.0.2.10}
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.35.8
scheduler:
  extraArgs:
    v: "4"
    bind-address: 0.0.0.0
`;
    const { spec } = await loadConfig({ path: 'v3.yaml', text }, {}, TEST_HOST);
    const p = pod(renderStaticPod(spec, TEST_HOST, T, 'kube-scheduler').content);
    assert.deepEqual(command(p).slice(-2), ['--bind-address=0.0.0.0', '--v=4']);
    assert.equal(((container(p).livenessProbe as Obj).httpGet as Obj).host, undefined, '0.0.0.0 bind address: no probe host');
  });
});

describe('overrides that move probes and endpoints', () => {
  it('bind-address moves the KCM and scheduler probe host (the last one wins); unspecified means no host', async () => {
    const spec = await makeSpec({
      controllerManager: { extraArgs: [{ name: 'bind-address', value: '0.0.0.0' }] },
      scheduler: { extraArgs: [{ name: 'bind-address', value: '192.0.2.99' }, { name: 'bind-address', value: '192.0.2.10' }] },
    });
    const kcm = container(pod(renderStaticPod(spec, TEST_HOST, T, 'kube-controller-manager').content));
    assert.deepEqual((kcm.livenessProbe as Obj).httpGet, { path: '/healthz', port: 'probe-port', scheme: 'HTTPS' });
    const sch = container(pod(renderStaticPod(spec, TEST_HOST, T, 'kube-scheduler').content));
    for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe']) assert.equal(((sch[k] as Obj).httpGet as Obj).host, '192.0.2.10');
  });

  it('secure-port extra args change the flags but the probe ports stay kubeadm constants; bindPort moves the apiserver', async () => {
    const spec = await makeSpec(
      { controllerManager: { extraArgs: [{ name: 'secure-port', value: '10300' }] } },
      { localAPIEndpoint: { advertiseAddress: '192.0.2.10', bindPort: 7443 } },
    );
    const kcm = pod(renderStaticPod(spec, TEST_HOST, T, 'kube-controller-manager').content);
    assert.ok(command(kcm).includes('--secure-port=10300'));
    assert.deepEqual(container(kcm).ports, [{ containerPort: 10257, name: 'probe-port', protocol: 'TCP' }]);
    const api = pod(renderStaticPod(spec, TEST_HOST, T, 'kube-apiserver').content);
    assert.ok(command(api).includes('--secure-port=7443'));
    assert.deepEqual(container(api).ports, [{ containerPort: 7443, name: 'probe-port', protocol: 'TCP' }]);
    assert.equal(((api.metadata as Obj).annotations as Obj)['kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint'], '192.0.2.10:7443');
  });

  it('etcd listen-metrics-urls: the first URL of the last value sets probe host, port, scheme and containerPort', async () => {
    const spec = await makeSpec({
      etcd: {
        local: {
          extraArgs: [
            { name: 'listen-metrics-urls', value: 'http://127.0.0.1:9999' },
            { name: 'listen-metrics-urls', value: 'https://[::1]:2390,http://192.0.2.10:2391' },
          ],
        },
      },
    });
    const p = pod(renderStaticPod(spec, TEST_HOST, T, 'etcd').content);
    const c = container(p);
    assert.deepEqual((c.livenessProbe as Obj).httpGet, { host: '::1', path: '/livez', port: 'probe-port', scheme: 'HTTPS' });
    assert.deepEqual(c.ports, [{ containerPort: 2390, name: 'probe-port', protocol: 'TCP' }]);
    // both user values come last, in the order given; the default is dropped
    assert.deepEqual(command(p).slice(-2), ['--listen-metrics-urls=http://127.0.0.1:9999', '--listen-metrics-urls=https://[::1]:2390,http://192.0.2.10:2391']);
    assert.equal(command(p).filter((f) => f.startsWith('--listen-metrics-urls=')).length, 2);
    const noPort = await makeSpec({ etcd: { local: { extraArgs: [{ name: 'listen-metrics-urls', value: 'http://localhost' }] } } });
    const c2 = container(pod(renderStaticPod(noPort, TEST_HOST, T, 'etcd').content));
    assert.deepEqual((c2.livenessProbe as Obj).httpGet, { host: 'localhost', path: '/livez', port: 'probe-port', scheme: 'HTTP' });
    assert.deepEqual(c2.ports, [{ containerPort: 2381, name: 'probe-port', protocol: 'TCP' }]);
  });

  it("etcd's advertise-client-urls extra arg becomes the apiserver's etcd-servers", async () => {
    const spec = await makeSpec({ etcd: { local: { extraArgs: [{ name: 'advertise-client-urls', value: 'https://192.0.2.10:22379' }] } } });
    assert.ok(command(pod(renderStaticPod(spec, TEST_HOST, T, 'kube-apiserver').content)).includes('--etcd-servers=https://192.0.2.10:22379'));
  });

  it('authorization: authorization-config drops the default mode; unknown modes give kubeadm warnings', async () => {
    const cfg = await makeSpec({ apiServer: { extraArgs: [{ name: 'authorization-config', value: '/etc/kubernetes/authz.yaml' }] } });
    const cmd = command(pod(renderStaticPod(cfg, TEST_HOST, T, 'kube-apiserver').content));
    assert.ok(!cmd.some((f) => f.startsWith('--authorization-mode=')));
    const mode = await makeSpec({ apiServer: { extraArgs: [{ name: 'authorization-mode', value: 'Node,Bogus,Webhook' }] } });
    const r = renderStaticPod(mode, TEST_HOST, T, 'kube-apiserver');
    assert.deepEqual(r.warnings, [
      'ignoring unknown kube-apiserver authorization-mode "Bogus"',
      'the default kube-apiserver authorization-mode is "Node,RBAC"; using "Node,Webhook"',
    ]);
    assert.ok(command(pod(r.content)).includes('--authorization-mode=Node,Bogus,Webhook'), 'the user value itself still overrides');
  });

  it('external CA (ca.key absent): empty cluster-signing flags', async () => {
    const spec = await makeSpec();
    const cmd = command(pod(renderStaticPod(spec, TEST_HOST, T, 'kube-controller-manager', { externalCA: true }).content));
    assert.ok(cmd.includes('--cluster-signing-cert-file='));
    assert.ok(cmd.includes('--cluster-signing-key-file='));
  });

  it("a '+' in the Kubernetes version becomes '_' in control-plane image tags; imageRepository applies", async () => {
    const spec = await makeSpec({ kubernetesVersion: 'v1.36.2+k3s1', imageRepository: 'mirror.example/k8s' });
    const items = renderStaticPods(spec, TEST_HOST, T);
    assert.equal(container(byComponent(items, 'kube-apiserver')).image, 'mirror.example/k8s/kube-apiserver:v1.36.2_k3s1');
    assert.equal(container(byComponent(items, 'kube-scheduler')).image, 'mirror.example/k8s/kube-scheduler:v1.36.2_k3s1');
    assert.equal(container(byComponent(items, 'etcd')).image, 'mirror.example/k8s/etcd:3.6.8-0');
  });
});

describe('IPv6', () => {
  it('uses [::1] for local etcd, ::1 probe hosts and bracketed endpoints', async () => {
    const spec = await makeSpec(
      { networking: { serviceSubnet: 'fd00:10:96::/112' } },
      { localAPIEndpoint: { advertiseAddress: 'fd00::10' } },
    );
    const items = renderStaticPods(spec, TEST_HOST, T);
    const etcd = byComponent(items, 'etcd');
    const ec = command(etcd);
    for (const f of [
      '--advertise-client-urls=https://[fd00::10]:2379',
      '--listen-client-urls=https://[::1]:2379,https://[fd00::10]:2379',
      '--listen-metrics-urls=http://[::1]:2381',
      '--listen-peer-urls=https://[fd00::10]:2380',
      '--initial-cluster=cp1=https://[fd00::10]:2380',
    ]) {
      assert.ok(ec.includes(f), f);
    }
    assert.equal(((container(etcd).livenessProbe as Obj).httpGet as Obj).host, '::1');
    assert.deepEqual((etcd.metadata as Obj).annotations, { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://[fd00::10]:2379' });
    const api = byComponent(items, 'kube-apiserver');
    assert.ok(command(api).includes('--etcd-servers=https://[::1]:2379'));
    assert.ok(command(api).includes('--advertise-address=fd00::10'));
    assert.equal(((container(api).livenessProbe as Obj).httpGet as Obj).host, 'fd00::10');
    assert.deepEqual((api.metadata as Obj).annotations, { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': '[fd00::10]:6443' });
    const yamlText = (items.find((i) => i.component === 'etcd') as { content: string }).content;
    assert.ok(yamlText.includes('        host: ::1\n'), 'plain scalar, as go-yaml writes it');
  });
});

describe('external etcd', () => {
  it('no etcd manifest; etcd-* flags from the config; etcd-certs-N volumes for directories not already mounted', async () => {
    const spec = await makeSpec({
      etcd: {
        external: {
          endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
          caFile: '/etc/etcd/pki/ca.crt',
          certFile: '/etc/etcd/pki/client/apiserver.crt',
          keyFile: '/srv/keys/apiserver.key',
        },
      },
    });
    const items = renderStaticPods(spec, TEST_HOST, T);
    assert.deepEqual(items.map((i) => i.component), ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    const api = byComponent(items, 'kube-apiserver');
    const cmd = command(api);
    assert.ok(cmd.includes('--etcd-servers=https://10.0.0.1:2379,https://10.0.0.2:2379'));
    assert.ok(cmd.includes('--etcd-cafile=/etc/etcd/pki/ca.crt'));
    assert.ok(cmd.includes('--etcd-certfile=/etc/etcd/pki/client/apiserver.crt'));
    assert.ok(cmd.includes('--etcd-keyfile=/srv/keys/apiserver.key'));
    assert.deepEqual(
      ((api.spec as Obj).volumes as Obj[]).map((v) => [v.name, (v.hostPath as Obj).path]),
      [
        ['ca-certs', '/etc/ssl/certs'],
        ['etcd-certs-0', '/etc/etcd/pki'],
        ['etcd-certs-1', '/srv/keys'],
        ['k8s-certs', P],
      ],
    );
    assert.deepEqual((container(api).volumeMounts as Obj[])[1], { mountPath: '/etc/etcd/pki', name: 'etcd-certs-0', readOnly: true });
    assert.throws(() => buildStaticPod(spec, TEST_HOST, T.etcd, 'etcd'), /external etcd/);
  });

  it('files under the certificates dir or /etc/ssl/certs need no volume; without cert files no etcd-cert flags', async () => {
    const spec = await makeSpec({
      etcd: { external: { endpoints: ['http://10.0.0.1:2379'] } },
    });
    const api = pod(renderStaticPod(spec, TEST_HOST, T, 'kube-apiserver').content);
    const cmd = command(api);
    assert.ok(cmd.includes('--etcd-servers=http://10.0.0.1:2379'));
    assert.ok(!cmd.some((f) => /^--etcd-(cafile|certfile|keyfile)=/.test(f)));
    const inside = await makeSpec({
      etcd: {
        external: {
          endpoints: ['https://10.0.0.1:2379'],
          caFile: '/etc/ssl/certs/etcd-ca.pem',
          certFile: `${P}/etcd-client.crt`,
          keyFile: `${P}/etcd-client.key`,
        },
      },
    });
    const vols = ((pod(renderStaticPod(inside, TEST_HOST, T, 'kube-apiserver').content).spec as Obj).volumes as Obj[]).map((v) => v.name);
    assert.deepEqual(vols, ['ca-certs', 'k8s-certs']);
  });
});

describe('env, CA directories and extra volumes', () => {
  it('*_proxy variables from the host go to the three control-plane pods (not etcd), merged with extraEnvs, sorted', async () => {
    const host = {
      ...TEST_HOST,
      proxyEnv: [
        { name: 'HTTPS_PROXY', value: 'http://proxy:3128' },
        { name: 'NO_PROXY', value: '10.0.0.0/8' },
      ],
    };
    const spec = await makeSpec(
      {
        apiServer: { extraEnvs: [{ name: 'NO_PROXY', value: '10.0.0.0/8,192.0.2.0/24' }, { name: 'AAA', value: '1' }] },
        etcd: { local: { extraEnvs: [{ name: 'ETCD_UNSUPPORTED_ARCH', value: 'arm' }] } },
      },
      {},
      host,
    );
    const items = renderStaticPods(spec, host, T);
    assert.deepEqual(container(byComponent(items, 'kube-apiserver')).env, [
      { name: 'AAA', value: '1' },
      { name: 'HTTPS_PROXY', value: 'http://proxy:3128' },
      { name: 'NO_PROXY', value: '10.0.0.0/8,192.0.2.0/24' },
    ]);
    assert.deepEqual(container(byComponent(items, 'kube-scheduler')).env, [
      { name: 'HTTPS_PROXY', value: 'http://proxy:3128' },
      { name: 'NO_PROXY', value: '10.0.0.0/8' },
    ]);
    assert.deepEqual(container(byComponent(items, 'etcd')).env, [{ name: 'ETCD_UNSUPPORTED_ARCH', value: 'arm' }]);
  });

  it('existing CA directories are mounted into the apiserver and KCM only', async () => {
    const host = { ...TEST_HOST, existingCaDirs: ['/etc/ca-certificates', '/usr/share/ca-certificates'] };
    const spec = await makeSpec({}, {}, host);
    const items = renderStaticPods(spec, host, T);
    for (const c of ['kube-apiserver', 'kube-controller-manager']) {
      const vols = ((byComponent(items, c).spec as Obj).volumes as Obj[]).filter((v) => /ca-certificates/.test(v.name as string));
      assert.deepEqual(vols, [
        { hostPath: { path: '/etc/ca-certificates', type: 'DirectoryOrCreate' }, name: 'etc-ca-certificates' },
        { hostPath: { path: '/usr/share/ca-certificates', type: 'DirectoryOrCreate' }, name: 'usr-share-ca-certificates' },
      ]);
    }
    assert.equal(((byComponent(items, 'kube-scheduler').spec as Obj).volumes as Obj[]).length, 1);
  });

  it('extraVolumes are added, replace a default of the same name, and keep an empty pathType as type ""', async () => {
    const spec = await makeSpec({
      apiServer: {
        extraVolumes: [
          { name: 'audit', hostPath: '/var/log/kubernetes', mountPath: '/var/log/kubernetes', pathType: 'DirectoryOrCreate' },
          { name: 'k8s-certs', hostPath: '/srv/pki', mountPath: P, readOnly: true, pathType: 'Directory' },
          { name: 'policy', hostPath: '/etc/kubernetes/audit.yaml', mountPath: '/etc/kubernetes/audit.yaml', readOnly: true },
        ],
      },
    });
    const p = pod(renderStaticPod(spec, TEST_HOST, T, 'kube-apiserver').content);
    assert.deepEqual((p.spec as Obj).volumes, [
      { hostPath: { path: '/var/log/kubernetes', type: 'DirectoryOrCreate' }, name: 'audit' },
      { hostPath: { path: '/etc/ssl/certs', type: 'DirectoryOrCreate' }, name: 'ca-certs' },
      { hostPath: { path: '/srv/pki', type: 'Directory' }, name: 'k8s-certs' },
      { hostPath: { path: '/etc/kubernetes/audit.yaml', type: '' }, name: 'policy' },
    ]);
    assert.deepEqual(container(p).volumeMounts, [
      { mountPath: '/var/log/kubernetes', name: 'audit' },
      { mountPath: '/etc/ssl/certs', name: 'ca-certs', readOnly: true },
      { mountPath: P, name: 'k8s-certs', readOnly: true },
      { mountPath: '/etc/kubernetes/audit.yaml', name: 'policy', readOnly: true },
    ]);
    const text = renderStaticPod(spec, TEST_HOST, T, 'kube-apiserver').content;
    assert.ok(text.includes('      type: ""\n'), 'an empty pathType is written as type: ""');
  });
});

describe('patches inside render', () => {
  it('applies patches for the component target only, and rejects a patch that breaks the Pod', async () => {
    const spec = await makeSpec();
    const patches = [
      { path: '/p/kube-apiserver.yaml', target: 'kube-apiserver', type: 'strategic' as const, documents: [{ metadata: { labels: { extra: 'yes' } } }] },
      { path: '/p/etcd+merge.yaml', target: 'etcd', type: 'merge' as const, documents: [{ spec: { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } }] },
    ];
    const items = renderStaticPods(spec, TEST_HOST, T, { patches });
    const api = byComponent(items, 'kube-apiserver');
    assert.equal(((api.metadata as Obj).labels as Obj).extra, 'yes');
    assert.deepEqual((items.find((i) => i.component === 'kube-apiserver') as { patchesApplied: unknown }).patchesApplied, [
      { file: '/p/kube-apiserver.yaml', type: 'application/strategic-merge-patch+json' },
    ]);
    assert.equal((byComponent(items, 'etcd').spec as Obj).dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(((byComponent(items, 'kube-scheduler').metadata as Obj).labels as Obj).extra, undefined);
    const broken = [{ path: '/p/kube-scheduler+json.json', target: 'kube-scheduler', type: 'json' as const, documents: [[{ op: 'remove', path: '/spec/containers' }]] }];
    assert.throws(() => renderStaticPod(spec, TEST_HOST, T, 'kube-scheduler', { patches: broken }), /not a valid Pod: spec.containers/);
  });

  it('the serialized output keeps go-yaml key order after patching', async () => {
    const spec = await makeSpec();
    const r = renderStaticPod(spec, TEST_HOST, T, 'kube-scheduler', {
      patches: [{ path: 'x', target: 'kube-scheduler', type: 'merge', documents: [{ zzz: 1, metadata: { annotations: { b: '2', a: '1' } } }] }],
    });
    const keys = Object.keys(parseYaml(r.content) as Obj);
    assert.deepEqual(keys, ['apiVersion', 'kind', 'metadata', 'spec', 'status', 'zzz']);
    assert.ok(r.content.includes('  annotations:\n    a: "1"\n    b: "2"\n'));
  });
});
