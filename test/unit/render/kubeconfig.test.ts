import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlPlaneEndpointPortWarning, controlPlaneEndpointURL, localEndpointURL, renderKubeconfig } from '../../../src/render/kubeconfig.js';
import { parseKubeconfig } from '../../../src/kube/kubeconfig.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const parts = {
  clusterName: 'kubernetes',
  server: 'https://192.0.2.10:6443',
  user: 'system:node:cp1',
  caCertPem: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
  clientCertPem: '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n',
  clientKeyPem: '-----BEGIN RSA PRIVATE KEY-----\nKEY\n-----END RSA PRIVATE KEY-----\n',
};

test('renderKubeconfig: client-go layout and key order, embedded base64 data, deterministic', () => {
  const text = renderKubeconfig(parts);
  assert.equal(
    text,
    `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64(parts.caCertPem)}
    server: https://192.0.2.10:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: system:node:cp1
  name: system:node:cp1@kubernetes
current-context: system:node:cp1@kubernetes
kind: Config
users:
- name: system:node:cp1
  user:
    client-certificate-data: ${b64(parts.clientCertPem)}
    client-key-data: ${b64(parts.clientKeyPem)}
`,
  );
  assert.equal(renderKubeconfig(parts), text);
});

test('parseKubeconfig reads back what renderKubeconfig writes, and explains broken files', () => {
  const v = parseKubeconfig(renderKubeconfig({ ...parts, clusterName: 'prod' }));
  assert.ok(typeof v !== 'string');
  assert.equal(v.currentContext, 'system:node:cp1@prod');
  assert.equal(v.clusterName, 'prod');
  assert.equal(v.server, parts.server);
  assert.equal(v.caData, parts.caCertPem);
  assert.equal(v.clientCertData, parts.clientCertPem);
  assert.equal(v.clientKeyData, parts.clientKeyPem);
  assert.equal(parseKubeconfig('a: [b'), parseKubeconfig('a: [b'));
  assert.match(String(parseKubeconfig('a: [b')), /^it is not valid YAML/);
  assert.equal(parseKubeconfig('apiVersion: v1\n'), 'it has no current-context');
  assert.equal(parseKubeconfig('current-context: x\ncontexts: []\n'), 'failed to find CurrentContext "x" in Contexts of the kubeconfig file');
  const fileCa = parseKubeconfig(
    'current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster: {server: "https://h:1", certificate-authority: /etc/ca.crt}\n',
  );
  assert.ok(typeof fileCa !== 'string');
  assert.equal(fileCa.caFile, '/etc/ca.crt');
  assert.equal(fileCa.caData, undefined);
});

const ep = (advertiseAddress: string, bindPort: number, controlPlaneEndpoint = '') => ({ advertiseAddress, bindPort, controlPlaneEndpoint });

test('server URLs: local endpoint, controlPlaneEndpoint with or without a port, IPv6 in brackets', () => {
  assert.equal(localEndpointURL(ep('192.0.2.10', 6443)), 'https://192.0.2.10:6443');
  assert.equal(localEndpointURL(ep('fd00:0::10', 6443)), 'https://[fd00::10]:6443');
  assert.equal(controlPlaneEndpointURL(ep('192.0.2.10', 6443)), 'https://192.0.2.10:6443');
  assert.equal(controlPlaneEndpointURL(ep('192.0.2.10', 7443, 'lb.example.com')), 'https://lb.example.com:7443');
  assert.equal(controlPlaneEndpointURL(ep('192.0.2.10', 6443, 'lb.example.com:443')), 'https://lb.example.com:443');
  assert.equal(controlPlaneEndpointURL(ep('192.0.2.10', 6443, '[2001:db8::1]:8443')), 'https://[2001:db8::1]:8443');
  assert.equal(controlPlaneEndpointURL(ep('192.0.2.10', 6443, '2001:db8::1')), 'https://[2001:db8::1]:6443');
  assert.throws(() => controlPlaneEndpointURL(ep('192.0.2.10', 6443, 'a:b:c')), /error parsing cluster controlPlaneEndpoint "a:b:c"/);
});

test('a controlPlaneEndpoint port other than bindPort gives kubeadm\'s warning', () => {
  assert.equal(controlPlaneEndpointPortWarning(ep('192.0.2.10', 6443, 'lb:6443')), undefined);
  assert.equal(controlPlaneEndpointPortWarning(ep('192.0.2.10', 6443, 'lb')), undefined);
  assert.equal(
    controlPlaneEndpointPortWarning(ep('192.0.2.10', 6443, 'lb:443')),
    '[endpoint] WARNING: port specified in controlPlaneEndpoint overrides bindPort in the controlplane address',
  );
});
