/** Typed errors. Each carries the exit code main.ts returns; nothing else calls process.exit. */
export const ExitCode = {
  ok: 0,
  phase: 1,
  preflight: 2,
  config: 3,
  waitTimeout: 4,
  internal: 70,
  interrupt: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class KubebootError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, exitCode: number, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = opts.hint;
  }
}

/** Bad flags, bad config file, bad value: exit 3. `issues` are `path.to.field: message` lines. */
export class ConfigError extends KubebootError {
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [], opts: ErrorOptions = {}) {
    super(message, ExitCode.config, opts);
    this.issues = issues;
  }
}

/** Preflight failures (exit 2); also used for "this node was not set up by kubeboot" refusals. */
export class PreflightError extends KubebootError {
  readonly failures: readonly string[];
  /** the failed checks as data (name and message), for --output json */
  readonly checks: readonly { readonly name: string; readonly message: string }[];
  constructor(message: string, failures: readonly string[] = [], opts: ErrorOptions & { checks?: readonly { name: string; message: string }[] } = {}) {
    super(message, ExitCode.preflight, opts);
    this.failures = failures;
    this.checks = opts.checks ?? [];
  }
}

/** A phase failed (exit 1). The message names the phase path. */
export class PhaseError extends KubebootError {
  readonly phase: string;
  constructor(phase: string, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super(`error execution phase ${phase}: ${inner}`, cause instanceof KubebootError ? cause.exitCode : ExitCode.phase, {
      cause,
      hint: cause instanceof KubebootError ? cause.hint : undefined,
    });
    this.phase = phase;
  }
}

/** A wait ran out of time (exit 4). */
export class WaitTimeoutError extends KubebootError {
  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, ExitCode.waitTimeout, opts);
  }
}

/** A failure inside a phase that is not the user's input (exit 1 once wrapped by the runner). */
export class OperationError extends KubebootError {
  /** one line per thing that failed, printed under the message (like ConfigError's issues) */
  readonly issues: readonly string[];
  constructor(message: string, opts: ErrorOptions & { issues?: readonly string[] } = {}) {
    super(message, ExitCode.phase, opts);
    this.issues = opts.issues ?? [];
  }
}

export class InterruptError extends KubebootError {
  constructor(signal: string) {
    super(`interrupted by ${signal}`, ExitCode.interrupt);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
