/** Everything kubeboot tells the user is one of these events; reporters decide how it looks. */
export type KubebootEvent =
  | { type: 'phase'; phase: string; status: 'started' | 'finished' | 'skipped' | 'failed'; durationMs?: number; reason?: string }
  | { type: 'log'; tag: string; message: string; phase?: string }
  | { type: 'file'; path: string; mode: string; status: 'written' | 'unchanged' | 'removed' | 'backed-up'; phase?: string }
  | { type: 'object'; kind: string; name: string; namespace?: string; status: 'created' | 'updated' | 'unchanged' | 'retained' | 'patched'; phase?: string }
  | { type: 'warning'; message: string; phase?: string }
  | { type: 'wait'; target: string; status: 'waiting' | 'progress' | 'ready' | 'failed'; message: string; data?: Record<string, unknown> }
  | { type: 'error'; message: string; exitCode: number; hint?: string; issues?: readonly string[] }
  | { type: 'result'; command: string; data: Record<string, unknown> };

export interface Reporter {
  emit(event: KubebootEvent): void;
  /** flushes and tears down (listr2) */
  close?(): void;
}

/** The facade phases use: kubeadm-style lines, warnings, file events, and anything else. */
export class Output {
  currentPhase: string | undefined;
  constructor(
    private readonly reporter: Reporter,
    /** the run changes nothing (--dry-run): action() says what would be done */
    public simulated = false,
  ) {}
  /**
   * An action a step takes, worded by the run rather than by the step: "Removing X" in a run that acts, "Would remove
   * X" in a dry run. Either text may be omitted (nothing is said in that mode). Steps never ask whether they are a
   * dry run: the effects decide what happens, this decides how it reads.
   */
  action(tag: string, text: { readonly doing?: string; readonly would?: string }): void {
    const message = this.simulated ? text.would : text.doing;
    if (message !== undefined) this.log(tag, message);
  }
  log(tag: string, message: string): void {
    this.reporter.emit({ type: 'log', tag, message, ...(this.currentPhase ? { phase: this.currentPhase } : {}) });
  }
  warn(message: string): void {
    this.reporter.emit({ type: 'warning', message, ...(this.currentPhase ? { phase: this.currentPhase } : {}) });
  }
  file(path: string, mode: number, status: 'written' | 'unchanged' | 'removed' | 'backed-up'): void {
    this.reporter.emit({
      type: 'file',
      path,
      mode: `0${mode.toString(8)}`,
      status,
      ...(this.currentPhase ? { phase: this.currentPhase } : {}),
    });
  }
  emit(event: KubebootEvent): void {
    this.reporter.emit(event);
  }
}
