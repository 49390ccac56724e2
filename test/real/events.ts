/** The JSON lines kubeboot prints with --output json, as the real-tier tests read them. */
import assert from 'node:assert/strict';
import type { ExecResult } from './node.js';

export interface JsonEvent {
  type: string;
  status?: string;
  target?: string;
  message?: string;
  path?: string;
  exitCode?: number;
  data?: Record<string, unknown>;
}

/** Every stdout line as an event; a line that is not JSON fails, naming it. */
export function jsonLines(r: ExecResult): JsonEvent[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as JsonEvent;
      } catch {
        throw new Error(`stdout line ${i + 1} is not JSON: ${l}`);
      }
    });
}

/** The data of the one result event. */
export function resultOf(r: ExecResult): Record<string, unknown> {
  const ev = jsonLines(r).filter((e) => e.type === 'result');
  assert.equal(ev.length, 1, `one result event\n${r.stdout}`);
  return (ev[0] as JsonEvent).data ?? {};
}
