/** The run's abort signal. main.ts installs the handlers: the first Ctrl-C aborts at the next safe point. */
const controller = new AbortController();

export function interruptSignal(): AbortSignal {
  return controller.signal;
}

/** Returns false when the run was already asked to stop (the caller then exits at once). */
export function requestStop(signal: string): boolean {
  if (controller.signal.aborted) return false;
  controller.abort(signal);
  return true;
}
