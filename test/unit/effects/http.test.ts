/**
 * The real effects' HTTP requests. The timeout bounds the whole request: a server that accepts the connection and
 * never answers (not even the TLS handshake) fails the request after timeoutMs, not after twice that (Node's idle
 * timeout alone trips twice during a TLS handshake). `kubeboot status` relies on it to end in about its probe timeout.
 * Kept connections are reused per client identity only, survive the server dropping them, and let the process exit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpRequest, keepAliveAgents } from '../../../src/effects/real.js';
import { generateKey, privateKeyPem, type KeyPair } from '../../../src/pki/keys.js';
import type { CertPlan } from '../../../src/pki/plan.js';
import { issueCertificate } from '../../../src/pki/sign.js';
import { keyUsageOf } from '../../../src/pki/table.js';

describe('httpRequest timeout', () => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => void sockets.add(s));
  let port = 0;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const scheme of ['https', 'http']) {
    it(`${scheme}: a server that never answers fails the request after timeoutMs`, async () => {
      const started = Date.now();
      await assert.rejects(httpRequest({ url: `${scheme}://127.0.0.1:${port}/livez`, insecure: true, timeoutMs: 1000 }), /timed out after 1000 ms/);
      const took = Date.now() - started;
      // not before the timeout, and not after two of them (a timeout counted twice: the connect's and the answer's)
      assert.ok(took >= 990 && took < 1900, `took ${took} ms`);
    });
  }
});

/** A CA, a serving certificate for 127.0.0.1 and two client certificates (kubeboot's own signing code). */
async function pki() {
  const [caKey, serverKey, aKey, bKey] = await Promise.all(['ca', 'server', 'a', 'b'].map(() => generateKey('ECDSA-P256')));
  const validity = { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000) };
  const plan = (name: string, isCA: boolean, extKeyUsage: CertPlan['extKeyUsage'], ips: string[] = []): CertPlan => ({
    name,
    commonName: name,
    organization: [],
    isCA,
    keyUsage: keyUsageOf(isCA),
    extKeyUsage,
    dnsNames: [],
    ips,
    validityMs: 3_600_000,
  });
  const ca = await issueCertificate({ plan: plan('test-ca', true, []), validity, publicKey: caKey!.publicKey, signer: { selfSigned: caKey!.privateKey } });
  const signer = { caCertDer: ca.der, caKey: caKey!.privateKey };
  const issue = async (name: string, key: KeyPair, eku: CertPlan['extKeyUsage'], ips?: string[]) => ({
    cert: (await issueCertificate({ plan: plan(name, false, eku, ips), validity, publicKey: key.publicKey, signer })).pem,
    key: privateKeyPem(key.privateKey),
  });
  return { ca: ca.pem, server: await issue('server', serverKey!, ['serverAuth'], ['127.0.0.1']), a: await issue('client-a', aKey!, ['clientAuth']), b: await issue('client-b', bKey!, ['clientAuth']) };
}

describe('httpRequest over kept connections (keepAliveAgents)', () => {
  it('reuses one connection per client identity and never lends one identity\'s connection to another', async (t) => {
    const p = await pki();
    const seen: { conn: number; cn: string }[] = [];
    let conns = 0;
    const server = https.createServer({ ...p.server, ca: p.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const sock = req.socket as import('node:tls').TLSSocket & { n?: number };
      sock.n ??= ++conns;
      seen.push({ conn: sock.n, cn: String(sock.getPeerCertificate().subject?.CN) });
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/api`;
    const agents = keepAliveAgents();
    t.after(() => agents.https.destroy());
    for (const who of ['a', 'a', 'b', 'a', 'b'] as const) {
      const r = await httpRequest({ url, ca: p.ca, ...p[who], timeoutMs: 5000 }, agents);
      assert.equal(r.status, 200);
    }
    assert.deepEqual(seen.map((s) => s.cn), ['client-a', 'client-a', 'client-b', 'client-a', 'client-b']);
    // client-a's requests on one connection, client-b's on another
    const connOf = (cn: string) => new Set(seen.filter((s) => s.cn === cn).map((s) => s.conn));
    assert.equal(connOf('client-a').size, 1);
    assert.equal(connOf('client-b').size, 1);
    assert.notDeepEqual([...connOf('client-a')], [...connOf('client-b')]);
    // without agents: a connection per request
    const before = conns;
    await httpRequest({ url, ca: p.ca, ...p.a, timeoutMs: 5000 });
    await httpRequest({ url, ca: p.ca, ...p.a, timeoutMs: 5000 });
    assert.equal(conns - before, 2);
  });

  it('a kept connection the server dropped while idle: the request goes again on a new one', async (t) => {
    let conns = 0;
    const live = new Set<net.Socket>();
    const server = http.createServer((req, res) => {
      res.end(req.method === 'POST' ? 'created' : 'ok');
    });
    server.on('connection', (s) => {
      conns++;
      live.add(s);
      s.on('close', () => live.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/x`;
    const agents = keepAliveAgents();
    t.after(() => agents.http.destroy());
    assert.equal((await httpRequest({ url, timeoutMs: 5000 }, agents)).body, 'ok');
    // the server resets the idle connection; the client has not noticed yet when the next request takes it
    for (const s of live) s.resetAndDestroy();
    const r = await httpRequest({ url, method: 'POST', body: '{}', timeoutMs: 5000 }, agents);
    assert.equal(r.body, 'created');
    assert.equal(conns, 2);
  });

  it('an idle kept connection does not keep the process alive', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
      const real = new URL('../../../src/effects/real.js', import.meta.url).href;
      const started = Date.now();
      const child = spawn(process.execPath, ['--input-type=module', '-e', `const { RealEffects } = await import(${JSON.stringify(real)}); const r = await new RealEffects().http({ url: ${JSON.stringify(url)} }); console.log(r.body);`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await new Promise((r) => child.once('close', r));
      assert.equal(code, 0);
      assert.equal(out.trim(), 'ok');
      assert.ok(Date.now() - started < 4000, `exited after ${Date.now() - started} ms`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
