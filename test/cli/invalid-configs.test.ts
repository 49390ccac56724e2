/**
 * The corpus of invalid configs: each must exit 3, name the field(s), and write nothing. A file's `# expect:` lines must
 * all be in the output and `# problems: N`, when given, is the whole count. The corpus of valid configs
 * (test/fixtures/valid/) must pass `config validate` and a dry-run init.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { TEST_SRC } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const DIR = path.join(TEST_SRC, 'fixtures', 'invalid');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const VALID_DIR = path.join(TEST_SRC, 'fixtures', 'valid');
const validFiles = readdirSync(VALID_DIR).filter((f) => f.endsWith('.yaml')).sort();

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
      // every "# expect:" line must be in the output (all problems at once); "# problems: N" is the whole count
      const text = readFileSync(file, 'utf8');
      const expects = [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1] as string);
      const count = /^# problems: (\d+)$/m.exec(text)?.[1];
      assert.ok(expects.length > 0, `${f} has no "# expect:" line`);
      const root = tempDir(t);
      const r = await runCli(['init', '--root', root, '--config', file]);
      assert.equal(r.code, 3, `exit code for ${f}: ${r.code}\n${r.stderr}`);
      for (const expect of expects) assert.ok(r.stderr.includes(expect), `${f}: stderr does not name "${expect}":\n${r.stderr}`);
      if (count !== undefined) assert.match(r.stderr, new RegExp(`\\(${count} problems?\\)`), `${f}: ${count} problem(s) expected:\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`error: invalid configuration in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without -v');
      assert.deepEqual(listTree(root), [], 'nothing written');
      assert.equal(r.stdout, '', 'nothing on stdout');
    });
  }
});

describe('valid configurations kubeadm accepts', () => {
  for (const f of validFiles) {
    it(f, async (t) => {
      const file = path.join(VALID_DIR, f);
      const v = await runCli(['config', 'validate', '--config', file]);
      assert.equal(v.code, 0, `${f}: ${v.stderr}`);
      assert.match(v.stdout, /^ok: /);
      const root = tempDir(t);
      const r = await runCli(['init', 'phase', 'control-plane', 'all', '--root', root, '--config', file]);
      assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    });
  }
});
