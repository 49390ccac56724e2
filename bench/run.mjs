// Runs every benchmark script in bench/ (each prints its own figures and ratios).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
for (const f of readdirSync(dir).filter((x) => x.endsWith('.mjs') && x !== 'run.mjs').sort()) {
  if (only.length && !only.some((o) => f.includes(o))) continue;
  console.log(`\n== bench/${f}`);
  const r = spawnSync(process.execPath, [path.join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
