/** The KubeProxyConfiguration kube-proxy gets: kubeadm's decoding, defaulting and encoding (src/config/kube-proxy.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalQuantity, goFloat32, kubeProxySettings } from '../../../src/config/kube-proxy.js';
import { buildSpec, parseConfigText } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { toYaml } from '../../../src/render/yaml.js';
import { TEST_HOST } from '../../helpers/host.js';

type Obj = Record<string, any>;

const base = { advertiseAddress: '192.0.2.10', podSubnet: '' };

/** kubeadm v1.36.5's config.conf for the defaults (podSubnet 10.244.0.0/16), from its `init phase addon --dry-run`. */
const KUBEADM_DEFAULT_CONFIG_CONF = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: 10.244.0.0/16
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpBeLiberal: false
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: null
  udpStreamTimeout: 0s
  udpTimeout: 0s
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
detectLocalMode: ""
enableProfiling: false
healthzBindAddress: ""
hostnameOverride: ""
iptables:
  localhostNodePorts: null
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: ""
  strictARP: false
  syncPeriod: 0s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
kind: KubeProxyConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
metricsBindAddress: ""
mode: ""
nftables:
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
nodePortAddresses: null
oomScoreAdj: null
portRange: ""
showHiddenMetricsForVersion: ""
winkernel:
  enableDSR: false
  forwardHealthCheckVip: false
  networkName: ""
  rootHnsEndpointName: ""
  sourceVip: ""
`;

describe('KubeProxyConfiguration', () => {
  it('no document: every field of the Go type at its zero value, kubeadm defaults set, not user supplied', () => {
    const r = kubeProxySettings({ ...base, document: undefined, podSubnet: '10.244.0.0/16' });
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.settings.userSupplied, false);
    assert.equal(toYaml(r.settings.configuration), KUBEADM_DEFAULT_CONFIG_CONF);
  });

  it('no pod subnet: clusterCIDR stays empty', () => {
    const r = kubeProxySettings({ ...base, document: undefined });
    assert.equal(r.settings.configuration.clusterCIDR, '');
  });

  it('bindAddress follows the advertise address family (an IPv4-mapped IPv6 address is IPv4); dual-stack pod subnets go into clusterCIDR whole', () => {
    assert.equal(kubeProxySettings({ ...base, document: undefined, advertiseAddress: '2001:db8::10' }).settings.configuration.bindAddress, '::');
    assert.equal(kubeProxySettings({ ...base, document: undefined, advertiseAddress: '::ffff:192.0.2.10' }).settings.configuration.bindAddress, '0.0.0.0');
    const ds = kubeProxySettings({ ...base, document: undefined, podSubnet: '10.244.0.0/16,fd00:10:244::/56' });
    assert.equal(ds.settings.configuration.clusterCIDR, '10.244.0.0/16,fd00:10:244::/56');
    // go-yaml writes '::' single-quoted (plain would not parse), as kubeadm's ConfigMap shows
    assert.match(toYaml(kubeProxySettings({ ...base, document: undefined, advertiseAddress: '2001:db8::10' }).settings.configuration), /^bindAddress: '::'$/m);
  });

  it("a user document: decoded into the Go type (durations and quantities in Go's form, omitempty fields dropped), kubeadm's recommendations as warnings", () => {
    const doc = {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'ipvs',
      bindAddress: '::',
      clusterCIDR: '10.0.0.0/8',
      ipvs: { syncPeriod: '1m', minSyncPeriod: '1.5s', strictARP: true },
      conntrack: { maxPerCore: 0, tcpCloseWaitTimeout: '90m' },
      featureGates: { ZFeature: true, AFeature: false },
      unknownField: 'x',
      BindAddress: 'miscased',
      clientConnection: { qps: 0.1, burst: 20, kubeconfig: '/other/kubeconfig' },
      logging: { flushFrequency: '5s', verbosity: 3, options: { json: { infoBufferSize: '1024Ki' }, text: { splitStream: true, infoBufferSize: '2048' } }, vmodule: [{ filePattern: 'proxier*', verbosity: 4 }] },
      nodePortAddresses: ['primary'],
      oomScoreAdj: -999,
      windowsRunAsService: false,
    };
    const r = kubeProxySettings({ document: doc, advertiseAddress: '192.0.2.10', podSubnet: '10.244.0.0/16' });
    assert.deepEqual(r.issues, []);
    assert.equal(r.settings.userSupplied, true);
    const c = r.settings.configuration as Obj;
    // what kubeadm v1.36.5 wrote for the same document (its dry run)
    assert.equal(c.ipvs.syncPeriod, '1m0s');
    assert.equal(c.ipvs.minSyncPeriod, '1.5s');
    assert.equal(c.conntrack.tcpCloseWaitTimeout, '1h30m0s');
    assert.equal(c.conntrack.maxPerCore, 0);
    assert.equal(c.conntrack.min, null);
    assert.equal(c.clientConnection.qps, 0.1);
    assert.equal(c.clientConnection.kubeconfig, '/other/kubeconfig');
    assert.deepEqual(c.logging, {
      flushFrequency: '5s',
      verbosity: 3,
      vmodule: [{ filePattern: 'proxier*', verbosity: 4 }],
      options: { json: { infoBufferSize: '1Mi' }, text: { splitStream: true, infoBufferSize: '2048' } },
    });
    assert.deepEqual(c.featureGates, { ZFeature: true, AFeature: false });
    assert.deepEqual(c.nodePortAddresses, ['primary']);
    assert.equal('windowsRunAsService' in c, false, 'omitempty false is left out');
    assert.equal('unknownField' in c || 'BindAddress' in c, false, 'unknown (and miscased) fields are dropped');
    assert.equal(c.bindAddress, '::');
    assert.deepEqual(r.warnings, [
      'KubeProxyConfiguration.unknownField: unknown field "unknownField" (ignored, as kubeadm ignores it with a warning)',
      'KubeProxyConfiguration.BindAddress: unknown field "BindAddress" (ignored, as kubeadm ignores it with a warning)',
      'The recommended value for "bindAddress" in "KubeProxyConfiguration" is: 0.0.0.0; the provided value is: ::',
      'The recommended value for "clusterCIDR" in "KubeProxyConfiguration" is: 10.244.0.0/16; the provided value is: 10.0.0.0/8',
      'The recommended value for "clientConnection.kubeconfig" in "KubeProxyConfiguration" is: /var/lib/kube-proxy/kubeconfig.conf; the provided value is: /other/kubeconfig',
    ]);
    const text = toYaml(c);
    assert.match(text, /^featureGates:\n {2}AFeature: false\n {2}ZFeature: true$/m);
    assert.match(text, /^ {4}text:\n {6}infoBufferSize: "2048"\n {6}splitStream: true$/m);
  });

  it('a value of the wrong type is a configuration problem named by its path; null leaves the default', () => {
    const r = kubeProxySettings({
      ...base,
      document: { mode: 3, conntrack: { min: 1.5, udpTimeout: 30 }, iptables: { syncPeriod: 'soon' }, nodePortAddresses: 'primary', featureGates: { A: 'yes' }, bindAddress: null, clientConnection: { burst: 2 ** 31 } },
    });
    assert.deepEqual(
      r.issues.map((i) => `${i.path}: ${i.message}`),
      [
        'KubeProxyConfiguration.mode: expected a string, got number 3',
        'KubeProxyConfiguration.conntrack.min: expected a 32-bit integer, got number 1.5',
        'KubeProxyConfiguration.conntrack.udpTimeout: expected a duration such as "30s" or "1m0s", got number 30',
        'KubeProxyConfiguration.iptables.syncPeriod: expected a duration such as "30s" or "1m0s", got string "soon"',
        'KubeProxyConfiguration.nodePortAddresses: expected a list, got string "primary"',
        'KubeProxyConfiguration.featureGates.A: expected true or false, got string "yes"',
        'KubeProxyConfiguration.clientConnection.burst: expected a 32-bit integer, got number 2147483648',
      ],
    );
    assert.equal(r.settings.configuration.bindAddress, '0.0.0.0');
  });

  it('config loading: problems fail the load (exit 3) with the others; the document is carried and recorded as written', async () => {
    const text = `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
conntrack:
  min: "many"
`;
    await assert.rejects(
      async () => buildSpec(await parseConfigText(text, 'c.yaml'), {}, TEST_HOST, 'c.yaml'),
      (e: ConfigError) => e.issues.includes('KubeProxyConfiguration.conntrack.min: expected a 32-bit integer, got string "many"'),
    );
    const ok = buildSpec(await parseConfigText(text.replace('  min: "many"\n', '  min: 5\n'), 'c.yaml'), {}, TEST_HOST, 'c.yaml');
    assert.equal(ok.spec.kubeProxy.userSupplied, true);
    assert.equal((ok.spec.kubeProxy.configuration as Obj).mode, 'nftables');
    assert.equal((ok.spec.kubeProxy.configuration as Obj).clusterCIDR, '10.244.0.0/16');
    assert.deepEqual(ok.spec.kubeProxyConfiguration, { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'nftables', conntrack: { min: 5 } });
  });
});

describe("Go's encodings", () => {
  it('quantities: the canonical forms apimachinery v0.36.5 prints (resource.ParseQuantity(s).String())', () => {
    // produced with Go from k8s.io/apimachinery v0.36.5
    const vectors: Record<string, string> = {
      '0': '0', '1024Ki': '1Mi', '2048': '2048', '1000': '1k', '1k': '1k', '1024': '1024', '1Mi': '1Mi', '1.5Ki': '1536', '0.5Ki': '512',
      '1536': '1536', '1025Ki': '1025Ki', '12e6': '12e6', '1e3': '1e3', '500m': '500m', '0.3Ki': '307200m', '100M': '100M',
      '1000000': '1M', '1048576': '1048576', '3Gi': '3Gi', '1024Mi': '1Gi', '2e3': '2e3', '1.5': '1500m', '64Ki': '64Ki',
      '65536': '65536', '10000Ki': '10000Ki', '7E': '7E',
    };
    for (const [input, want] of Object.entries(vectors)) assert.equal(canonicalQuantity(input), want, input);
    for (const bad of ['', 'Ki', '1KB', 'one', '1.2.3']) assert.equal(canonicalQuantity(bad), undefined, bad);
  });

  it('float32: the shortest decimal of the float32 (what encoding/json writes)', () => {
    // produced with Go's encoding/json on float32 values
    assert.equal(goFloat32(0.1), 0.1);
    assert.equal(goFloat32(5), 5);
    assert.equal(goFloat32(1.1), 1.1);
    assert.equal(goFloat32(3.3333333), 3.3333333);
    assert.equal(goFloat32(123456789), 123456790);
    assert.equal(goFloat32(1 / 3), 0.33333334);
  });
});
