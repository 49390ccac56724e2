import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { activeCertRows, planCert, planKubeconfigCert, planPki, kubeconfigValidity, pkiValidity } from '../../../src/pki/plan.js';
import { CERT_TABLE, KUBECONFIG_TABLE, certPaths, kubeconfigEndpointKind } from '../../../src/pki/table.js';
import { VERSION_TABLE } from '../../../src/versions.js';
import { TEST_HOST } from '../../helpers/host.js';
import { configYaml, type ConfigOptions } from './support.js';

const spec = async (o: ConfigOptions = {}) => (await loadConfig({ path: 't.yaml', text: configYaml(o) }, {}, TEST_HOST)).spec;

test('the certificate table: kubeadm order, every CA before what it signs, unique files', () => {
  assert.deepEqual(
    CERT_TABLE.map((r) => r.name),
    ['ca', 'apiserver', 'apiserver-kubelet-client', 'front-proxy-ca', 'front-proxy-client', 'etcd-ca', 'etcd-server', 'etcd-peer', 'etcd-healthcheck-client', 'apiserver-etcd-client'],
  );
  const seen = new Set<string>();
  for (const r of CERT_TABLE) {
    if (r.ca !== undefined) {
      assert.ok(seen.has(r.ca), `${r.name}: its CA ${r.ca} comes first`);
      assert.ok(CERT_TABLE.find((x) => x.name === r.ca)?.isCA, `${r.name}: signed by a CA row`);
      assert.ok(r.extKeyUsage.length > 0, `${r.name}: a leaf needs an EKU`);
    } else {
      assert.ok(r.isCA, `${r.name}: only CAs are self-signed`);
    }
    seen.add(r.name);
  }
  assert.equal(new Set(CERT_TABLE.map((r) => r.baseName)).size, CERT_TABLE.length);
  assert.deepEqual(certPaths('/etc/kubernetes/pki', 'etcd/server'), { crt: '/etc/kubernetes/pki/etcd/server.crt', key: '/etc/kubernetes/pki/etcd/server.key' });
});

test('plans: CN, O, usages, validity per row', async () => {
  const s = await spec({ nodeName: 'node-a' });
  const plans = Object.fromEntries(CERT_TABLE.map((r) => [r.name, planCert(r, s, () => undefined)]));
  assert.equal(plans['etcd-server']?.commonName, 'node-a');
  assert.equal(plans['etcd-peer']?.commonName, 'node-a');
  // no O since kubeadm 1.34.x/1.35.x/1.36.1+ (kubernetes#138958; the API server's kubelet access is an RBAC binding now)
  assert.deepEqual(plans['apiserver-kubelet-client']?.organization, []);
  for (const r of CERT_TABLE.filter((x) => x.name !== 'apiserver-kubelet-client')) assert.deepEqual(plans[r.name]?.organization, [], r.name);
  assert.deepEqual(plans.ca?.dnsNames, ['kubernetes']);
  assert.deepEqual(plans['front-proxy-ca']?.dnsNames, ['front-proxy-ca']);
  assert.deepEqual(plans['etcd-ca']?.dnsNames, ['etcd-ca']);
  assert.deepEqual(plans['front-proxy-client']?.dnsNames, []);
  assert.equal(plans.ca?.validityMs, 87600 * 3_600_000);
  assert.equal(plans.apiserver?.validityMs, 8760 * 3_600_000);
  const start = new Date('2026-05-05T05:05:05Z');
  const v = pkiValidity(plans.apiserver as NonNullable<(typeof plans)['apiserver']>, start);
  assert.equal(v.notBefore.toISOString(), '2026-05-05T05:00:05.000Z');
  assert.equal(v.notAfter.toISOString(), '2027-05-05T05:05:05.000Z');
});

test('custom validity periods from the config', async () => {
  const s = await spec({ cluster: 'certificateValidityPeriod: 48h\ncaCertificateValidityPeriod: 8760h\n' });
  assert.equal(planCert(CERT_TABLE[0]!, s, () => undefined).validityMs, 8760 * 3_600_000);
  assert.equal(planCert(CERT_TABLE[1]!, s, () => undefined).validityMs, 48 * 3_600_000);
  const k = planKubeconfigCert(KUBECONFIG_TABLE[0]!, s);
  const caNotBefore = new Date('2020-01-01T00:00:00Z');
  const v = kubeconfigValidity(k, new Date('2026-01-01T00:00:00Z'), caNotBefore);
  assert.equal(v.notBefore, caNotBefore);
  assert.equal(v.notAfter.toISOString(), '2026-01-03T00:00:00.000Z');
});

test('external etcd drops the etcd CA and its four certificates', async () => {
  const s = await spec({ cluster: 'etcd:\n  external:\n    endpoints: ["https://192.0.2.50:2379"]\n' });
  assert.deepEqual(activeCertRows(s).map((r) => r.name), ['ca', 'apiserver', 'apiserver-kubelet-client', 'front-proxy-ca', 'front-proxy-client']);
});

test('kubeconfig table: users, groups; kubelet.conf uses the local endpoint in every minor of the version table', async () => {
  const s = await spec({ nodeName: 'n1', cluster: 'controlPlaneEndpoint: lb.example.com\n' });
  const plan = planPki(s, () => undefined);
  assert.deepEqual(
    plan.kubeconfigs.map((k) => [k.file, k.commonName, k.organization.join(','), k.server]),
    [
      ['admin.conf', 'kubernetes-admin', 'kubeadm:cluster-admins', 'https://lb.example.com:6443'],
      ['super-admin.conf', 'kubernetes-super-admin', 'system:masters', 'https://lb.example.com:6443'],
      ['kubelet.conf', 'system:node:n1', 'system:nodes', 'https://192.0.2.10:6443'],
      ['controller-manager.conf', 'system:kube-controller-manager', '', 'https://192.0.2.10:6443'],
      ['scheduler.conf', 'system:kube-scheduler', '', 'https://192.0.2.10:6443'],
    ],
  );
  const kubelet = KUBECONFIG_TABLE.find((r) => r.name === 'kubelet')!;
  for (const row of VERSION_TABLE) {
    assert.equal(kubeconfigEndpointKind(kubelet, { version: row }), row.kubeletConfLocalEndpoint ? 'local' : 'control-plane', row.minor);
    assert.equal(kubeconfigEndpointKind(kubelet, { version: row }), 'local', `${row.minor}: ControlPlaneKubeletLocalMode is on from 1.33`);
  }
  assert.equal(kubeconfigEndpointKind(kubelet, { version: { ...VERSION_TABLE[0]!, kubeletConfLocalEndpoint: false } }), 'control-plane');
});
