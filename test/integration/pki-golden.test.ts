/**
 * Golden PKI plans: test/golden/pki-<case>/config.yaml → expected-plan.json (subjects, issuers, SANs,
 * usages, validity lengths, key types; no PEM). Each case is checked twice: the pure planner
 * (planPki on the loaded spec) and the files the built CLI actually writes must both equal the golden
 * file exactly. UPDATE_GOLDEN=1 rewrites expected-plan.json from the files on disk.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { activeCertRows, planPki } from '../../src/pki/plan.js';
import { KUBECONFIG_TABLE } from '../../src/pki/table.js';
import { TEST_HOST } from '../helpers/host.js';
import { TEST_SRC } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { phase, viewFromDisk, viewFromPlan } from '../unit/pki/support.js';

const GOLDEN = path.join(TEST_SRC, 'golden');
const cases = readdirSync(GOLDEN).filter((d) => d.startsWith('pki-')).sort();

test('there are golden PKI cases', () => {
  assert.ok(cases.length >= 7, `found ${cases.join(', ')}`);
});

for (const name of cases) {
  test(`golden ${name}`, async (t) => {
    const dir = path.join(GOLDEN, name);
    const configPath = path.join(dir, 'config.yaml');
    const expectedPath = path.join(dir, 'expected-plan.json');
    const text = readFileSync(configPath, 'utf8');

    const loaded = await loadConfig({ path: configPath, text }, {}, TEST_HOST);
    const warnings: string[] = [];
    const plan = planPki(loaded.spec, (m) => warnings.push(m));
    assert.deepEqual(warnings, [], 'config validation already rejects invalid SANs');
    const planned = viewFromPlan(plan, loaded.spec.encryptionAlgorithm, true);

    const root = tempDir(t, 'kubeboot-golden-');
    const a = await phase('certs', root, configPath);
    assert.equal(a.code, 0, a.stderr);
    const b = await phase('kubeconfig', root, configPath);
    assert.equal(b.code, 0, b.stderr);
    const onDisk = await viewFromDisk(
      root,
      activeCertRows(loaded.spec).map((r) => r.baseName),
      KUBECONFIG_TABLE.map((r) => r.file),
    );
    assert.deepEqual(onDisk, planned, 'the files on disk are what the planner predicts');

    const json = `${JSON.stringify(onDisk, null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(expectedPath, json);
    assert.ok(existsSync(expectedPath), `${expectedPath} is missing (run with UPDATE_GOLDEN=1 to create it)`);
    assert.equal(json, readFileSync(expectedPath, 'utf8'), `${name}: PKI differs from ${expectedPath}`);
  });
}
