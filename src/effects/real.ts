import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { AwayClock } from '../util/away.js';
import type {
  Effects,
  ExecOptions,
  ExecResult,
  FileInfo,
  HttpRequest,
  HttpResponse,
  WriteStatus,
} from './types.js';

/** Maps a host path under root ("" means the real host). */
export function mapPath(root: string, hostPath: string): string {
  if (!path.isAbsolute(hostPath)) throw new Error(`internal: effects need absolute host paths, got "${hostPath}"`);
  return root === '' ? hostPath : path.join(root, hostPath);
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, fsc.O_RDONLY);
    await fh.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh?.close();
  }
}

/** Parents that had to be created get 0755 unless a caller made them first with another mode. */
async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
}

export async function atomicWrite(real: string, content: string | Buffer, mode: number): Promise<WriteStatus> {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  const existing = await fs.readFile(real).catch(() => undefined);
  if (existing && existing.equals(data)) {
    const st = await fs.stat(real);
    if ((st.mode & 0o777) !== mode) await fs.chmod(real, mode);
    return 'unchanged';
  }
  const dir = path.dirname(real);
  await ensureDir(dir);
  const tmp = path.join(dir, `.${path.basename(real)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode); // the umask may have narrowed the open mode
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fs.rename(tmp, real);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
  return 'written';
}

/**
 * Keep-alive connections, one pool per RealEffects. A wait polls the same endpoints every 50–100 ms and init's later
 * phases make some 60 requests to one API server; on a new TLS connection each, every request pays a full handshake
 * on both sides (measured: 7.5 ms a request, 0.8 ms on a kept connection, Node to Node on loopback), CPU that a control
 * plane starting on a small machine needs. Node pools connections by their TLS identity (CA, client certificate and
 * key, verification), so clients with different credentials never share one; an idle connection does not keep the
 * process alive.
 */
export interface HttpAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

export function keepAliveAgents(): HttpAgents {
  return { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
}

/**
 * One request (a new connection each when `agents` is not given). A kept connection the server closed while it was
 * idle fails the next request with ECONNRESET before any answer: that request is sent once more on a new connection
 * (the server never read it).
 */
export async function httpRequest(req: HttpRequest, agents?: HttpAgents): Promise<HttpResponse> {
  try {
    return await httpRequestOnce(req, agents);
  } catch (err) {
    if (agents && (err as { reusedSocket?: boolean }).reusedSocket === true && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
      return httpRequestOnce(req, undefined);
    }
    throw err;
  }
}

function httpRequestOnce(req: HttpRequest, agents: HttpAgents | undefined): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method: req.method ?? 'GET',
      headers: { ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}), ...req.headers },
      timeout: req.timeoutMs ?? 5000,
      agent: agents ? (isHttps ? agents.https : agents.http) : false,
    };
    if (isHttps) {
      if (req.ca !== undefined) options.ca = req.ca;
      if (req.cert !== undefined) options.cert = req.cert;
      if (req.key !== undefined) options.key = req.key;
      options.rejectUnauthorized = !req.insecure;
    }
    let answered = false;
    const r = (isHttps ? https : http).request(url, options, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers });
      });
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`request to ${req.url} timed out after ${options.timeout} ms`)));
    // `timeout` is an idle timeout, and an HTTPS server that accepts the connection but never answers the TLS
    // handshake only trips it after twice its time: the deadline below bounds the whole request
    const deadline = setTimeout(() => r.destroy(new Error(`request to ${req.url} timed out after ${options.timeout} ms`)), options.timeout);
    r.on('close', () => clearTimeout(deadline));
    r.on('error', (err) => reject(r.reusedSocket && !answered ? Object.assign(err, { reusedSocket: true }) : err));
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

export function httpStreamRequest(req: HttpRequest, onLine: (line: string) => boolean | void, signal?: AbortSignal): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      resolve({ status: 0, body: '', headers: {} });
      return;
    }
    const url = new URL(req.url);
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = { method: 'GET', headers: { ...req.headers }, agent: false };
    if (isHttps) {
      if (req.ca !== undefined) options.ca = req.ca;
      if (req.cert !== undefined) options.cert = req.cert;
      if (req.key !== undefined) options.key = req.key;
      options.rejectUnauthorized = !req.insecure;
    }
    let settled = false;
    const done = (r: HttpResponse) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const r = (isHttps ? https : http).request(url, options, (res) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done({ status, body: Buffer.concat(chunks).toString('utf8'), headers }));
        res.on('error', reject);
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim() !== '' && onLine(line) === true) {
            done({ status, body: '', headers });
            r.destroy();
            return;
          }
        }
      });
      res.on('end', () => {
        if (buf.trim() !== '') onLine(buf);
        done({ status, body: '', headers });
      });
      res.on('error', (e) => (settled ? undefined : reject(e)));
    });
    const onAbort = () => {
      done({ status: 0, body: '', headers: {} });
      r.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (req.timeoutMs !== undefined) r.setTimeout(req.timeoutMs, () => r.destroy(new Error(`watch ${req.url} timed out after ${req.timeoutMs} ms`)));
    r.on('error', (e) => (settled ? undefined : reject(e)));
    r.end();
  });
}

/**
 * The process listening on a TCP port: the LISTEN sockets of /proc/net/tcp and tcp6 for that port, then the process
 * holding one of those socket inodes (/proc/<pid>/fd), then its argv[0]. Best effort: unreadable entries are skipped.
 */
export async function findListeningProcess(port: number, proc = '/proc'): Promise<{ pid: number; command: string } | undefined> {
  const inodes = new Set<string>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = await fs.readFile(`${proc}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local || f[3] !== '0A') continue; // 0A: TCP_LISTEN
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && f[9]) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = (await fs.readdir(proc)).filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await fs.readdir(`${proc}/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = await fs.readlink(`${proc}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (!m || !inodes.has(m[1] as string)) continue;
      let command = '';
      try {
        command = (await fs.readFile(`${proc}/${pid}/cmdline`, 'utf8')).split('\0')[0] ?? '';
      } catch {
        // gone, or not ours to read
      }
      return { pid: Number(pid), command };
    }
  }
  return undefined;
}

export function checkPortFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function whichOnPath(command: string, envPath = process.env.PATH ?? ''): Promise<string | undefined> {
  if (command.includes('/')) {
    return (await fs.access(command, fsc.X_OK).then(() => true, () => false)) ? command : undefined;
  }
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, command);
    try {
      const st = await fs.stat(p);
      if (st.isFile()) {
        await fs.access(p, fsc.X_OK);
        return p;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function runCommand(command: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const { execa } = await import('execa');
  const r = await execa(command, [...args], {
    reject: false,
    timeout: opts.timeoutMs,
    input: opts.input,
    env: opts.env,
    stripFinalNewline: false,
  });
  if (r.failed && r.exitCode === undefined) {
    throw new Error(`could not run ${command}: ${r.shortMessage ?? r.message}`);
  }
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** The real effects: the host, or every path under `root` when --root is given. */
export class RealEffects implements Effects {
  readonly describe: string;
  readonly away = new AwayClock();
  private readonly agents = keepAliveAgents();
  constructor(readonly root: string = '') {
    this.describe = root === '' ? 'host' : `root ${root}`;
  }
  realPath(hostPath: string): string {
    return mapPath(this.root, hostPath);
  }
  async readFile(hostPath: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.realPath(hostPath));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  async stat(hostPath: string): Promise<FileInfo | undefined> {
    try {
      const st = await fs.stat(this.realPath(hostPath));
      return { kind: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other', mode: st.mode & 0o777, size: st.size, uid: st.uid };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  async listDir(hostPath: string): Promise<string[] | undefined> {
    try {
      return (await fs.readdir(this.realPath(hostPath))).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  }
  async resolvePath(hostPath: string): Promise<string | undefined> {
    let resolved: string;
    try {
      resolved = await fs.realpath(this.realPath(hostPath));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
      throw err;
    }
    if (this.root === '') return resolved;
    const rel = path.relative(this.root, resolved);
    return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : `/${rel}`;
  }
  writeFileAtomic(hostPath: string, content: string | Buffer, mode: number): Promise<WriteStatus> {
    return atomicWrite(this.realPath(hostPath), content, mode);
  }
  async mkdir(hostPath: string, mode: number): Promise<void> {
    const real = this.realPath(hostPath);
    if (await fs.stat(real).then(() => true, () => false)) return;
    // missing parents get 0755 (as kubeadm's MkdirAll of /etc/kubernetes/pki leaves /etc/kubernetes); only the
    // directory asked for gets `mode`: a 0700 state directory must not make /etc/kubernetes 0700
    await ensureDir(path.dirname(real));
    await fs.mkdir(real, { mode }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await fs.chmod(real, mode);
  }
  async remove(hostPath: string): Promise<void> {
    await fs.rm(this.realPath(hostPath), { recursive: true, force: true });
  }
  async rename(from: string, to: string): Promise<void> {
    await ensureDir(path.dirname(this.realPath(to)));
    await fs.rename(this.realPath(from), this.realPath(to));
    await fsyncDir(path.dirname(this.realPath(to)));
  }
  exec(command: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return runCommand(command, args, opts);
  }
  which(command: string): Promise<string | undefined> {
    return whichOnPath(command);
  }
  http(req: HttpRequest): Promise<HttpResponse> {
    return httpRequest(req, this.agents);
  }
  httpStream(req: HttpRequest, onLine: (line: string) => boolean | void, signal?: AbortSignal): Promise<HttpResponse> {
    return httpStreamRequest(req, onLine, signal);
  }
  listeningProcess(port: number): Promise<{ pid: number; command: string } | undefined> {
    return findListeningProcess(port);
  }
  portFree(port: number, host?: string): Promise<boolean> {
    return checkPortFree(port, host);
  }
  now(): Date {
    return new Date();
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    await this.away.time('node', () => delay(ms, undefined, signal ? { signal } : undefined));
  }
  async resolveName(server: string, name: string, timeoutMs: number): Promise<readonly string[]> {
    const { Resolver } = await import('node:dns/promises');
    const r = new Resolver({ timeout: Math.max(100, timeoutMs), tries: 1 });
    r.setServers([server]);
    const settle = (p: Promise<string[]>) => p.catch((err: NodeJS.ErrnoException) => (err.code === 'ENODATA' || err.code === 'ENOTFOUND' ? [] : Promise.reject(err)));
    const [a, aaaa] = await Promise.all([settle(r.resolve4(name)), settle(r.resolve6(name))]);
    return [...a, ...aaaa];
  }
  waitForNode<T>(_description: string, wait: () => Promise<T>): Promise<T | undefined> {
    return this.away.time('node', wait);
  }
}
