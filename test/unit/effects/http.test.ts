/**
 * The real effects' HTTP timeout bounds the whole request: a server that accepts the connection and never answers
 * (not even the TLS handshake) fails the request after timeoutMs, not after twice that (Node's idle timeout alone
 * trips twice during a TLS handshake). `kubeboot status` relies on it to end in about its probe timeout.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpRequest } from '../../../src/effects/real.js';

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
