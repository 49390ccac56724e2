/**
 * `init phase kubeconfig all` through the built CLI; every kubeconfig read by the real kubectl against a
 * port where nothing listens ("connection refused" proves YAML, context, base64, PEM, key pair and the
 * server URL), client certificates checked with openssl, the layout as client-go writes it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { readCertificate } from '../../src/pki/inspect.js';
import { parseKubeconfig } from '../../src/kube/kubeconfig.js';
import { requireTools } from '../helpers/tools.js';
import { tempDir } from '../helpers/tmp.js';
import { KDIR, PKI, freePort, phase, writeConfig, type ConfigOptions } from '../unit/pki/support.js';

const FILES = ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'controller-manager.conf', 'scheduler.conf'] as const;

function kubectlRefused(t: { after: (fn: () => void) => void }, file: string): string {
  const home = tempDir(t, 'kubeboot-kubectl-home-');
  const r = spawnSync('kubectl', ['--kubeconfig', file, 'get', '--raw', '/healthz', '--request-timeout=2s'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
    timeout: 30_000,
  });
  assert.notEqual(r.status, 0, `kubectl must fail against a closed port (${file})`);
  return r.stderr;
}

async function setup(t: TestContext, o: ConfigOptions) {
  const dir = tempDir(t, 'kubeboot-kubeconfig-');
  const root = path.join(dir, 'root');
  const config = writeConfig(dir, o);
  const a = await phase('certs', root, config);
  assert.equal(a.code, 0, a.stderr);
  const started = Math.floor(Date.now() / 1000) * 1000;
  const b = await phase('kubeconfig', root, config);
  const finished = Date.now();
  assert.equal(b.code, 0, b.stderr);
  return { dir, root, config, out: b, started, finished };
}

test('kubeconfig all: kubectl reads every file; users, groups, URLs and certificates are kubeadm\'s', async (t) => {
  if (!requireTools(t, 'kubectl', 'openssl')) return;
  const port = await freePort();
  const { dir, root, config, out, started, finished } = await setup(t, { advertiseAddress: '127.0.0.1', bindPort: port });
  const server = `127.0.0.1:${port}`;
  const ca = await readCertificate(readFileSync(path.join(root, PKI, 'ca.crt')));
  const users: Record<string, { user: string; o: string[] }> = {
    'admin.conf': { user: 'kubernetes-admin', o: ['kubeadm:cluster-admins'] },
    'super-admin.conf': { user: 'kubernetes-super-admin', o: ['system:masters'] },
    'kubelet.conf': { user: 'system:node:cp1', o: ['system:nodes'] },
    'controller-manager.conf': { user: 'system:kube-controller-manager', o: [] },
    'scheduler.conf': { user: 'system:kube-scheduler', o: [] },
  };
  for (const f of FILES) {
    const file = path.join(root, KDIR, f);
    assert.equal(statSync(file).mode & 0o777, 0o600, `${f} mode`);
    const stderr = kubectlRefused(t, file);
    assert.match(stderr.split('\n')[0] ?? '', new RegExp(`^The connection to the server ${server.replace(/\./g, '\\.')} was refused`), `${f}: ${stderr}`);

    const text = readFileSync(file, 'utf8');
    assert.deepEqual(
      text.split('\n').filter((l) => /^[a-z]/.test(l)),
      ['apiVersion: v1', 'clusters:', 'contexts:', `current-context: ${users[f]?.user}@kubernetes`, 'kind: Config', 'users:'],
      `${f}: top-level keys as client-go writes them`,
    );
    const v = parseKubeconfig(text);
    assert.ok(typeof v !== 'string', String(v));
    assert.equal(v.server, `https://${server}`);
    assert.equal(v.clusterName, 'kubernetes');
    assert.equal(v.user, users[f]?.user);
    assert.equal((v.caData ?? '').trim(), readFileSync(path.join(root, PKI, 'ca.crt'), 'utf8').trim());
    assert.match(v.clientKeyData ?? '', /^-----BEGIN RSA PRIVATE KEY-----\n/);

    const certFile = path.join(dir, `${f}.crt`);
    writeFileSync(certFile, v.clientCertData ?? '');
    const verified = execFileSync('openssl', ['verify', '-CAfile', path.join(root, PKI, 'ca.crt'), certFile], { encoding: 'utf8' });
    assert.equal(verified.trim(), `${certFile}: OK`);
    const c = await readCertificate(v.clientCertData ?? '');
    assert.equal(c.subject.commonName, users[f]?.user);
    assert.deepEqual(c.subject.organization, users[f]?.o);
    assert.deepEqual(c.extKeyUsage, ['clientAuth']);
    assert.deepEqual(c.keyUsage, ['digitalSignature', 'keyEncipherment']);
    assert.equal(c.isCA, false);
    assert.deepEqual([...c.dnsNames, ...c.ips], []);
    assert.equal(c.notBefore.getTime(), ca.notBefore.getTime(), `${f}: NotBefore falls back to the CA's`);
    const start = c.notAfter.getTime() - 8760 * 3_600_000;
    assert.ok(start >= started && start <= finished, `${f}: NotAfter = the kubeconfig run's start + 1y`);
  }
  assert.equal(
    out.stdout
      .split('\n')
      .filter((l) => l.startsWith('[kubeconfig]'))
      .join('\n'),
    [
      '[kubeconfig] Using kubeconfig folder "/etc/kubernetes"',
      '[kubeconfig] Writing "admin.conf" kubeconfig file',
      '[kubeconfig] Writing "super-admin.conf" kubeconfig file',
      '[kubeconfig] Writing "kubelet.conf" kubeconfig file',
      '[kubeconfig] Writing "controller-manager.conf" kubeconfig file',
      '[kubeconfig] Writing "scheduler.conf" kubeconfig file',
    ].join('\n'),
  );

  // a second run reuses every file
  const before = FILES.map((f) => readFileSync(path.join(root, KDIR, f), 'utf8'));
  const again = await phase('kubeconfig', root, config);
  assert.equal(again.code, 0, again.stderr);
  for (const f of FILES) assert.ok(again.stdout.includes(`[kubeconfig] Using existing kubeconfig file: "/etc/kubernetes/${f}"\n`), again.stdout);
  assert.deepEqual(FILES.map((f) => readFileSync(path.join(root, KDIR, f), 'utf8')), before);
});

test('kubeconfig with an IPv6 advertise address: bracketed server URLs that kubectl accepts', async (t) => {
  if (!requireTools(t, 'kubectl')) return;
  const port = await freePort('::1').catch(() => undefined);
  if (port === undefined) {
    t.skip('no IPv6 loopback on this machine');
    return;
  }
  const { root } = await setup(t, { advertiseAddress: '::1', bindPort: port, cluster: 'networking:\n  serviceSubnet: "fd00:10:96::/112"\n' });
  for (const f of FILES) {
    const stderr = kubectlRefused(t, path.join(root, KDIR, f));
    assert.match(stderr.split('\n')[0] ?? '', new RegExp(`^The connection to the server \\[::1\\]:${port} was refused`), `${f}: ${stderr}`);
  }
});

test('kubeconfig with controlPlaneEndpoint host:port: admin and super-admin use it, kubelet and the components the local endpoint', async (t) => {
  if (!requireTools(t, 'kubectl')) return;
  const port = await freePort();
  let cpePort = await freePort();
  while (cpePort === port) cpePort = await freePort();
  const { root, out } = await setup(t, {
    advertiseAddress: '127.0.0.1',
    bindPort: port,
    cluster: `controlPlaneEndpoint: "localhost:${cpePort}"\n`,
  });
  assert.match(out.stderr, /\[endpoint\] WARNING: port specified in controlPlaneEndpoint overrides bindPort in the controlplane address/);
  const expected: Record<string, string> = {
    'admin.conf': `localhost:${cpePort}`,
    'super-admin.conf': `localhost:${cpePort}`,
    'kubelet.conf': `127.0.0.1:${port}`,
    'controller-manager.conf': `127.0.0.1:${port}`,
    'scheduler.conf': `127.0.0.1:${port}`,
  };
  for (const f of FILES) {
    const stderr = kubectlRefused(t, path.join(root, KDIR, f));
    const hp = (expected[f] as string).replace(/\./g, '\\.');
    assert.match(stderr.split('\n')[0] ?? '', new RegExp(`^The connection to the server ${hp} was refused`), `${f}: ${stderr}`);
  }
});
