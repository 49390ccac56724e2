import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OperationError } from '../errors.js';
import { RealEffects, atomicWrite, mapPath } from './real.js';
import type { Effects, ExecOptions, ExecResult, FileInfo, HttpRequest, HttpResponse, WriteStatus } from './types.js';
import type { AwayClock } from '../util/away.js';

export interface DryRunRecord {
  readonly action: 'write' | 'mkdir' | 'remove' | 'rename' | 'exec' | 'http' | 'wait';
  readonly path?: string;
  readonly mode?: number;
  readonly detail?: string;
  /** http: the request body that would have been sent */
  readonly body?: string;
}

/** A dry run's read of the API server waits this long at most (it only decides what would be created or updated). */
const DRY_RUN_READ_TIMEOUT_MS = 3000;
/** Connection failures that mean no server is there to ask (name lookup, routing, refused, reset, no answer). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EADDRNOTAVAIL', 'EHOSTDOWN', 'ENETDOWN']);

/**
 * Dry-run effects: reads see the real source (host or --root) overlaid with what this run "wrote";
 * writes land in a fresh directory under the OS temp dir (no root needed); commands that change the
 * node (systemctl, …) and mutating HTTP calls are recorded, not run.
 */
export class DryRunEffects implements Effects {
  readonly describe: string;
  readonly dir: string;
  readonly records: DryRunRecord[] = [];
  private readonly source: RealEffects;
  private readonly removed = new Set<string>();
  /** API servers a read found unreachable, by origin, with the reason */
  private readonly unreachable = new Map<string, string>();

  constructor(sourceRoot = '', dir?: string) {
    this.source = new RealEffects(sourceRoot);
    this.dir = dir ?? DryRunEffects.makeDir();
    this.describe = `dry-run ${this.dir}`;
  }
  /** The run's directory under the OS temp dir ($TMPDIR); one that cannot be made is the user's to fix, said so. */
  private static makeDir(): string {
    const parent = tmpdir();
    try {
      return mkdtempSync(path.join(parent, 'kubeboot-init-dryrun-'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'it does not exist' : (err as Error).message;
      throw new OperationError(`cannot make the dry run's directory in ${parent} (${why})`, {
        hint: 'a dry run writes its files into a new directory under the temp dir: set TMPDIR to a directory you can write',
      });
    }
  }
  realPath(hostPath: string): string {
    return mapPath(this.dir, hostPath);
  }
  private overlay(): RealEffects {
    return new RealEffects(this.dir);
  }
  async readFile(hostPath: string): Promise<Buffer | undefined> {
    if (this.removed.has(hostPath)) return undefined;
    return (await this.overlay().readFile(hostPath)) ?? this.source.readFile(hostPath);
  }
  async stat(hostPath: string): Promise<FileInfo | undefined> {
    if (this.removed.has(hostPath)) return undefined;
    return (await this.overlay().stat(hostPath)) ?? this.source.stat(hostPath);
  }
  async listDir(hostPath: string): Promise<string[] | undefined> {
    const a = await this.overlay().listDir(hostPath);
    const b = await this.source.listDir(hostPath);
    if (!a && !b) return undefined;
    const names = new Set([...(a ?? []), ...(b ?? [])]);
    return [...names].filter((n) => !this.removed.has(path.posix.join(hostPath, n))).sort();
  }
  async resolvePath(hostPath: string): Promise<string | undefined> {
    if (this.removed.has(hostPath)) return undefined;
    // the run writes files, never links: a path is resolved as the source has it (or is this run's own)
    return (await this.source.resolvePath(hostPath)) ?? ((await this.overlay().stat(hostPath)) ? hostPath : undefined);
  }
  async writeFileAtomic(hostPath: string, content: string | Buffer, mode: number): Promise<WriteStatus> {
    this.removed.delete(hostPath);
    const current = await this.readFile(hostPath);
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    if (current && current.equals(data)) return 'unchanged';
    await atomicWrite(this.realPath(hostPath), data, mode);
    this.records.push({ action: 'write', path: hostPath, mode });
    return 'written';
  }
  async mkdir(hostPath: string, mode: number): Promise<void> {
    await this.overlay().mkdir(hostPath, mode);
    this.records.push({ action: 'mkdir', path: hostPath, mode });
  }
  async remove(hostPath: string): Promise<void> {
    await this.overlay().remove(hostPath);
    this.removed.add(hostPath);
    this.records.push({ action: 'remove', path: hostPath });
  }
  async rename(from: string, to: string): Promise<void> {
    const data = await this.readFile(from);
    const st = await this.stat(from);
    if (data && st) await atomicWrite(this.realPath(to), data, st.mode);
    await this.overlay().remove(from);
    this.removed.add(from);
    this.records.push({ action: 'rename', path: from, detail: to });
  }
  async exec(command: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    if (opts?.readOnly) return this.source.exec(command, args, opts);
    this.records.push({ action: 'exec', detail: [command, ...args].join(' ') });
    return { exitCode: 0, stdout: '', stderr: '' };
  }
  which(command: string): Promise<string | undefined> {
    return this.source.which(command);
  }
  async http(req: HttpRequest): Promise<HttpResponse> {
    if ((req.method ?? 'GET') !== 'GET') {
      this.records.push({ action: 'http', detail: `${req.method} ${req.url}`, ...(req.body !== undefined ? { body: req.body } : {}) });
      // the request's own object back, as an API server that accepted it would answer
      return { status: req.method === 'POST' ? 201 : 200, body: req.body ?? '{}', headers: {} };
    }
    if (!req.absentWhenUnreachable) return this.source.http(req);
    // no server answers (a dry run on a node without a control plane): nothing exists there yet. A server found
    // unreachable once is not asked again in this run (each attempt could wait for its whole timeout).
    const origin = new URL(req.url).origin;
    let why = this.unreachable.get(origin);
    if (why === undefined) {
      try {
        return await this.source.http({ ...req, timeoutMs: Math.min(req.timeoutMs ?? DRY_RUN_READ_TIMEOUT_MS, DRY_RUN_READ_TIMEOUT_MS) });
      } catch (err) {
        // only a server that is not there: a broken client certificate or TLS failure is still an error
        const code = (err as { code?: string }).code;
        const timedOut = /timed out after/.test((err as Error).message);
        if (!timedOut && (code === undefined || !UNREACHABLE_CODES.has(code))) throw err;
        why = code ?? (err as Error).message;
        this.unreachable.set(origin, why);
      }
    }
    this.records.push({ action: 'http', detail: `GET ${req.url}: not reachable (${why}); taken as not found` });
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `dry run: the API server is not reachable (${why}); taken as not found` };
    return { status: 404, body: JSON.stringify(status), headers: {} };
  }
  httpStream(req: HttpRequest, onLine: (line: string) => boolean | void, signal?: AbortSignal): Promise<HttpResponse> {
    return this.source.httpStream(req, onLine, signal);
  }
  listeningProcess(port: number): Promise<{ pid: number; command: string } | undefined> {
    return this.source.listeningProcess(port);
  }
  portFree(port: number, host?: string): Promise<boolean> {
    return this.source.portFree(port, host);
  }
  now(): Date {
    return this.source.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.source.sleep(ms, signal);
  }
  resolveName(server: string, name: string, timeoutMs: number): Promise<readonly string[]> {
    return this.source.resolveName(server, name, timeoutMs);
  }
  get away(): AwayClock {
    return this.source.away;
  }
  async waitForNode<T>(description: string, _wait: () => Promise<T>): Promise<T | undefined> {
    this.records.push({ action: 'wait', detail: description });
    return undefined;
  }
}
