#!/usr/bin/env node
// Runs the compiled tests with Node's built-in runner.
//   node scripts/run-tests.mjs [--dist DIR] [substring …]
// Every *.test.js under DIR/test (default dist) runs, or only those whose path contains a substring.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
let dist = 'dist';
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--dist') dist = args[++i];
  else filters.push(args[i]);
}
function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const files = walk(join(dist, 'test'))
  .filter((f) => filters.length === 0 || filters.some((s) => relative(dist, f).includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files found under ${join(dist, 'test')}${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}
console.error(`running ${files.length} test file(s): ${files.map((f) => relative(dist, f)).join(' ')}`);
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
