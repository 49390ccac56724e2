import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import type { ClusterSpec } from '../../../src/config/spec.js';
import { apiServerAltNames, apiServerVirtualIP, classifySANs, etcdAltNames, normalizeAltNames } from '../../../src/pki/altnames.js';
import { TEST_HOST } from '../../helpers/host.js';
import { configYaml, type ConfigOptions } from './support.js';

async function spec(o: ConfigOptions = {}): Promise<ClusterSpec> {
  return (await loadConfig({ path: 'test.yaml', text: configYaml(o) }, {}, TEST_HOST)).spec;
}

test('classifySANs: IPs (canonicalised), DNS subdomains and wildcards are kept; anything else warns', () => {
  const warnings: string[] = [];
  const r = classifySANs(
    ['10.0.0.1', 'api.example.com', '*.apps.example.com', '2001:DB8:0:0::1', 'Bad_Name', 'a..b', '*', 'x.*.example.com', 'UPPER.example.com'],
    'apiserver.crt',
    (m) => warnings.push(m),
  );
  assert.deepEqual(r.ips, ['10.0.0.1', '2001:db8::1']);
  assert.deepEqual(r.dnsNames, ['api.example.com', '*.apps.example.com']);
  assert.deepEqual(warnings, [
    "[certificates] WARNING: 'Bad_Name' was not added to the 'apiserver.crt' SAN, because it is not a valid IP or RFC-1123 compliant DNS entry",
    "[certificates] WARNING: 'a..b' was not added to the 'apiserver.crt' SAN, because it is not a valid IP or RFC-1123 compliant DNS entry",
    "[certificates] WARNING: '*' was not added to the 'apiserver.crt' SAN, because it is not a valid IP or RFC-1123 compliant DNS entry",
    "[certificates] WARNING: 'x.*.example.com' was not added to the 'apiserver.crt' SAN, because it is not a valid IP or RFC-1123 compliant DNS entry",
    "[certificates] WARNING: 'UPPER.example.com' was not added to the 'apiserver.crt' SAN, because it is not a valid IP or RFC-1123 compliant DNS entry",
  ]);
});

test('normalizeAltNames: DNS sorted as a set; IPs deduplicated by canonical text in first-seen order', () => {
  const r = normalizeAltNames(['b', 'a', 'kubernetes', 'a', '*.x'], ['10.96.0.1', '::1', '192.0.2.10', '0:0::1', '10.96.0.1', 'fd00::0010']);
  assert.deepEqual(r.dnsNames, ['*.x', 'a', 'b', 'kubernetes']);
  assert.deepEqual(r.ips, ['10.96.0.1', '::1', '192.0.2.10', 'fd00::10']);
});

test('the service VIP is index 1 of the first service CIDR', () => {
  assert.equal(apiServerVirtualIP('10.96.0.0/12'), '10.96.0.1');
  assert.equal(apiServerVirtualIP('10.100.0.0/16'), '10.100.0.1');
  assert.equal(apiServerVirtualIP('10.96.0.0/16,fd00:10:96::/112'), '10.96.0.1');
  assert.equal(apiServerVirtualIP('fd00:10:96::/112,10.96.0.0/16'), 'fd00:10:96::1');
  // a CIDR given with host bits set still yields network + 1
  assert.equal(apiServerVirtualIP('10.96.5.7/12'), '10.96.0.1');
  assert.throws(() => apiServerVirtualIP('nonsense'), /unable to get first IP address from the given CIDR: nonsense/);
});

test('apiserver SANs: defaults', async () => {
  const r = apiServerAltNames(await spec(), () => assert.fail('no warnings expected'));
  assert.deepEqual(r.dnsNames, ['cp1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']);
  assert.deepEqual(r.ips, ['10.96.0.1', '192.0.2.10']);
});

test('apiserver SANs: controlPlaneEndpoint host as DNS or IP, certSANs classified, dnsDomain used', async () => {
  const dnsCase = apiServerAltNames(
    await spec({ cluster: 'controlPlaneEndpoint: "lb.example.com:8443"\nnetworking:\n  dnsDomain: corp.internal\n' }),
    () => undefined,
  );
  assert.deepEqual(dnsCase.dnsNames, [
    'cp1',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.corp.internal',
    'lb.example.com',
  ]);
  assert.deepEqual(dnsCase.ips, ['10.96.0.1', '192.0.2.10']);

  const ipCase = apiServerAltNames(
    await spec({ cluster: 'controlPlaneEndpoint: "[2001:db8::7]:443"\napiServer:\n  certSANs: ["203.0.113.1", "a.example.com", "192.0.2.10"]\n' }),
    () => undefined,
  );
  assert.deepEqual(ipCase.ips, ['10.96.0.1', '192.0.2.10', '2001:db8::7', '203.0.113.1']);
  assert.ok(ipCase.dnsNames.includes('a.example.com'));
  assert.ok(!ipCase.dnsNames.includes('2001:db8::7'));
});

test('etcd server and peer SANs: node name, localhost, advertise address and loopbacks, plus their own lists', async () => {
  const s = await spec({
    advertiseAddress: 'fd00::10',
    cluster: 'networking:\n  serviceSubnet: "fd00:10:96::/112"\netcd:\n  local:\n    serverCertSANs: ["etcd.example.com", "::1"]\n    peerCertSANs: ["203.0.113.9"]\n',
  });
  const server = etcdAltNames(s, 'server', () => undefined);
  assert.deepEqual(server.dnsNames, ['cp1', 'etcd.example.com', 'localhost']);
  assert.deepEqual(server.ips, ['fd00::10', '127.0.0.1', '::1']);
  const peer = etcdAltNames(s, 'peer', () => undefined);
  assert.deepEqual(peer.dnsNames, ['cp1', 'localhost']);
  assert.deepEqual(peer.ips, ['fd00::10', '127.0.0.1', '::1', '203.0.113.9']);
});

test('etcd SAN warnings name the etcd certificate file', async () => {
  const s = await spec();
  // config validation rejects invalid entries, so feed the classifier directly as etcdAltNames would
  const warnings: string[] = [];
  classifySANs(['not valid!'], 'etcd/peer.crt', (m) => warnings.push(m));
  assert.deepEqual(warnings, [
    "[certificates] WARNING: 'not valid!' was not added to the 'etcd/peer.crt' SAN, because it is not a valid IP or RFC-1123 compliant DNS entry",
  ]);
  assert.deepEqual(etcdAltNames(s, 'peer', () => assert.fail('no warning')).dnsNames, ['cp1', 'localhost']);
});
