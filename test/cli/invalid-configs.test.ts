/** The corpus of invalid configs: each must exit 3, name the field, and write nothing. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { TEST_SRC } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const DIR = path.join(TEST_SRC, 'fixtures', 'invalid');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

function listTree(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...listTree(p));
  }
  return out;
}

describe('invalid configurations', () => {
  it('the corpus holds at least 40 cases', () => assert.ok(files.length >= 40, `only ${files.length}`));
  for (const f of files) {
    it(f, async (t) => {
      const file = path.join(DIR, f);
      const expect = /^# expect: (.+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
      assert.ok(expect, `${f} has no "# expect:" line`);
      const root = tempDir(t);
      const r = await runCli(['init', '--root', root, '--config', file]);
      assert.equal(r.code, 3, `exit code for ${f}: ${r.code}\n${r.stderr}`);
      assert.ok(r.stderr.includes(expect), `${f}: stderr does not name "${expect}":\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`error: invalid configuration in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without -v');
      assert.deepEqual(listTree(root), [], 'nothing written');
      assert.equal(r.stdout, '', 'nothing on stdout');
    });
  }
});
