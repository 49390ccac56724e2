/**
 * Real etcd from the rendered manifest: the built CLI generates the PKI (`init phase certs all`) and the etcd
 * manifest (`init phase etcd local`) into one --root; Debian's etcd then runs with exactly the manifest's
 * command line, only host paths (certificates, data dir) mapped under the test root. Ports come from the
 * config's etcd.local.extraArgs, so the test never touches 2379/2380/2381.
 *
 * Debian's etcd is 3.4: it accepts the 3.5-era flag set and rejects the 3.6 forms, so the config renders the
 * experimental style: kubernetesVersion v1.35.x ('by-tag') with etcd.local.imageTag 3.5.24-0.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseYaml } from '../../src/render/yaml.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTools } from '../helpers/tools.js';

const execFileP = promisify(execFile);
type Obj = Record<string, unknown>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function httpGet(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

async function etcdctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await execFileP('etcdctl', args, { env: cleanEnv({ ETCDCTL_API: '3' }), timeout: 20_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('etcd from the rendered manifest (real etcd)', () => {
  it('starts with the manifest command line, is healthy over mTLS, and refuses a client from another CA', async (t) => {
    if (!requireTools(t, 'etcd', 'etcdctl', 'openssl')) return;
    const work = tempDir(t, 'kubeboot-etcd-it-');
    const root = path.join(work, 'root');
    const [client, peer, metrics] = (await distinctFreePorts(3)) as [number, number, number];
    const config = path.join(work, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: etcd-it
  criSocket: unix:///var/run/containerd/containerd.sock
localAPIEndpoint:
  advertiseAddress: 127.0.0.1
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.35.8
etcd:
  local:
    imageTag: 3.5.24-0
    extraArgs:
    - {name: listen-client-urls, value: "https://127.0.0.1:${client}"}
    - {name: advertise-client-urls, value: "https://127.0.0.1:${client}"}
    - {name: listen-peer-urls, value: "https://127.0.0.1:${peer}"}
    - {name: initial-advertise-peer-urls, value: "https://127.0.0.1:${peer}"}
    - {name: initial-cluster, value: "etcd-it=https://127.0.0.1:${peer}"}
    - {name: listen-metrics-urls, value: "http://127.0.0.1:${metrics}"}
    - {name: logger, value: zap}
`,
    );
    for (const args of [
      ['init', 'phase', 'certs', 'all'],
      ['init', 'phase', 'etcd', 'local'],
    ]) {
      const r = await runCli([...args, '--root', root, '--config', config], { timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
    }

    const manifest = parseYaml(readFileSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'), 'utf8')) as Obj;
    const c = ((manifest.spec as Obj).containers as Obj[])[0] as Obj;
    const cmd = c.command as string[];
    assert.equal(cmd[0], 'etcd');
    assert.ok(cmd.includes('--experimental-initial-corrupt-check=true'), 'experimental flags for an etcd 3.5 tag under 1.35');
    assert.ok(cmd.includes('--experimental-watch-progress-notify-interval=5s'));
    assert.ok(!cmd.some((f) => f.startsWith('--feature-gates=') || f.startsWith('--watch-progress-notify-interval=')));
    assert.deepEqual(c.ports, [{ containerPort: metrics, name: 'probe-port', protocol: 'TCP' }], 'the probe follows listen-metrics-urls');
    assert.deepEqual((c.livenessProbe as Obj).httpGet, { host: '127.0.0.1', path: '/livez', port: 'probe-port', scheme: 'HTTP' });

    // Exactly the manifest's arguments; only absolute host paths move under the test root.
    const hostPaths = ['/etc/kubernetes/', '/var/lib/etcd'];
    const mapped = cmd.slice(1).map((f) => {
      const eq = f.indexOf('=');
      const value = f.slice(eq + 1);
      return hostPaths.some((p) => value.startsWith(p)) ? `${f.slice(0, eq + 1)}${path.join(root, value)}` : f;
    });
    assert.equal(mapped.filter((f, i) => f !== cmd[i + 1]).length, 7, 'cert-file, key-file, trusted-ca-file, peer-cert-file, peer-key-file, peer-trusted-ca-file, data-dir: mapped; nothing else');

    const logs: string[] = [];
    const started = performance.now();
    const proc: ChildProcess = spawn(cmd[0] as string, mapped, { cwd: work, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
    proc.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
    let exited: number | null | undefined;
    proc.on('exit', (code) => (exited = code));
    t.after(async () => {
      if (exited !== undefined) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    });

    // Poll /health on the metrics port (etcd 3.4 has no /livez or /readyz; the manifest keeps kubeadm's paths).
    let health: { status: number; body: string } | undefined;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && exited === undefined) {
      health = await httpGet(`http://127.0.0.1:${metrics}/health`);
      if (health?.status === 200 && JSON.parse(health.body).health === 'true') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const healthyMs = Math.round(performance.now() - started);
    assert.equal(exited, undefined, `etcd exited (${String(exited)}):\n${logs.join('')}`);
    assert.ok(health && health.status === 200, `etcd never became healthy:\n${logs.join('').slice(-3000)}`);
    assert.equal(JSON.parse(health.body).health, 'true');
    t.diagnostic(`etcd start to healthy: ${healthyMs} ms`);

    const pki = path.join(root, 'etc/kubernetes/pki/etcd');
    const endpoint = `--endpoints=https://127.0.0.1:${client}`;
    const tls = [`--cacert=${pki}/ca.crt`, `--cert=${pki}/healthcheck-client.crt`, `--key=${pki}/healthcheck-client.key`];
    const h = await etcdctl([endpoint, ...tls, 'endpoint', 'health', '-w', 'json']);
    assert.equal(h.code, 0, `etcdctl endpoint health:\n${h.stdout}\n${h.stderr}`);
    const parsed = JSON.parse(h.stdout) as { endpoint: string; health: boolean }[];
    assert.deepEqual(parsed.map((x) => [x.endpoint, x.health]), [[`https://127.0.0.1:${client}`, true]]);
    // the client certificate kubeboot issued can write and read too
    assert.equal((await etcdctl([endpoint, ...tls, 'put', 'kubeboot', 'ok'])).code, 0);
    assert.match((await etcdctl([endpoint, ...tls, 'get', 'kubeboot', '--print-value-only'])).stdout, /^ok\n/);

    // A client certificate from another CA is refused.
    const foreign = path.join(work, 'foreign');
    mkdirSync(foreign);
    const ossl = (args: string[]) => execFileP('openssl', args, { cwd: foreign, env: cleanEnv() });
    await ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=foreign-ca', '-days', '1']);
    await ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=kube-etcd-healthcheck-client']);
    writeFileSync(path.join(foreign, 'ext.cnf'), 'extendedKeyUsage=clientAuth\n');
    await ossl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1', '-extfile', 'ext.cnf']);
    const bad = await etcdctl([
      endpoint,
      `--cacert=${pki}/ca.crt`,
      `--cert=${foreign}/client.crt`,
      `--key=${foreign}/client.key`,
      '--command-timeout=3s',
      '--dial-timeout=3s',
      'endpoint',
      'health',
      '-w',
      'json',
    ]);
    assert.notEqual(bad.code, 0, `a foreign client certificate was accepted:\n${bad.stdout}\n${bad.stderr}`);
    assert.match(`${bad.stdout}\n${bad.stderr}`, /unhealthy|bad certificate|unknown authority|deadline/);
    t.diagnostic(`foreign client refused: ${`${bad.stdout}${bad.stderr}`.trim().split('\n')[0]}`);
    // the server side says why: the client certificate does not chain to kubeboot's etcd CA
    assert.match(logs.join(''), /certificate signed by unknown authority/, 'etcd logged the rejected handshake');
  });
});
