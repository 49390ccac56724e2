/**
 * The one interface to the outside world: disk, processes, network and clock. Phases and render code
 * never import fs, execa or https; they get an Effects value. Every path given to Effects is a *host*
 * path (/etc/kubernetes/...); an implementation maps it under --root (or a dry-run directory).
 */
import type { AwayClock } from '../util/away.js';

export type WriteStatus = 'written' | 'unchanged';

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly timeoutMs?: number;
  /** the command only reads (systemctl list-unit-files, crictl ps): the dry-run twin runs it too */
  readonly readOnly?: boolean;
  readonly input?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface HttpRequest {
  readonly url: string;
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** PEM blobs for mutual TLS */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** skip server certificate verification (kubeadm's component health checks do this) */
  readonly insecure?: boolean;
  readonly timeoutMs?: number;
  /**
   * A GET of an API object whose absence is an answer the caller handles (it will then create the object). The
   * dry-run twin answers such a read with 404 NotFound when the server cannot be reached at all, as kubeadm's dry-run
   * client answers from its empty object tracker: on a node with no API server yet, nothing exists. Real effects
   * ignore it.
   */
  readonly absentWhenUnreachable?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface FileInfo {
  readonly kind: 'file' | 'dir' | 'other';
  readonly mode: number; // permission bits
  readonly size: number;
  /** the owner's uid, where the implementation knows it (the real effects) */
  readonly uid?: number;
}

export interface Effects {
  /** A short label for messages: "host", "root /tmp/x", "dry-run /tmp/kubeboot-init-dryrun-…". */
  readonly describe: string;
  /** Where a host path really lives (for messages and for tests); identity without --root. */
  realPath(hostPath: string): string;

  readFile(hostPath: string): Promise<Buffer | undefined>;
  stat(hostPath: string): Promise<FileInfo | undefined>;
  /** Names in a directory, sorted; undefined when it does not exist. */
  listDir(hostPath: string): Promise<string[] | undefined>;
  /**
   * The host path with its symbolic links resolved (as the kernel's mount table names it), or undefined when it does
   * not exist. Under --root the result is a host path again (undefined when a link leads out of the root).
   */
  resolvePath(hostPath: string): Promise<string | undefined>;
  /** Atomic: dot-prefixed temp file in the same directory, fsync, chmod, rename, fsync the directory. */
  writeFileAtomic(hostPath: string, content: string | Buffer, mode: number): Promise<WriteStatus>;
  mkdir(hostPath: string, mode: number): Promise<void>;
  /** Removes a file or directory tree; no error when absent. */
  remove(hostPath: string): Promise<void>;
  rename(fromHostPath: string, toHostPath: string): Promise<void>;

  exec(command: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Absolute path of an executable on PATH, or undefined. */
  which(command: string): Promise<string | undefined>;
  http(req: HttpRequest): Promise<HttpResponse>;
  /**
   * A streaming GET (a Kubernetes watch): each line of a 200 response goes to onLine as it arrives; the promise
   * settles when the server ends the response, when onLine returns true (done), or when the signal aborts. A non-200
   * response is returned whole, like http().
   */
  httpStream(req: HttpRequest, onLine: (line: string) => boolean | void, signal?: AbortSignal): Promise<HttpResponse>;
  /** true when nothing listens on host:port and it can be bound. */
  portFree(port: number, host?: string): Promise<boolean>;
  /**
   * The process that listens on a TCP port (any address) in this network namespace, as /proc shows it: its pid and
   * its command (argv[0]); undefined when none can be seen (nothing listens, or /proc does not tell this user).
   */
  listeningProcess(port: number): Promise<{ readonly pid: number; readonly command: string } | undefined>;

  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;

  /**
   * Waits for the node to act on this run's changes (the kubelet starting or stopping pods, a port becoming free):
   * runs `wait` and returns its result. The dry-run twin changed nothing the node could act on: it records
   * `description` and returns undefined at once, so that no step needs to ask whether it is a dry run.
   */
  waitForNode<T>(description: string, wait: () => Promise<T>): Promise<T | undefined>;

  /** Time this run spent waiting on the node (waitForNode, sleep) and on key generation; see util/away.ts. */
  readonly away: AwayClock;

  /** The A and AAAA answers of one DNS server (an address) for a name; rejects when it does not answer in time. */
  resolveName(server: string, name: string, timeoutMs: number): Promise<readonly string[]>;
}
