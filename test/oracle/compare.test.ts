/**
 * The oracle's own machinery, without kubeadm: the comparison finds each kind of difference it claims to find
 * (and nothing on identical trees), and the tier gate skips with the build command, or fails under CI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { requireTools } from '../helpers/tools.js';
import { tempDir } from '../helpers/tmp.js';
import { compareTrees, splitKubeconfig, type Difference } from './compare.js';
import { BUILD_COMMAND, oracleMissing, requireOracle } from './tier.js';

/** A self-signed CA made by openssl, as PEM (certificate, key). */
function ca(dir: string, name: string, subj: string, days: number, sans: string): { crt: string; key: string } {
  const crt = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-subj', subj, '-days', String(days), '-addext', `subjectAltName=${sans}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign'], { stdio: 'ignore' });
  return { crt: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
}

function kubeconfig(caPem: string, server: string): string {
  const b64 = Buffer.from(caPem).toString('base64');
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64}
    server: ${server}
  name: kubernetes
kind: Config
`;
}

function tree(root: string, files: Record<string, string>): string {
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), body, { mode: rel.endsWith('.crt') ? 0o644 : 0o600 });
    chmodSync(path.join(root, rel), rel.endsWith('.crt') ? 0o644 : 0o600);
  }
  return root;
}

const fields = (d: readonly Difference[]): string[] => d.map((x) => `${x.file} · ${x.field}`).sort();

describe('oracle comparison', () => {
  it('finds nothing between identical trees, and each kind of difference between two that differ', (t) => {
    if (!requireTools(t, 'openssl')) return;
    const dir = tempDir(t, 'kubeboot-oracle-compare-');
    const keys = path.join(dir, 'keys');
    mkdirSync(keys);
    const a1 = ca(keys, 'a', '/CN=kubernetes', 3650, 'DNS:kubernetes,IP:192.0.2.1');
    const b1 = ca(keys, 'b', '/O=example/CN=kubernetes', 365, 'IP:192.0.2.1,DNS:kubernetes');
    const manifest = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - command:\n    - x\n    - --a=1\n    - --b=2\n';
    const a = tree(path.join(dir, 'a'), {
      'etc/kubernetes/manifests/x.yaml': manifest,
      'etc/kubernetes/pki/ca.crt': a1.crt,
      'etc/kubernetes/pki/ca.key': a1.key,
      'etc/kubernetes/admin.conf': kubeconfig(a1.crt, 'https://192.0.2.1:6443'),
    });
    const same = path.join(dir, 'same');
    cpSync(a, same, { recursive: true, preserveTimestamps: true });
    const now = Date.now();
    const opts = { config: 'self-test', toleranceSeconds: 5 };
    assert.deepEqual(compareTrees(opts, { out: a, startedAt: now }, { out: same, startedAt: now }), []);

    const b = tree(path.join(dir, 'b'), {
      'etc/kubernetes/manifests/x.yaml': manifest.replace('    - --a=1\n    - --b=2\n', '    - --b=2\n    - --a=1\n'),
      'etc/kubernetes/pki/ca.crt': b1.crt,
      'etc/kubernetes/pki/ca.key': b1.key,
      'etc/kubernetes/admin.conf': kubeconfig(b1.crt, 'https://192.0.2.1:6443').replace('kind: Config\n', 'kind: Config\npreferences: {}\n'),
      'etc/kubernetes/extra.txt': 'x',
    });
    chmodSync(path.join(b, 'etc/kubernetes/pki/ca.key'), 0o640);
    const diffs = compareTrees(opts, { out: a, startedAt: now }, { out: b, startedAt: now });
    const got = fields(diffs);
    for (const expected of [
      'etc/kubernetes/manifests/x.yaml · bytes',
      'etc/kubernetes/extra.txt · presence',
      'etc/kubernetes/pki/ca.key · mode',
      'etc/kubernetes/pki/ca.crt · subject',
      'etc/kubernetes/pki/ca.crt · issuer',
      'etc/kubernetes/pki/ca.crt · subjectAltName',
      'etc/kubernetes/pki/ca.crt · validity',
      'etc/kubernetes/admin.conf · bytes (embedded data set aside)',
      'etc/kubernetes/admin.conf certificate-authority-data · subject',
      'etc/kubernetes/admin.conf certificate-authority-data · validity',
    ]) {
      assert.ok(got.includes(expected), `missing ${expected} in:\n${got.join('\n')}`);
    }
    const manifestDiff = diffs.find((d) => d.file === 'etc/kubernetes/manifests/x.yaml')?.diff ?? '';
    assert.match(manifestDiff, /^-    - --a=1$/m);
    assert.match(manifestDiff, /^\+    - --a=1$/m);
    const san = diffs.find((d) => d.file === 'etc/kubernetes/pki/ca.crt' && d.field === 'subjectAltName');
    assert.deepEqual([san?.kubeadm, san?.kubeboot], ['DNS:kubernetes, IP:192.0.2.1', 'IP:192.0.2.1, DNS:kubernetes']);
    // the 1-year CA is 9 years short: reported as durations
    const validity = diffs.find((d) => d.file === 'etc/kubernetes/pki/ca.crt' && d.field === 'validity');
    assert.deepEqual([validity?.kubeadm, validity?.kubeboot], ['3650d0h0m0s', '365d0h0m0s']);
  });

  it('sets the embedded data of a kubeconfig aside and decodes it', () => {
    const k = splitKubeconfig('users:\n- name: a\n  user:\n    client-certificate-data: aGVsbG8=\n    client-key-data: d29ybGQ=\n');
    assert.equal(k.text, 'users:\n- name: a\n  user:\n    client-certificate-data: <client-certificate-data set aside>\n    client-key-data: <client-key-data set aside>\n');
    assert.deepEqual([...k.data], [
      ['client-certificate-data', 'hello'],
      ['client-key-data', 'world'],
    ]);
  });
});

describe('oracle tier gate', () => {
  it(`skips with "${BUILD_COMMAND}" when kubeadm is missing, and fails under CI`, (t) => {
    const empty = tempDir(t, 'kubeboot-oracle-cache-');
    const saved = { cache: process.env.KUBEBOOT_REAL_CACHE, ci: process.env.CI };
    t.after(() => {
      for (const [k, v] of [['KUBEBOOT_REAL_CACHE', saved.cache], ['CI', saved.ci]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    process.env.KUBEBOOT_REAL_CACHE = empty;
    delete process.env.CI;
    const why = oracleMissing();
    assert.ok(why?.includes(BUILD_COMMAND), why);
    assert.ok(why?.includes(path.join(empty, 'k8s-v1.36.5', 'bin', 'kubeadm')), why);
    let skipped = '';
    assert.equal(requireOracle({ skip: (m?: string) => (skipped = m ?? '') } as unknown as Parameters<typeof requireOracle>[0]), false);
    assert.match(skipped, /^skipped: needs the real kubeadm v1\.36\.5 .*bash test\/real\/build\.sh/);
    process.env.CI = 'true';
    assert.throws(() => requireOracle({ skip: () => assert.fail('must not skip under CI') } as unknown as Parameters<typeof requireOracle>[0]), /CI must run the kubeadm oracle, but it needs the real kubeadm/);
  });
});
