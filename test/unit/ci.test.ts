/**
 * What CI runs: npm test on the machine's node, then the portable tier on the other Node.js majors that
 * package.json's engines admits; and the test runner's --node and --tier options.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

describe('CI and the Node.js versions kubeboot claims', () => {
  it('.ci/run runs the portable tier on Node.js 22 and 24, the majors after engines\' 20 that install-node.sh pins', () => {
    const engines = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    assert.equal(engines, '>=20');
    const install = readFileSync(path.join(REPO_ROOT, 'scripts', 'install-node.sh'), 'utf8');
    const pinned = /declare -A PINNED=\(([^)]*)\)/.exec(install)?.[1] ?? '';
    assert.deepEqual([...pinned.matchAll(/\[(\d+)\]=(\d+)\.\d+\.\d+/g)].map((m) => [m[1], m[2]]), [['22', '22'], ['24', '24']]);
    const ci = readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8');
    assert.match(ci, /^npm test$/m, 'the whole suite on the machine\'s node first');
    for (const major of ['22', '24']) assert.match(ci, new RegExp(`node${major}=\\$\\(bash scripts/install-node\\.sh ${major}\\)`));
    assert.match(ci, /for bin in "\$node22" "\$node24"; do\n(?:.*\n)*?\s+node scripts\/run-tests\.mjs --tier portable --node "\$bin"\n/);
    assert.ok(ci.indexOf('npm test') < ci.indexOf('--tier portable'), 'one run at a time: the other majors after npm test');
  });

  it('run-tests.mjs --node runs the tests with that binary; --tier portable leaves out the real-node tier and kubeadm as root', (t) => {
    const dir = tempDir(t);
    const dist = path.join(dir, 'dist');
    const files = ['test/unit/a.test.js', 'test/e2e/b.test.js', 'test/real/node.test.js', 'test/integration/kubeadm-patches.test.js', 'test/integration/etcd.test.js', 'test/oracle/oracle.test.js', 'test/oracle/compare.test.js'];
    for (const f of files) {
      mkdirSync(path.dirname(path.join(dist, f)), { recursive: true });
      writeFileSync(path.join(dist, f), '');
    }
    // a stand-in node: answers --version, records the arguments of the test run
    const fake = path.join(dir, 'node');
    writeFileSync(fake, '#!/bin/sh\nif [ "$1" = --version ]; then echo v99.1.2; exit 0; fi\nprintf "%s\\n" "$@" > "$ARGS_OUT"\n');
    chmodSync(fake, 0o755);
    const run = (...extra: string[]) => {
      const out = path.join(dir, `args-${extra.join('-').replace(/\W/g, '')}`);
      const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'run-tests.mjs'), '--dist', dist, '--node', fake, ...extra], { encoding: 'utf8', env: { ...process.env, ARGS_OUT: out } });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^node v99\.1\.2 \(/m);
      return readFileSync(out, 'utf8').trim().split('\n');
    };
    const rel = (args: string[]) => args.filter((a) => a.endsWith('.test.js')).map((a) => path.relative(dist, a));
    const all = run();
    assert.deepEqual(all.slice(0, 2), ['--test', '--test-reporter=spec']);
    assert.deepEqual(rel(all), [...files].sort());
    assert.deepEqual(rel(run('--tier', 'portable')), ['test/e2e/b.test.js', 'test/integration/etcd.test.js', 'test/oracle/compare.test.js', 'test/unit/a.test.js']);
    assert.deepEqual(rel(run('--tier', 'portable', 'integration')), ['test/integration/etcd.test.js']);
    const bad = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'run-tests.mjs'), '--dist', dist, '--tier', 'nodeless'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--tier: invalid value "nodeless": valid values are all, portable/);
  });
});
