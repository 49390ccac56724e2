/** Free loopback ports for a test (bind :0, read the port, close). */
import * as net from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** n distinct free ports. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const out = new Set<number>();
  for (let i = 0; out.size < n && i < n * 20; i++) out.add(await freePort(host));
  if (out.size < n) throw new Error(`could not find ${n} free ports`);
  return [...out];
}
