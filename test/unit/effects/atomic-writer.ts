/** Child process for the kill test: rewrites one file forever, alternating two large contents; says when a write is done. */
import { RealEffects } from '../../../src/effects/real.js';

const [root, target] = process.argv.slice(2) as [string, string];
const fx = new RealEffects(root);
const a = Buffer.alloc(4 * 1024 * 1024, 'a');
const b = Buffer.alloc(4 * 1024 * 1024, 'b');
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  await fx.writeFileAtomic(target, i % 2 === 0 ? a : b, 0o600);
  process.stdout.write('wrote\n');
}
