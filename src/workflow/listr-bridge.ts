/** While listr2 draws its tree, lines go to the running task's output instead of stdout. */
let sink: ((line: string) => void) | undefined;

export function setListrSink(fn: ((line: string) => void) | undefined): void {
  sink = fn;
}

export function toListr(line: string): boolean {
  if (!sink) return false;
  sink(line);
  return true;
}
