/**
 * kubeadm as the oracle (issue 13, point 2). For each configuration in configs.ts the real kubeadm and the built
 * kubeboot run the same phases with the same file, each in a private mount namespace of its own (kubeadm-ns.sh),
 * without --root: both see this machine the same way and write /etc/kubernetes and /var/lib/kubelet on a
 * throwaway layer. (Under --root, kubeboot would keep host paths inside the files but take host facts from the
 * root directory: kubeadm mounts /etc/ca-certificates, /usr/share/ca-certificates, … only when the host has them.)
 * Then:
 *   - every file and directory: presence and mode; manifests and kubelet files byte for byte (unified diff);
 *     kubeconfigs byte for byte with the embedded data set aside, that data compared as certificates and keys;
 *     every certificate field by field; PEM block types of every file;
 *   - interop: kubeadm's `certs check-expiration` reads kubeboot's PKI and kubeconfigs as it reads its own, and
 *     kubeboot's own check-expiration prints what kubeadm's prints on those files; kubeadm's certs and kubeconfig
 *     phases on kubeboot's files, and kubeboot's `init` on kubeadm's, reuse them ("Using existing …", exactly as
 *     kubeadm's own second run says) and change none of them;
 *   - the host's /etc/kubernetes, /var/lib/kubelet and /var/lib/etcd are as they were.
 * Any difference not in allowed.ts fails the configuration's test, and the message lists every one of them.
 * Set KUBEBOOT_ORACLE_REPORT=FILE to get the whole table (Markdown) with the unified diffs, and
 * KUBEBOOT_ORACLE_ONLY=name,… to run only some configurations.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLI, AFTER_WAIT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { ALLOWED, allowedBy } from './allowed.js';
import { compareExpiration, compareTrees, readTree, unifiedDiff, type Difference } from './compare.js';
import { CONFIGS, type OracleConfig } from './configs.js';
import { runInNamespace, type NamespaceRun } from './namespace.js';
import { kubeadmPath, requireOracle } from './tier.js';
import { namesAgree, opensslViews, ownView } from './openssl-view.js';
import { certFields, pemBlocks } from './x509-fields.js';

const PHASES: readonly (readonly string[])[] = [
  ['init', 'phase', 'certs', 'all'],
  ['init', 'phase', 'kubeconfig', 'all'],
  ['init', 'phase', 'etcd', 'local'],
  ['init', 'phase', 'control-plane', 'all'],
  ['init', 'phase', 'kubelet-start'],
];

/** kubeboot's command for the same phases */
const KUBEBOOT_INIT = ['init', '--skip-phases', `preflight,wait-control-plane,${AFTER_WAIT}`];

/**
 * How many configurations run at once (each runs kubeadm, then kubeboot, then each on the other's PKI). Both
 * tools spend their time generating RSA keys, so more than one per CPU buys nothing; KUBEBOOT_ORACLE_PARALLEL
 * overrides.
 */
const PARALLEL = Number(process.env.KUBEBOOT_ORACLE_PARALLEL) || Math.min(4, Math.max(2, availableParallelism()));

const HOST_DIRS = ['/etc/kubernetes', '/var/lib/kubelet', '/var/lib/etcd'];

/** A listing of the host directories kubeadm would write (absent, or every entry with mode, size and mtime). */
function hostState(): string {
  const lines: string[] = [];
  const walk = (p: string): void => {
    const st = lstatSync(p);
    lines.push(`${p} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(path.join(p, n));
  };
  for (const d of HOST_DIRS) {
    if (existsSync(d)) walk(d);
    else lines.push(`${d} absent`);
  }
  return lines.join('\n');
}

/** A tool run on the PKI and kubeconfigs the other tool wrote (copied in as the seed). */
interface Reuse {
  readonly seed: string;
  readonly run: NamespaceRun;
}

interface ConfigRun {
  readonly config: OracleConfig;
  readonly configFile: string;
  readonly kubeadm: NamespaceRun;
  readonly kubeboot: NamespaceRun;
  /** kubeboot's init on kubeadm's PKI and kubeconfigs */
  readonly kubebootOnKubeadm: Reuse | undefined;
  /** kubeadm's certs and kubeconfig phases on kubeboot's PKI and kubeconfigs */
  readonly kubeadmOnKubeboot: Reuse | undefined;
}

/** The lines of the phases' output that are compared */
const PHASE_LINE = /^\[(certs|kubeconfig|etcd|control-plane|patches|kubelet-start)\] /;
/** kubelet-start's lines about (re)starting the kubelet, which both print differently when systemd is absent */
const SYSTEMD_LINE = /^\[kubelet-start\] (Starting the kubelet|Please ensure kubelet is reloaded|Not starting the kubelet)/;

const reuseLine = (l: string): boolean => /^\[(certs|kubeconfig)\] Using existing|^\[certs\] Using the existing/.test(l);

async function runConfig(c: OracleConfig, work: string): Promise<ConfigRun> {
  const dir = path.join(work, c.name);
  const patches = path.join(dir, 'patches');
  mkdirSync(patches, { recursive: true });
  for (const [name, body] of Object.entries(c.patches ?? {})) writeFileSync(path.join(patches, name), body);
  const configFile = path.join(dir, 'config.yaml');
  writeFileSync(configFile, c.yaml.replaceAll('PATCHES', patches));
  const kubeadm = kubeadmPath();
  const node = process.execPath;
  const withConfig = (argv: readonly string[]): string[] => [...argv, '--config', configFile];

  // kubeadm's phases, its check-expiration on its own PKI, and its second run of certs and kubeconfig (its own
  // "Using existing …" messages, which both reuse runs are held to)
  const kubeadmRun = await runInNamespace(path.join(dir, 'kubeadm'), [
    ...PHASES.map((p) => withConfig([kubeadm, ...p])),
    withConfig([kubeadm, 'certs', 'check-expiration', '-o', 'json']),
    withConfig([kubeadm, 'init', 'phase', 'certs', 'all']),
    withConfig([kubeadm, 'init', 'phase', 'kubeconfig', 'all']),
  ]);
  // kubeboot's same phases (init without preflight and wait-control-plane runs exactly certs, kubeconfig, etcd,
  // control-plane and kubelet-start, in one process), then kubeadm's check-expiration on kubeboot's PKI (json,
  // then the text table), then kubeboot's own check-expiration on the same files (json, text)
  const kubebootRun = await runInNamespace(path.join(dir, 'kubeboot'), [
    withConfig([node, CLI, ...KUBEBOOT_INIT]),
    withConfig([kubeadm, 'certs', 'check-expiration', '-o', 'json']),
    withConfig([kubeadm, 'certs', 'check-expiration']),
    withConfig([node, CLI, 'certs', 'check-expiration', '-o', 'json']),
    withConfig([node, CLI, 'certs', 'check-expiration']),
  ]);
  // each tool on the PKI and kubeconfigs the other wrote (not its manifests nor its kubelet files)
  const kubebootOnKubeadm = await reuseRun(kubeadmRun.out, path.join(dir, 'kubeboot-on-kubeadm'), [withConfig([node, CLI, ...KUBEBOOT_INIT])]);
  const kubeadmOnKubeboot =
    kubebootRun.steps[0]!.code === 0
      ? await reuseRun(kubebootRun.out, path.join(dir, 'kubeadm-on-kubeboot'), [
          withConfig([kubeadm, 'init', 'phase', 'certs', 'all']),
          withConfig([kubeadm, 'init', 'phase', 'kubeconfig', 'all']),
        ])
      : undefined;
  return { config: c, configFile, kubeadm: kubeadmRun, kubeboot: kubebootRun, kubebootOnKubeadm, kubeadmOnKubeboot };
}

/** Runs commands on a copy of what one tool wrote in /etc/kubernetes, without the manifests. */
async function reuseRun(from: string, dir: string, commands: readonly (readonly string[])[]): Promise<Reuse | undefined> {
  const etc = path.join(from, 'etc', 'kubernetes');
  if (!existsSync(etc)) return undefined;
  const seed = path.join(dir, 'seed');
  cpSync(etc, path.join(seed, 'etc', 'kubernetes'), {
    recursive: true,
    preserveTimestamps: true,
    filter: (src) => !src.startsWith(path.join(etc, 'manifests')),
  });
  return { seed, run: await runInNamespace(path.join(dir, 'out'), commands, seed) };
}

async function inParallel<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

const show = (s: { argv: readonly string[]; code: number; stdout: string; stderr: string }): string =>
  `$ ${s.argv.join(' ')}\nexit ${s.code}\n${s.stdout}${s.stderr}`;

/** Every difference for one configuration: files, then interop. */
function differences(run: ConfigRun): Difference[] {
  const name = run.config.name;
  const tol = Math.ceil(Math.max(run.kubeadm.durationMs, run.kubeboot.durationMs) / 1000) + 2;
  const opts = { config: name, toleranceSeconds: tol };
  const diffs: Difference[] = [];

  // kubeadm must have done its part; when kubeboot fails, that is the difference (the missing files and the
  // interop checks would only repeat it)
  run.kubeadm.steps.forEach((s) => assert.equal(s.code, 0, `kubeadm failed, so there is nothing to compare with:\n${show(s)}`));
  // the configuration does what it says: kubeadm applied each patch, with the type its file name gives
  const kubeadmSaid = run.kubeadm.steps.map((s) => s.stdout).join('');
  for (const file of Object.keys(run.config.patches ?? {})) {
    const m = /^([a-z-]+?)(?:\+(strategic|merge|json))?\.(?:yaml|yml|json)$/.exec(file);
    assert.ok(m, file);
    const type = { strategic: 'application/strategic-merge-patch+json', merge: 'application/merge-patch+json', json: 'application/json-patch+json' }[m[2] ?? 'strategic'];
    assert.ok(kubeadmSaid.includes(`[patches] Applied patch of type "${type}" to target "${m[1]}"`), `kubeadm did not apply ${file}:\n${kubeadmSaid}`);
  }
  const kb = run.kubeboot.steps[0]!;
  if (kb.code !== 0) {
    return [{ config: name, file: `kubeboot ${KUBEBOOT_INIT.join(' ')}`, field: 'exit code', kubeadm: '0 (each phase)', kubeboot: `${kb.code}: ${(kb.stderr || kb.stdout).trim().split('\n').slice(0, 3).join(' | ')}` }];
  }
  const ow = (r: NamespaceRun): string => r.otherWrites.join(', ') || 'none';
  if (ow(run.kubeadm) !== ow(run.kubeboot)) diffs.push({ config: name, file: '/etc, /var/lib (elsewhere)', field: 'paths written', kubeadm: ow(run.kubeadm), kubeboot: ow(run.kubeboot) });

  diffs.push(...compareTrees(opts, { out: run.kubeadm.out, startedAt: run.kubeadm.startedAt }, { out: run.kubeboot.out, startedAt: run.kubeboot.startedAt }));

  // what the phases say, line for line (kubeboot's own [init] lines aside, and how each reacts to a host without
  // systemd, which is expected here)
  const said = (out: string): string[] => out.split('\n').filter((l) => PHASE_LINE.test(l) && !SYSTEMD_LINE.test(l));
  // kubeadm ran each phase as a process of its own, and a process reads a patches directory once and says so
  // once (util/patches: the patch manager is cached by path), so one `kubeadm init` says it once: as kubeboot's init
  const once = new Set<string>();
  const saidA = said(run.kubeadm.steps.slice(0, PHASES.length).map((s) => s.stdout).join('')).filter((l) => {
    if (!/^\[patches\] (Reading patches from path|Found the following patch files|Ignored the following files)/.test(l)) return true;
    if (once.has(l)) return false;
    once.add(l);
    return true;
  });
  const saidB = said(kb.stdout);
  if (saidA.join('\n') !== saidB.join('\n')) {
    diffs.push({ config: name, file: 'phase output (stdout)', field: 'lines', kubeadm: `${saidA.length} lines`, kubeboot: `${saidB.length} lines`, diff: unifiedDiff('phases.txt', saidA.join('\n') + '\n', saidB.join('\n') + '\n') });
  }

  // interop 1: kubeadm's check-expiration reads kubeboot's PKI and kubeconfigs without error, and sees what it
  // sees in its own
  const ownCheck = run.kubeadm.steps[PHASES.length]!;
  const json = run.kubeboot.steps[1]!;
  const text = run.kubeboot.steps[2]!;
  const file = 'kubeadm certs check-expiration';
  if (json.code !== 0 || text.code !== 0) {
    diffs.push({ config: name, file, field: 'exit code on kubeboot\'s PKI', kubeadm: `${ownCheck.code} (on its own PKI)`, kubeboot: `${json.code}/${text.code}: ${(json.stderr + text.stderr).trim().split('\n')[0] ?? ''}` });
  } else {
    diffs.push(...compareExpiration(opts, file, ownCheck.stdout, json.stdout));
    const problems = (s: string): string => s.split('\n').filter((l) => /error|invalid|MISSING|!/i.test(l)).join(' | ') || 'none';
    const own = problems(ownCheck.stderr);
    const theirs = problems(json.stderr + text.stdout + text.stderr);
    if (own !== theirs) diffs.push({ config: name, file, field: 'errors or warnings printed', kubeadm: own, kubeboot: theirs });
  }

  // kubeboot's own check-expiration prints what kubeadm's prints on the same files (residual times aside, which
  // depend on the second each ran)
  const [ownJson, ownText] = [run.kubeboot.steps[3]!, run.kubeboot.steps[4]!];
  const cfile = "certs check-expiration on kubeboot's PKI: kubeadm's output vs kubeboot's";
  if (ownJson.code !== 0 || ownText.code !== 0) {
    diffs.push({ config: name, file: cfile, field: 'exit code', kubeadm: `${json.code}/${text.code}`, kubeboot: `${ownJson.code}/${ownText.code}: ${(ownJson.stderr + ownText.stderr).trim().split('\n')[0] ?? ''}` });
  } else {
    const mask = (t: string): string => t.replace(/"residualTime": \d+/g, '"residualTime": <seconds>');
    if (mask(json.stdout) !== mask(ownJson.stdout)) diffs.push({ config: name, file: cfile, field: '-o json (residualTime set aside)', kubeadm: `${json.stdout.length} bytes`, kubeboot: `${ownJson.stdout.length} bytes`, diff: unifiedDiff('check-expiration.json', mask(json.stdout), mask(ownJson.stdout)) });
    else diffs.push(...compareExpiration(opts, `${cfile} (-o json)`, json.stdout, ownJson.stdout));
    if (text.stdout !== ownText.stdout) diffs.push({ config: name, file: cfile, field: 'text', kubeadm: `${text.stdout.split('\n').length} lines`, kubeboot: `${ownText.stdout.split('\n').length} lines`, diff: unifiedDiff('check-expiration.txt', text.stdout, ownText.stdout) });
  }

  // interop 2: each tool on the other's PKI and kubeconfigs: exit 0, kubeadm's own "Using existing" lines (from
  // its second run on its own files), and every file the other wrote unchanged (bytes and mode)
  const expected = run.kubeadm.steps.slice(PHASES.length + 1).flatMap((s) => s.stdout.split('\n')).filter(reuseLine);
  if (run.kubebootOnKubeadm) {
    const r = run.kubebootOnKubeadm;
    diffs.push(...reuseDiffs(name, "kubeboot init on kubeadm's PKI", r, expected));
    // what init wrote besides is what it writes on a fresh node (its differences from kubeadm are reported above)
    const before = readTree(r.seed);
    for (const [rel, e] of readTree(r.run.out)) {
      if (before.has(rel) || e.kind !== 'file') continue;
      if (!/^etc\/kubernetes\/manifests\/|^var\/lib\/kubelet\//.test(rel)) continue;
      const own = path.join(run.kubeboot.out, rel);
      const a = existsSync(own) ? readFileSync(own, 'utf8') : '';
      const b = readFileSync(path.join(r.run.out, rel), 'utf8');
      if (a !== b) diffs.push({ config: name, file: rel, field: "kubeboot init on kubeadm's PKI: not what kubeboot writes on a fresh node", kubeadm: `${a.length} bytes (kubeboot, fresh node)`, kubeboot: `${b.length} bytes`, diff: unifiedDiff(rel, a, b) });
    }
  }
  if (run.kubeadmOnKubeboot) diffs.push(...reuseDiffs(name, "kubeadm init phase certs/kubeconfig on kubeboot's PKI", run.kubeadmOnKubeboot, expected));
  return diffs;
}

/**
 * A reuse run: every step exits 0, prints kubeadm's own "Using existing" lines, and leaves each seeded file as it
 * was. In the table, "kubeadm" is what kubeadm does on its own files, "kubeboot" what this run did.
 */
function reuseDiffs(config: string, label: string, r: Reuse, expected: readonly string[]): Difference[] {
  const diffs: Difference[] = [];
  const failed = r.run.steps.filter((s) => s.code !== 0);
  if (failed.length > 0) {
    return failed.map((s) => ({ config, file: label, field: `exit code of ${s.argv.filter((a) => !a.includes('/') && a !== '--config').join(' ')}`, kubeadm: '0 (on its own files)', kubeboot: `${s.code}: ${(s.stderr || s.stdout).trim().split('\n').slice(0, 3).join(' | ')}` }));
  }
  const got = r.run.steps.flatMap((s) => s.stdout.split('\n')).filter(reuseLine);
  if (expected.join('\n') !== got.join('\n')) {
    diffs.push({ config, file: label, field: '"Using existing" messages', kubeadm: `${expected.length} lines`, kubeboot: `${got.length} lines`, diff: unifiedDiff('reuse-messages.txt', expected.join('\n') + '\n', got.join('\n') + '\n') });
  }
  const after = readTree(r.run.out);
  for (const [rel, e] of readTree(r.seed)) {
    const a = after.get(rel);
    if (!a) {
      diffs.push({ config, file: rel, field: `${label}: removed`, kubeadm: `${e.kind} ${e.mode}`, kubeboot: 'absent' });
      continue;
    }
    if (a.mode !== e.mode) diffs.push({ config, file: rel, field: `${label}: mode changed`, kubeadm: e.mode, kubeboot: a.mode });
    if (e.kind === 'file' && !readFileSync(path.join(r.seed, rel)).equals(readFileSync(path.join(r.run.out, rel)))) {
      diffs.push({ config, file: rel, field: `${label}: content changed`, kubeadm: 'as written before', kubeboot: 'rewritten' });
    }
  }
  return diffs;
}

/** Every certificate a tool wrote: .crt files and the certificates embedded in kubeconfigs. */
function certificatesOf(out: string): { file: string; der: Buffer }[] {
  const certs: { file: string; der: Buffer }[] = [];
  for (const [rel, e] of readTree(out)) {
    if (e.kind !== 'file' || !/\.(crt|conf)$/.test(rel)) continue;
    let text = readFileSync(path.join(out, rel), 'utf8');
    if (rel.endsWith('.conf')) {
      text = [...text.matchAll(/(?:certificate-authority-data|client-certificate-data): (\S+)/g)].map((m) => Buffer.from(m[1]!, 'base64').toString()).join('\n');
    }
    for (const b of pemBlocks(text)) if (b.type === 'CERTIFICATE') certs.push({ file: rel, der: b.der });
  }
  return certs;
}

function table(diffs: readonly Difference[]): string {
  const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [
    '| configuration | file | field | kubeadm | kubeboot | allowed |',
    '|---|---|---|---|---|---|',
    ...diffs.map((d) => `| ${cell(d.config)} | ${cell(d.file)} | ${cell(d.field)} | ${cell(d.kubeadm)} | ${cell(d.kubeboot)} | ${allowedBy(d) ? 'yes' : 'no'} |`),
  ].join('\n');
}

function explain(diffs: readonly Difference[]): string {
  return diffs.map((d) => `- ${d.file} · ${d.field}\n    kubeadm:  ${d.kubeadm}\n    kubeboot: ${d.kubeboot}${d.diff ? `\n${d.diff.replace(/^/gm, '    ')}` : ''}`).join('\n');
}

test('kubeadm as the oracle', { timeout: 20 * 60_000 }, async (t) => {
  if (!requireOracle(t)) return;
  process.umask(0o022);
  const hostBefore = hostState();
  const work = tempDir(t, 'kubeboot-oracle-');
  const started = Date.now();
  const only = process.env.KUBEBOOT_ORACLE_ONLY?.split(',').filter(Boolean);
  const configs = only ? CONFIGS.filter((c) => only.includes(c.name)) : CONFIGS;
  assert.ok(configs.length > 0, `KUBEBOOT_ORACLE_ONLY=${only?.join(',')} names no configuration of ${CONFIGS.map((c) => c.name).join(', ')}`);
  const runs = await inParallel(configs, PARALLEL, (c) => runConfig(c, work));
  t.diagnostic(`${configs.length} configurations run in ${((Date.now() - started) / 1000).toFixed(1)} s (${PARALLEL} at a time)`);
  for (const r of runs) {
    const s = (n: NamespaceRun | undefined): string => (n ? `${(n.durationMs / 1000).toFixed(1)} s` : '-');
    t.diagnostic(`${r.config.name}: kubeadm ${s(r.kubeadm)}, kubeboot ${s(r.kubeboot)}, kubeboot on kubeadm's PKI ${s(r.kubebootOnKubeadm?.run)}, kubeadm on kubeboot's PKI ${s(r.kubeadmOnKubeboot?.run)}`);
  }

  const all: Difference[] = [];
  for (const run of runs) {
    await t.test(`${run.config.name}: ${run.config.about}`, () => {
      const diffs = differences(run);
      all.push(...diffs);
      const unexpected = diffs.filter((d) => !allowedBy(d));
      assert.ok(unexpected.length === 0, `${unexpected.length} difference(s) from kubeadm (configuration ${run.config.name}) not in test/oracle/allowed.ts:\n${explain(unexpected)}`);
    });
  }

  await t.test("the certificate reader agrees with openssl and Node's X509Certificate (every certificate of every run)", () => {
    const all = runs.flatMap((run) =>
      (['kubeadm', 'kubeboot'] as const).flatMap((tool) => certificatesOf(run[tool].out).map((c) => ({ ...c, what: `${run.config.name} ${tool} ${c.file}` }))),
    );
    const views = opensslViews(all.map((c) => c.der));
    all.forEach((c, i) => {
      assert.deepEqual(ownView(c.der), views[i], c.what);
      assert.ok(namesAgree(c.der), `${c.what}: subject or issuer`);
    });
    const n = all.length;
    assert.ok(n >= runs.length * 10, `only ${n} certificates were read`);
  });

  await t.test('serial numbers: positive and up to 63 bits, as kubeadm draws them (over every certificate of every run)', () => {
    const maxBits = (tool: 'kubeadm' | 'kubeboot'): number =>
      Math.max(...runs.flatMap((run) => certificatesOf(run[tool].out).map((c) => certFields(c.der).serialBits)));
    // with hundreds of certificates, the largest of kubeadm's uniform [1, 2^63-1) serials has 63 bits
    assert.equal(maxBits('kubeadm'), 63);
    assert.equal(maxBits('kubeboot'), maxBits('kubeadm'), "the largest serial number kubeboot drew has another size than kubeadm's");
  });

  await t.test('the allow-list has no entry that matched nothing', { skip: only ? 'KUBEBOOT_ORACLE_ONLY runs only some configurations' : false }, () => {
    const stale = ALLOWED.filter((a) => !all.some((d) => allowedBy(d) === a));
    assert.deepEqual(stale.map((a) => `${a.file} ${a.field}: ${a.why}`), []);
  });

  await t.test("the host's /etc/kubernetes, /var/lib/kubelet and /var/lib/etcd are as before", () => {
    assert.equal(hostState(), hostBefore);
  });

  const report = process.env.KUBEBOOT_ORACLE_REPORT;
  if (report) {
    const allowedNotes = ALLOWED.map((a) => `- \`${a.file.source}\` · \`${a.field.source}\` (${a.configs === '*' ? 'all' : a.configs.join(', ')}): ${a.why}`).join('\n');
    writeFileSync(report, `# kubeadm oracle: ${all.length} difference(s)\n\n${table(all)}\n\n## Allowed, and why\n\n${allowedNotes || 'none'}\n\n## Details\n\n${explain(all)}\n`);
    t.diagnostic(`report written to ${report}`);
  }
});
