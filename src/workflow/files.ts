/**
 * The files a run wrote or found up to date, in order: what init's summary, its JSON result and the dry run print.
 * Phases and the node layer write through writeFile, which writes atomically through the effects, emits the file
 * event and records the file here.
 */
import type { Effects, WriteStatus } from '../effects/types.js';
import type { Output } from './events.js';
import { slot, type Slots } from './slots.js';

export interface FileRecord {
  readonly path: string;
  readonly mode: number;
  readonly status: WriteStatus;
  /** the phase that wrote it */
  readonly by: string;
}

/** Every file the run wrote or left unchanged, in order. */
export const WRITTEN_FILES = slot<FileRecord[]>('written-files');

/** What writing and recording a file needs: effects, output, the run's slots. */
export interface FileWriter {
  readonly fx: Effects;
  readonly out: Output;
  readonly slots: Slots;
}

/** Adds a file to the run's list (a file reused as it is has status 'unchanged'). */
export function recordFile(w: Pick<FileWriter, 'out' | 'slots'>, path: string, mode: number, status: WriteStatus): void {
  const list = w.slots.get(WRITTEN_FILES) ?? [];
  list.push({ path, mode, status, by: w.out.currentPhase ?? 'init' });
  w.slots.set(WRITTEN_FILES, list);
}

/** Writes atomically through the effects, reports the file event and records it. */
export async function writeFile(w: FileWriter, path: string, content: string | Buffer, mode: number): Promise<WriteStatus> {
  const status = await w.fx.writeFileAtomic(path, content, mode);
  w.out.file(path, mode, status);
  recordFile(w, path, mode, status);
  return status;
}
