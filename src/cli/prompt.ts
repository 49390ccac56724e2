/** kubeadm's yes/no question ("[y/N]"): only "y" or "yes" (any case) proceeds; end of input means no. */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export async function askYesNo(input: Readable, output: Writable, question: string): Promise<boolean> {
  const rl = createInterface({ input, output, terminal: false });
  try {
    const answer = await new Promise<string | undefined>((resolve) => {
      rl.once('close', () => resolve(undefined));
      rl.question(question, (a) => resolve(a));
    });
    return answer !== undefined && /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
