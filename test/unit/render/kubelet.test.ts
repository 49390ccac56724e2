import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSpec, parseConfigText, type ConfigFlags } from '../../../src/config/load.js';
import type { ClusterSpec } from '../../../src/config/spec.js';
import {
  clusterDnsIp,
  goQuote,
  kubeletHealthzEndpoint,
  renderFlagsEnv,
  renderKubeletFiles,
} from '../../../src/render/kubelet.js';
import { parseYaml } from '../../../src/render/yaml.js';
import { loadKubeletTemplate } from '../../../src/node/templates.js';
import { TEST_HOST } from '../../helpers/host.js';

async function specFrom(text: string | undefined, flags: ConfigFlags = {}): Promise<ClusterSpec> {
  const parsed = text === undefined ? undefined : await parseConfigText(text, 'test.yaml');
  return buildSpec(parsed, flags, TEST_HOST, 'test.yaml').spec;
}

const V = (minor: string) => `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v${minor}.0
`;

describe('kubeadm-flags.env', () => {
  it('1.35+: empty by default (no --pod-infra-container-image, no CRI endpoint)', async () => {
    const spec = await specFrom(V('1.36'));
    const r = renderFlagsEnv(spec, TEST_HOST.hostname);
    assert.equal(r.file.path, '/var/lib/kubelet/kubeadm-flags.env');
    assert.equal(r.file.mode, 0o644);
    assert.equal(r.file.content, 'KUBELET_KUBEADM_ARGS=""\n');
  });

  it("1.34 ('pause'): the pause image flag only", async () => {
    const spec = await specFrom(V('1.34'));
    assert.equal(renderFlagsEnv(spec, 'cp1').file.content, 'KUBELET_KUBEADM_ARGS="--pod-infra-container-image=registry.k8s.io/pause:3.10.1"\n');
  });

  it('--hostname-override when the node name differs from the OS hostname, merged with kubeletExtraArgs like the manifests', async () => {
    const spec = await specFrom(
      `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: node-a
  kubeletExtraArgs:
  - name: v
    value: "4"
  - name: node-ip
    value: 192.0.2.10
`,
    );
    const r = renderFlagsEnv(spec, 'cp1');
    // overrides-first (1.36): the user's entries in their order, then the remaining defaults
    assert.deepEqual(r.flags, ['--hostname-override=node-a', '--v=4', '--node-ip=192.0.2.10']);
    assert.equal(r.file.content, 'KUBELET_KUBEADM_ARGS="--hostname-override=node-a --v=4 --node-ip=192.0.2.10"\n');
    assert.equal(renderFlagsEnv(spec, 'node-a').flags.includes('--hostname-override=node-a'), false);
  });

  it('drops a user --pod-infra-container-image for kubelet 1.35+ with a warning, keeps it for 1.34', async () => {
    const extra = `---
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp1
  kubeletExtraArgs:
  - name: pod-infra-container-image
    value: example.com/pause:1
`;
    const r36 = renderFlagsEnv(await specFrom(V('1.36') + extra), 'cp1');
    assert.equal(r36.file.content, 'KUBELET_KUBEADM_ARGS=""\n');
    assert.match(r36.warnings[0] ?? '', /pod-infra-container-image/);
    const r34 = renderFlagsEnv(await specFrom(V('1.34') + extra), 'cp1');
    assert.deepEqual(r34.flags, ['--pod-infra-container-image=example.com/pause:1']);
  });

  it('quotes like Go %q', () => {
    assert.equal(goQuote('a "b" \\ c\n'), '"a \\"b\\" \\\\ c\\n"');
    assert.equal(goQuote('\x01'), '"\\x01"');
  });
});

describe('config.yaml and instance-config.yaml', () => {
  it('kubeadm defaults from the template, filled from the spec; instance config applied as a patch', async () => {
    const spec = await specFrom(
      `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
networking:
  serviceSubnet: 10.200.0.0/16
  dnsDomain: example.local
certificatesDir: /srv/pki
`,
      { 'cri-socket': 'unix:///run/crio/crio.sock' },
    );
    const files = renderKubeletFiles({ spec, hostname: 'cp1', template: await loadKubeletTemplate() });
    const doc = parseYaml(files.config.content) as Record<string, any>;
    assert.equal(files.config.path, '/var/lib/kubelet/config.yaml');
    assert.equal(files.config.mode, 0o644);
    assert.equal(doc.apiVersion, 'kubelet.config.k8s.io/v1beta1');
    assert.equal(doc.kind, 'KubeletConfiguration');
    assert.deepEqual(doc.clusterDNS, ['10.200.0.10']);
    assert.equal(doc.clusterDomain, 'example.local');
    assert.equal(doc.authentication.x509.clientCAFile, '/srv/pki/ca.crt');
    assert.equal(doc.authentication.anonymous.enabled, false);
    assert.equal(doc.authorization.mode, 'Webhook');
    assert.equal(doc.staticPodPath, '/etc/kubernetes/manifests');
    assert.equal(doc.healthzBindAddress, '127.0.0.1');
    assert.equal(doc.healthzPort, 10248);
    assert.equal(doc.rotateCertificates, true);
    assert.equal(doc.cgroupDriver, 'systemd');
    assert.equal(doc.containerRuntimeEndpoint, 'unix:///run/crio/crio.sock');
    assert.ok(files.instanceConfig);
    assert.equal(files.instanceConfig.path, '/var/lib/kubelet/instance-config.yaml');
    // kubeadm's WriteInstanceConfigToDisk: one line, the value Go-quoted, no apiVersion or kind
    assert.equal(files.instanceConfig.content, 'containerRuntimeEndpoint: "unix:///run/crio/crio.sock"\n');
    assert.equal(doc.resolvConf, undefined, 'no systemd-resolved: the kubelet default');
    assert.deepEqual(files.patchLines, ['Applied patch of type "application/strategic-merge-patch+json" to target "kubeletconfiguration"']);
    // keys come out sorted, apiVersion/kind first: the one serializer
    const keys = files.config.content.split('\n').filter((l) => /^[a-zA-Z]/.test(l)).map((l) => l.split(':')[0]);
    assert.equal(keys[0], 'apiVersion');
    assert.deepEqual(keys.slice(2), [...keys.slice(2)].sort((a, b) => (a! < b! ? -1 : 1)));
  });

  it("merges the config file's KubeletConfiguration (user values win, with a warning when they differ from kubeadm's)", async () => {
    const spec = await specFrom(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
healthzPort: 12345
cgroupDriver: cgroupfs
rotateCertificates: false
maxPods: 50
authentication:
  webhook:
    cacheTTL: 2m0s
`);
    const files = renderKubeletFiles({ spec, hostname: 'cp1', template: await loadKubeletTemplate() });
    const doc = files.configObject as Record<string, any>;
    assert.equal(doc.healthzPort, 12345);
    assert.equal(doc.cgroupDriver, 'cgroupfs');
    assert.equal(doc.maxPods, 50);
    assert.equal(doc.rotateCertificates, true, 'forced');
    assert.equal(doc.authentication.webhook.cacheTTL, '2m0s');
    assert.equal(doc.authentication.webhook.enabled, true, 'deep merge keeps the sibling defaults');
    assert.ok(files.warnings.some((w) => w.includes('healthzPort') && w.includes('10248') && w.includes('12345')));
    assert.ok(files.warnings.some((w) => w.includes('rotateCertificates')));
    assert.deepEqual(kubeletHealthzEndpoint(doc), { host: '127.0.0.1', port: 12345 });
  });

  it('the instance config applies after the kubeletconfiguration patches (kubeadm WriteConfigToDisk), so the CRI socket wins', async () => {
    const spec = await specFrom(undefined);
    const files = renderKubeletFiles({
      spec,
      hostname: 'cp1',
      template: await loadKubeletTemplate(),
      patch: (doc) => ({ doc: { ...doc, containerRuntimeEndpoint: 'unix:///patched.sock', maxPods: 7 }, applied: ['applied one'] }),
    });
    assert.equal(files.configObject.containerRuntimeEndpoint, spec.criSocket);
    assert.equal(files.configObject.maxPods, 7);
    assert.deepEqual(files.patchLines, ['applied one', 'Applied patch of type "application/strategic-merge-patch+json" to target "kubeletconfiguration"']);
  });

  it('systemd-resolved running: resolvConf is its upstream file; a value of the user\'s is kept with a warning', async () => {
    const template = await loadKubeletTemplate();
    const plain = renderKubeletFiles({ spec: await specFrom(undefined), hostname: 'cp1', template, systemdResolved: true });
    assert.equal(plain.configObject.resolvConf, '/run/systemd/resolve/resolv.conf');
    assert.match(plain.config.content, /^resolvConf: \/run\/systemd\/resolve\/resolv\.conf$/m);
    assert.deepEqual(plain.warnings, []);
    const mine = renderKubeletFiles({
      spec: await specFrom('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nresolvConf: /etc/my-resolv.conf\n'),
      hostname: 'cp1',
      template,
      systemdResolved: true,
    });
    assert.equal(mine.configObject.resolvConf, '/etc/my-resolv.conf');
    assert.ok(mine.warnings.some((w) => w.startsWith('KubeletConfiguration.resolvConf: the value recommended by kubeadm is "/run/systemd/resolve/resolv.conf"')), mine.warnings.join('\n'));
  });

  it('is pure: same input, same bytes; the template is not changed', async () => {
    const spec = await specFrom(undefined);
    const template = await loadKubeletTemplate();
    const before = JSON.stringify(template);
    const a = renderKubeletFiles({ spec, hostname: 'cp1', template });
    const b = renderKubeletFiles({ spec, hostname: 'cp1', template });
    assert.equal(a.config.content, b.config.content);
    assert.equal(JSON.stringify(template), before);
  });

  it('cluster DNS is the 10th address of the first service CIDR', () => {
    assert.equal(clusterDnsIp('10.96.0.0/12'), '10.96.0.10');
    assert.equal(clusterDnsIp('fd00::/108,10.96.0.0/12'), 'fd00::a');
  });
});
