/**
 * A fake Effects for unit tests: an in-memory file tree, a manual clock, and an exec table that throws on any
 * command the test did not expect.
 */
import type { Effects, ExecOptions, ExecResult, FileInfo, HttpRequest, HttpResponse, WriteStatus } from '../../src/effects/types.js';
import { AwayClock } from '../../src/util/away.js';

export type ExecHandler = (args: readonly string[], opts?: ExecOptions) => ExecResult | Promise<ExecResult>;
export type HttpHandler = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

export class FakeEffects implements Effects {
  readonly away = new AwayClock();
  readonly describe = 'fake';
  readonly files = new Map<string, { data: Buffer; mode: number }>();
  readonly dirs = new Map<string, number>();
  readonly execCalls: string[] = [];
  readonly writes: string[] = [];
  /**
   * Model the dry-run twin (src/effects/dryrun.ts) as far as phases see it: commands that change the node are recorded
   * in `simulated` instead of run, and a wait for the node to act is not made.
   */
  simulate = false;
  readonly simulated: string[] = [];
  exec_: Record<string, ExecHandler> = {};
  http_: HttpHandler = (req) => {
    throw new Error(`unexpected HTTP request ${req.method ?? 'GET'} ${req.url}`);
  };
  busyPorts = new Set<number>();
  onPath = new Set<string>();
  clock = Date.parse('2026-01-01T00:00:00Z');

  realPath(p: string): string {
    return p;
  }
  async readFile(p: string): Promise<Buffer | undefined> {
    return this.files.get(p)?.data;
  }
  async stat(p: string): Promise<FileInfo | undefined> {
    const f = this.files.get(p);
    if (f) return { kind: 'file', mode: f.mode, size: f.data.length };
    if (this.dirs.has(p) || [...this.files.keys()].some((k) => k.startsWith(`${p}/`))) {
      return { kind: 'dir', mode: this.dirs.get(p) ?? 0o755, size: 0 };
    }
    return undefined;
  }
  async listDir(p: string): Promise<string[] | undefined> {
    const names = new Set<string>();
    for (const k of [...this.files.keys(), ...this.dirs.keys()]) {
      if (k.startsWith(`${p}/`)) names.add(k.slice(p.length + 1).split('/')[0] as string);
    }
    if (names.size === 0 && !this.dirs.has(p)) return undefined;
    return [...names].sort();
  }
  /** symbolic links: a path → the path it resolves to */
  readonly links = new Map<string, string>();
  async resolvePath(p: string): Promise<string | undefined> {
    const target = this.links.get(p) ?? p;
    return (await this.stat(target)) ? target : undefined;
  }
  async writeFileAtomic(p: string, content: string | Buffer, mode: number): Promise<WriteStatus> {
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    const cur = this.files.get(p);
    if (cur && cur.data.equals(data)) {
      cur.mode = mode;
      return 'unchanged';
    }
    this.files.set(p, { data, mode });
    this.writes.push(p);
    return 'written';
  }
  async mkdir(p: string, mode: number): Promise<void> {
    this.dirs.set(p, mode);
  }
  async remove(p: string): Promise<void> {
    for (const k of [...this.files.keys()]) if (k === p || k.startsWith(`${p}/`)) this.files.delete(k);
    for (const k of [...this.dirs.keys()]) if (k === p || k.startsWith(`${p}/`)) this.dirs.delete(k);
  }
  async rename(from: string, to: string): Promise<void> {
    const f = this.files.get(from);
    if (!f) throw new Error(`ENOENT: ${from}`);
    this.files.delete(from);
    this.files.set(to, f);
  }
  async exec(command: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    if (this.simulate && !opts?.readOnly) {
      this.simulated.push([command, ...args].join(' '));
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    this.execCalls.push([command, ...args].join(' '));
    const h = this.exec_[command];
    if (!h) throw new Error(`unexpected command: ${[command, ...args].join(' ')}`);
    return h(args, opts);
  }
  async which(command: string): Promise<string | undefined> {
    return this.onPath.has(command) ? `/usr/bin/${command}` : undefined;
  }
  async http(req: HttpRequest): Promise<HttpResponse> {
    return this.http_(req);
  }
  async portFree(port: number): Promise<boolean> {
    return !this.busyPorts.has(port);
  }
  now(): Date {
    return new Date(this.clock);
  }
  /** a watch: the handler gives the lines of the stream (default: none; the stream ends at once) */
  stream_: (req: HttpRequest) => { status: number; lines: string[] } = () => ({ status: 200, lines: [] });
  async httpStream(req: HttpRequest, onLine: (line: string) => boolean | void): Promise<HttpResponse> {
    const r = this.stream_(req);
    if (r.status !== 200) return { status: r.status, body: r.lines.join('\n'), headers: {} };
    for (const l of r.lines) if (onLine(l) === true) break;
    return { status: 200, body: '', headers: {} };
  }
  /** the processes listening on busy ports, by port */
  readonly listeners = new Map<number, { pid: number; command: string }>();
  async listeningProcess(port: number): Promise<{ pid: number; command: string } | undefined> {
    return this.listeners.get(port);
  }
  /** DNS answers by `${server} ${name}` (absent: the server does not answer) */
  readonly dns = new Map<string, string[]>();
  async resolveName(server: string, name: string): Promise<readonly string[]> {
    const a = this.dns.get(`${server} ${name}`);
    if (!a) throw Object.assign(new Error(`queryA ETIMEOUT ${name}`), { code: 'ETIMEOUT' });
    return a;
  }
  waitForNode<T>(description: string, wait: () => Promise<T>): Promise<T | undefined> {
    if (this.simulate) {
      this.simulated.push(`wait for ${description}`);
      return Promise.resolve(undefined);
    }
    return wait();
  }
  async sleep(ms: number): Promise<void> {
    this.clock += ms;
  }
}
