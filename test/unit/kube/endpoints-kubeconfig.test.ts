import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { componentEndpoint, manifestCommand } from '../../../src/kube/endpoints.js';
import { kubeconfigCredentials as parseKubeconfig, KubeconfigError } from '../../../src/kube/kubeconfig.js';

describe('component endpoints from the generated manifests', () => {
  it('kube-apiserver: --advertise-address and --secure-port, /livez', () => {
    const ep = componentEndpoint('kube-apiserver', ['kube-apiserver', '--advertise-address=192.0.2.10', '--secure-port=7443'], '10.0.0.1');
    assert.deepEqual(ep, { name: 'kube-apiserver', url: 'https://192.0.2.10:7443/livez', insecure: true });
    assert.equal(componentEndpoint('kube-apiserver', ['kube-apiserver'], 'fd00::1').url, 'https://[fd00::1]:6443/livez');
  });
  it('KCM and scheduler: --bind-address (unspecified → loopback) and --secure-port, with kubeadm defaults', () => {
    assert.equal(componentEndpoint('kube-controller-manager', ['x'], '').url, 'https://127.0.0.1:10257/healthz');
    assert.equal(componentEndpoint('kube-scheduler', ['x', '--bind-address=0.0.0.0', '--secure-port=1234'], '').url, 'https://127.0.0.1:1234/livez');
    assert.equal(componentEndpoint('kube-scheduler', ['x', '--bind-address=::'], '').url, 'https://[::1]:10259/livez');
  });
  it('etcd: the first --listen-metrics-urls, /health', () => {
    assert.equal(componentEndpoint('etcd', ['etcd', '--listen-metrics-urls=http://127.0.0.1:3381,http://10.0.0.1:3381'], '').url, 'http://127.0.0.1:3381/health');
    assert.equal(componentEndpoint('etcd', ['etcd'], '').url, 'http://127.0.0.1:2381/health');
  });
  it('reads the command of a manifest', () => {
    const text = 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    command:\n    - kube-scheduler\n    - --secure-port=5\n';
    assert.deepEqual(manifestCommand(text, 'f'), ['kube-scheduler', '--secure-port=5']);
    assert.throws(() => manifestCommand('kind: Pod\n', 'f.yaml'), /f.yaml: no spec.containers/);
  });
});

const PEM = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(user: Record<string, string>, cluster: Record<string, string> = {}): string {
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://127.0.0.1:6443
${Object.entries(cluster).map(([k, v]) => `    ${k}: ${v}`).join('\n')}
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
preferences: {}
users:
- name: kubernetes-admin
  user:
${Object.entries(user).map(([k, v]) => `    ${k}: ${v}`).join('\n')}
`;
}

describe('kubeconfig parsing', () => {
  it('embedded base64 data', async () => {
    const c = await parseKubeconfig(
      kubeconfig(
        { 'client-certificate-data': b64(PEM('CERTIFICATE')), 'client-key-data': b64(PEM('RSA PRIVATE KEY')) },
        { 'certificate-authority-data': b64(PEM('CERTIFICATE')) },
      ),
      'admin.conf',
      async () => undefined,
    );
    assert.equal(c.server, 'https://127.0.0.1:6443');
    assert.equal(c.user, 'kubernetes-admin');
    assert.match(c.cert, /BEGIN CERTIFICATE/);
    assert.match(c.key, /BEGIN RSA PRIVATE KEY/);
    assert.match(c.ca ?? '', /BEGIN CERTIFICATE/);
  });
  it('file references are read through the caller', async () => {
    const files: Record<string, string> = { '/p/c.crt': PEM('CERTIFICATE'), '/p/c.key': PEM('EC PRIVATE KEY') };
    const c = await parseKubeconfig(kubeconfig({ 'client-certificate': '/p/c.crt', 'client-key': '/p/c.key' }), 'k', async (p) => files[p]);
    assert.match(c.key, /EC PRIVATE KEY/);
    assert.equal(c.ca, undefined);
  });
  it('errors name the file and the problem', async () => {
    await assert.rejects(parseKubeconfig('a: [', 'x.conf', async () => undefined), /x.conf: it is not valid YAML/);
    await assert.rejects(parseKubeconfig(kubeconfig({}), 'x.conf', async () => undefined), (e: unknown) => e instanceof KubeconfigError && /no client certificate/.test(e.message));
    await assert.rejects(
      parseKubeconfig(kubeconfig({ 'client-certificate-data': 'bm90IHBlbQ==', 'client-key-data': 'eA==' }), 'x.conf', async () => undefined),
      /not base64-encoded PEM/,
    );
  });
});
