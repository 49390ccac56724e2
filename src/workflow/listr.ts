/** listr2's tree for a TTY: one task per selected phase, nested like the phase tree. Presentation only. */
import { setListrSink } from './listr-bridge.js';
import type { FlatPhase } from './phase.js';

type Step<C> = (item: FlatPhase<C>) => Promise<unknown>;

export async function runWithListr<C>(list: readonly FlatPhase<C>[], run: Step<C>, selected: ReadonlySet<string>): Promise<void> {
  const { Listr } = await import('listr2');
  const children = (parent: string | undefined) => list.filter((x) => x.parent === parent);
  const hasSelected = (item: FlatPhase<C>): boolean =>
    selected.has(item.path) || list.some((x) => x.path.startsWith(`${item.path}/`) && selected.has(x.path));
  const build = (parent: string | undefined): unknown[] =>
    children(parent)
      .filter(hasSelected)
      .map((item) => ({
        title: item.path,
        rendererOptions: { outputBar: Infinity, persistentOutput: true },
        task: async (_: unknown, task: { newListr: (t: unknown[], o?: unknown) => unknown; output: string }) => {
          setListrSink((line) => {
            task.output = line; // each line is kept: outputBar Infinity + persistentOutput
          });
          try {
            await run(item);
          } finally {
            setListrSink(undefined);
          }
          const sub = build(item.path);
          if (sub.length > 0) return task.newListr(sub, { concurrent: false, exitOnError: true });
          return undefined;
        },
      }));
  const tasks = new Listr(build(undefined) as never, {
    concurrent: false,
    exitOnError: true,
    rendererOptions: { collapseSubtasks: false, showErrorMessage: false } as never,
  });
  await tasks.run();
}
