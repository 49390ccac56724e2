import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSpec, loadConfig, parseConfigText } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { TEST_HOST } from '../../helpers/host.js';

const V4 = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp1
  kubeletExtraArgs:
  - name: v
    value: "4"
localAPIEndpoint:
  advertiseAddress: 192.0.2.20
  bindPort: 7443
timeouts:
  controlPlaneComponentHealthCheck: 2m
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.35.2
networking:
  podSubnet: 10.244.0.0/16
apiServer:
  extraArgs:
  - name: audit-log-path
    value: /var/log/a.log
  - name: audit-log-path
    value: /var/log/b.log
  certSANs: [cp.example.com, 10.0.0.9]
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
`;

const V3 = `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
nodeRegistration:
  name: cp1
  kubeletExtraArgs:
    v: "4"
    cgroup-driver: systemd
localAPIEndpoint:
  advertiseAddress: 192.0.2.20
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
apiServer:
  timeoutForControlPlane: 3m0s
  extraArgs:
    z-flag: "1"
    a-flag: "2"
etcd:
  local:
    extraArgs:
      quota-backend-bytes: "8589934592"
`;

describe('config loading', () => {
  it('v1beta4: flags, defaults and the KubeletConfiguration document end up in one spec', async () => {
    const { spec, warnings, fileApiVersion } = await loadConfig({ path: 'c.yaml', text: V4 }, {}, TEST_HOST);
    assert.equal(fileApiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.deepEqual(warnings, []);
    assert.equal(spec.kubernetesVersion, 'v1.35.2');
    assert.equal(spec.version.minor, '1.35');
    assert.equal(spec.advertiseAddress, '192.0.2.20');
    assert.equal(spec.bindPort, 7443);
    assert.equal(spec.nodeName, 'cp1');
    assert.equal(spec.criSocket, 'unix:///var/run/containerd/containerd.sock');
    assert.equal(spec.networking.serviceSubnet, '10.96.0.0/12');
    assert.equal(spec.networking.podSubnet, '10.244.0.0/16');
    assert.equal(spec.networking.dnsDomain, 'cluster.local');
    assert.equal(spec.certificateValidityPeriodMs, 8760 * 3_600_000);
    assert.equal(spec.timeouts.controlPlaneComponentHealthCheckMs, 120_000);
    assert.equal(spec.timeouts.kubeletHealthCheckMs, 240_000);
    assert.deepEqual(spec.apiServer.extraArgs.map((a) => a.value), ['/var/log/a.log', '/var/log/b.log'], 'duplicates are kept in order');
    assert.deepEqual(spec.apiServer.certSANs, ['cp.example.com', '10.0.0.9']);
    assert.equal(spec.etcd.local?.imageTag, '3.6.6-0');
    assert.equal(spec.etcd.local?.dataDir, '/var/lib/etcd');
    assert.equal(spec.kubeletConfiguration?.cgroupDriver, 'cgroupfs');
    assert.equal(spec.dns.imageTag, 'v1.13.1');
    assert.ok(Object.isFrozen(spec) && Object.isFrozen(spec.apiServer.extraArgs), 'the spec is readonly');
  });
  it('v1beta3 is accepted with a deprecation warning and converted (maps → sorted lists, timeout moved)', async () => {
    const { spec, warnings } = await loadConfig({ path: 'old.yaml', text: V3 }, {}, TEST_HOST);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /deprecated API "kubeadm.k8s.io\/v1beta3".*kubeboot config migrate --old-config old.yaml/);
    assert.deepEqual(spec.kubeletExtraArgs, [{ name: 'cgroup-driver', value: 'systemd' }, { name: 'v', value: '4' }]);
    assert.deepEqual(spec.apiServer.extraArgs, [{ name: 'a-flag', value: '2' }, { name: 'z-flag', value: '1' }]);
    assert.deepEqual(spec.etcd.local?.extraArgs, [{ name: 'quota-backend-bytes', value: '8589934592' }]);
    assert.equal(spec.timeouts.controlPlaneComponentHealthCheckMs, 180_000);
    assert.equal(spec.documents.cluster.apiVersion, 'kubeadm.k8s.io/v1beta4');
    assert.equal(spec.kubernetesVersion, 'v1.36.5', 'default version is the newest 1.36 patch in the table');
  });
  it('without a file, flags and host facts fill the spec', () => {
    const { spec } = buildSpec(undefined, { 'service-cidr': '10.100.0.0/16,fd00:100::/112', 'apiserver-cert-extra-sans': ['a.example'], 'apiserver-extra-args': [{ name: 'v', value: '2' }] }, TEST_HOST, 'flags');
    assert.equal(spec.nodeName, 'cp1');
    assert.equal(spec.advertiseAddress, '192.0.2.10');
    assert.equal(spec.networking.serviceSubnet, '10.100.0.0/16,fd00:100::/112');
    assert.deepEqual(spec.apiServer.certSANs, ['a.example']);
    assert.deepEqual(spec.apiServer.extraArgs, [{ name: 'v', value: '2' }]);
  });
  it("a node name is trimmed and lowercased as kubeadm's GetHostname does; a bare CRI socket path gets unix://, with a warning", () => {
    const { spec, warnings } = buildSpec(undefined, { 'node-name': ' CP-One ', 'cri-socket': '/run/containerd/containerd.sock' }, TEST_HOST, 'flags');
    assert.equal(spec.nodeName, 'cp-one');
    assert.equal(spec.criSocket, 'unix:///run/containerd/containerd.sock');
    assert.ok(warnings.some((w) => w.includes('"/run/containerd/containerd.sock" has no URL scheme: using "unix:///run/containerd/containerd.sock"')), warnings.join('\n'));
    // another scheme is still an error, named by the flag
    assert.throws(
      () => buildSpec(undefined, { 'cri-socket': 'tcp://127.0.0.1:2375' }, TEST_HOST, 'flags'),
      (e: unknown) => e instanceof ConfigError && e.issues.some((l) => l.startsWith('--cri-socket: ') && l.includes('only URL scheme "unix" is supported')),
    );
  });
  it('a problem that came from a flag is reported under the flag name', () => {
    assert.throws(
      () => buildSpec(undefined, { 'service-cidr': 'nope', 'apiserver-advertise-address': 'x' }, TEST_HOST, 'flags'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.exitCode, 3);
        assert.deepEqual(e.issues.map((l) => l.split(':')[0]), ['--apiserver-advertise-address', '--service-cidr']);
        return true;
      },
    );
  });
  it('reports every problem at once, sorted', async () => {
    const text = V4.replace('bindPort: 7443', 'bindPort: 0\n  bogus: 1').replace('podSubnet: 10.244.0.0/16', 'podSubnet: x').replace('kubernetesVersion: v1.35.2', 'kubernetesVersion: v1.35.2\ncertificatesDir: rel');
    await assert.rejects(loadConfig({ path: 'c.yaml', text }, {}, TEST_HOST), (e: ConfigError) => {
      // an unknown field does not hide the other problems of the file
      assert.deepEqual(e.issues.map((l) => l.split(':')[0]), [
        'ClusterConfiguration.certificatesDir',
        'ClusterConfiguration.networking.podSubnet',
        'InitConfiguration.localAPIEndpoint.bogus',
      ]);
      assert.match(e.issues[2] as string, /unknown field "bogus"/);
      return true;
    });
    // a type error is reported with everything else: the field is cut out and the rest is checked
    await assert.rejects(loadConfig({ path: 'c.yaml', text: V4.replace('bindPort: 7443', 'bindPort: "x"') }, {}, TEST_HOST), (e: ConfigError) => {
      assert.deepEqual(e.issues.map((l) => l.split(':')[0]), ['InitConfiguration.localAPIEndpoint.bindPort']);
      return true;
    });
    const typeAndMore = V4.replace('bindPort: 7443', 'bindPort: "x"\n  bogus: 1')
      .replace('podSubnet: 10.244.0.0/16', 'podSubnet: x\n  dnsDomainn: a')
      .replace('kubernetesVersion: v1.35.2', 'kubernetesVersion: v1.35.2\ncertificatesDir: rel');
    await assert.rejects(loadConfig({ path: 'c.yaml', text: typeAndMore }, {}, TEST_HOST), (e: ConfigError) => {
      assert.deepEqual(e.issues.map((l) => l.split(':')[0]), [
        'ClusterConfiguration.certificatesDir',
        'ClusterConfiguration.networking.dnsDomainn',
        'ClusterConfiguration.networking.podSubnet',
        'InitConfiguration.localAPIEndpoint.bindPort',
        'InitConfiguration.localAPIEndpoint.bogus',
      ]);
      return true;
    });
    // a wrong type in the ClusterConfiguration does not hide the InitConfiguration's problems, nor its own
    const other = V4.replace('advertiseAddress: 192.0.2.20', 'advertiseAddress: nope').replace('certSANs: [cp.example.com, 10.0.0.9]', 'certSANs: [cp.example.com, 10.0.0.9]\n  extraVolumes: {}').replace('podSubnet: 10.244.0.0/16', 'podSubnet: x');
    await assert.rejects(loadConfig({ path: 'c.yaml', text: other }, {}, TEST_HOST), (e: ConfigError) => {
      assert.deepEqual(e.issues, [
        'ClusterConfiguration.apiServer.extraVolumes: expected array, got a mapping',
        'ClusterConfiguration.networking.podSubnet: couldn\'t parse subnet "x": expected a CIDR such as 10.96.0.0/12',
        'InitConfiguration.localAPIEndpoint.advertiseAddress: ip address is not valid: "nope"',
      ]);
      return true;
    });
    // a field cut out for its type is not also blamed for the default that took its place
    await assert.rejects(loadConfig({ path: 'c.yaml', text: V4.replace('advertiseAddress: 192.0.2.20', 'advertiseAddress: 5') }, {}, { ...TEST_HOST, defaultAddress: undefined }), (e: ConfigError) => {
      assert.deepEqual(e.issues, ['InitConfiguration.localAPIEndpoint.advertiseAddress: expected string, got number 5']);
      return true;
    });
    const text2 = V4.replace('podSubnet: 10.244.0.0/16', 'podSubnet: x').replace('kubernetesVersion: v1.35.2', 'kubernetesVersion: v1.35.2\ncertificatesDir: rel\ndnsDomainX: 1'.replace('\ndnsDomainX: 1', ''));
    await assert.rejects(loadConfig({ path: 'c.yaml', text: text2 }, {}, TEST_HOST), (e: ConfigError) => {
      assert.deepEqual(e.issues.map((l) => l.split(':')[0]), ['ClusterConfiguration.certificatesDir', 'ClusterConfiguration.networking.podSubnet']);
      assert.deepEqual([...e.issues].sort(), e.issues);
      return true;
    });
  });
  it('suggests the closest field name for a misspelling', async () => {
    const text = V4.replace('advertiseAddress: 192.0.2.20', 'advertiseAdress: 192.0.2.20').replace('podSubnet:', 'podSubnett:');
    await assert.rejects(loadConfig({ path: 'c.yaml', text }, {}, TEST_HOST), (e: ConfigError) => {
      assert.ok(e.issues.includes('InitConfiguration.localAPIEndpoint.advertiseAdress: unknown field "advertiseAdress" (did you mean "advertiseAddress"?)'), e.issues.join('\n'));
      assert.ok(e.issues.includes('ClusterConfiguration.networking.podSubnett: unknown field "podSubnett" (did you mean "podSubnet"?)'), e.issues.join('\n'));
      return true;
    });
  });

  it('suggests the right casing for a mis-cased field', async () => {
    const text = V4.replace('advertiseAddress: 192.0.2.20', 'AdvertiseAddress: 192.0.2.20');
    const parsed = await parseConfigText(text, 'c.yaml');
    assert.ok(parsed.pendingIssues?.some((i) => i.path === 'InitConfiguration.localAPIEndpoint.AdvertiseAddress' && i.message === 'unknown field "AdvertiseAddress" (did you mean "advertiseAddress"?)'));
    assert.throws(() => buildSpec(parsed, {}, TEST_HOST, 'c.yaml'), (e: ConfigError) => e.issues.some((l) => l.includes('(did you mean "advertiseAddress"?)')));
  });
});

describe('null sections', () => {
  it('a section whose children are all commented out (YAML null) is taken as absent, as kubeadm does', async () => {
    const bare = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp1
localAPIEndpoint:
  advertiseAddress: 192.0.2.20
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
`;
    const nulls = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
nodeRegistration:
  name: cp1
  taints:
  kubeletExtraArgs:
localAPIEndpoint:
  advertiseAddress: 192.0.2.20
  bindPort:
patches:
timeouts:
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion:
apiServer:
  # certSANs:
  # - cp.example.com
controllerManager:
  extraArgs:
scheduler:
etcd:
  local:
networking:
dns:
proxy:
featureGates:
`;
    const a = await loadConfig({ path: 'a.yaml', text: bare }, {}, TEST_HOST);
    const b = await loadConfig({ path: 'b.yaml', text: nulls }, {}, TEST_HOST);
    assert.deepEqual(b.spec, a.spec);
    const etcdOnly = await loadConfig({ path: 'c.yaml', text: `${bare}etcd:\n` }, {}, TEST_HOST);
    assert.deepEqual(etcdOnly.spec, a.spec);
    const v3 = await loadConfig({ path: 'd.yaml', text: `${nulls.replaceAll('v1beta4', 'v1beta3').replace('timeouts:\n', '').replace('dns:\nproxy:\n', 'dns:\n').replace('bootstrapTokens:\n', '')}` }, {}, TEST_HOST);
    assert.deepEqual(v3.spec, a.spec);
  });
});

describe('the recorded configuration', () => {
  it('is validated like any other file: an unknown field in it is reported', async () => {
    const body = V4.replace('bindPort: 7443', 'bindPort: 7443\n  notAField: 1');
    const parsed = await parseConfigText(`# Written by kubeboot\n${body}`, 'recorded.yaml');
    assert.ok(parsed.pendingIssues?.some((i) => i.path === 'InitConfiguration.localAPIEndpoint.notAField' && i.message.startsWith('unknown field')));
  });
});
