/** The built CLI as a user meets it: help, flags, errors, output modes, config commands. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { INIT_PHASES } from '../../phases/index.js';
import { FLAGS } from '../../src/config/flags.js';
import { flatten } from '../../src/workflow/phase.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { CLI, DIST_ROOT, REPO_ROOT, AFTER_WAIT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const GOOD = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp1
  criSocket: unix:///var/run/containerd/containerd.sock
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
`;

/** Copies the built CLI, templates and production dependencies into dir (world-readable); returns the CLI path. */
function stageInstall(dir: string): string {
  const copy = (from: string, to: string) => {
    cpSync(from, to, { recursive: true });
  };
  copy(path.join(DIST_ROOT, 'src'), path.join(dir, 'dist', 'src'));
  copy(path.join(DIST_ROOT, 'phases'), path.join(dir, 'dist', 'phases'));
  copy(path.join(REPO_ROOT, 'templates'), path.join(dir, 'templates'));
  copy(path.join(REPO_ROOT, 'package.json'), path.join(dir, 'package.json'));
  const seen = new Set<string>();
  const walk = (pkgDir: string) => {
    const deps = Object.keys((JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
    for (const d of deps) {
      let base = pkgDir;
      let found: string | undefined;
      for (;;) {
        const cand = path.join(base, 'node_modules', d);
        if (existsSync(cand)) {
          found = cand;
          break;
        }
        const up = path.dirname(base);
        if (up === base) break;
        base = up;
      }
      if (!found || seen.has(found)) continue;
      seen.add(found);
      copy(found, path.join(dir, path.relative(REPO_ROOT, found)));
      walk(found);
    }
  };
  walk(REPO_ROOT);
  const chmodTree = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, e.name);
      chmodSync(q, e.isDirectory() ? 0o755 : 0o644);
      if (e.isDirectory()) chmodTree(q);
    }
  };
  chmodTree(dir);
  return path.join(dir, 'dist', 'src', 'cli', 'main.js');
}

function writeConfig(dir: string, text = GOOD): string {
  const p = path.join(dir, 'config.yaml');
  writeFileSync(p, text);
  return p;
}

describe('kubeboot CLI', () => {
  it('init --help lists the phases generated from the phase tree', async () => {
    const r = await runCli(['init', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /The "init" command executes the following phases:/);
    for (const f of flatten(INIT_PHASES)) {
      if (f.phase.hidden) continue;
      assert.ok(r.stdout.includes(`${f.depth === 0 ? '' : '/'}${f.phase.name} `), `help lacks ${f.path}`);
    }
    for (const flag of ['--config', '--cert-dir', '--apiserver-advertise-address', '--apiserver-bind-port', '--apiserver-cert-extra-sans', '--control-plane-endpoint', '--kubernetes-version', '--node-name', '--pod-network-cidr', '--service-cidr', '--service-dns-domain', '--image-repository', '--skip-phases', '--ignore-preflight-errors', '--dry-run', '--patches']) {
      assert.ok(r.stdout.includes(flag), `init --help lacks ${flag}`);
    }
  });

  it('every phase has an `init phase` command, and phases with children get `all`', async () => {
    for (const f of flatten(INIT_PHASES).filter((x) => !x.phase.hidden)) {
      const r = await runCli(['init', 'phase', ...f.path.split('/'), '--help']);
      assert.equal(r.code, 0, `${f.path}: ${r.stderr}`);
      if (f.phase.phases?.length) {
        const all = await runCli(['init', 'phase', ...f.path.split('/'), 'all', '--help']);
        assert.equal(all.code, 0, `${f.path} all: ${all.stderr}`);
      }
    }
  });

  it('an unknown phase in --skip-phases fails before anything runs (exit 3)', async (t) => {
    const root = tempDir(t);
    const r = await runCli(['init', '--root', root, '--skip-phases', 'preflight,certz', '--config', writeConfig(tempDir(t))]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /invalid phase name: certz/);
    assert.deepEqual(readdirSync(root), []);
  });

  it("--config cannot be mixed with flags the config covers (kubeadm's rule), but the allowed ones stay allowed", async (t) => {
    const cfg = writeConfig(tempDir(t));
    const bad = await runCli(['init', '--root', tempDir(t), '--config', cfg, '--service-cidr', '10.0.0.0/16', '--pod-network-cidr', '10.1.0.0/16']);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /can not mix '--config' with arguments \[pod-network-cidr service-cidr\]|can not mix '--config' with arguments \[service-cidr pod-network-cidr\]/);
    const ok = await runCli(['init', '--root', tempDir(t), '--config', cfg, '--dry-run', '--node-name', 'cp2', '--skip-phases', 'preflight', '--ignore-preflight-errors', 'Swap', '--output', 'json']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('a missing config file names the file (exit 3, no stack trace)', async (t) => {
    const r = await runCli(['init', '--root', tempDir(t), '--config', '/nonexistent/kubeadm.yaml']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /unable to read config file "\/nonexistent\/kubeadm.yaml" \(--config\): no such file/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const v = await runCli(['init', '-v', '--root', tempDir(t), '--config', '/nonexistent/kubeadm.yaml']);
    assert.match(v.stderr, /\n\s+at /, '-v shows the stack');
  });

  it('a bad flag value names the flag', async (t) => {
    for (const [args, re] of [
      [['--apiserver-bind-port', 'abc'], /--apiserver-bind-port: "abc" is not a port number/],
      [['--feature-gates', 'X=maybe'], /--feature-gates: invalid value maybe for feature-gate key: X/],
      [['--service-cidr', '300.0.0.0/8'], /--service-cidr: couldn't parse subnet/],
      [['--wait-for', 'pods'], /--wait-for: unknown target\(s\) pods/],
      [['--output', 'yaml'], /--output/],
      [['--bogus-flag'], /unknown option '--bogus-flag'/],
    ] as const) {
      const r = await runCli(['init', '--root', tempDir(t), '--node-name', 'cp1', '--apiserver-advertise-address', '192.0.2.10', ...args]);
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });

  it('an unknown command names the valid ones at its level, with a suggestion when one is close', async () => {
    for (const [args, where, some] of [
      [['nope'], 'kubeboot', ['init', 'regenerate', 'reset']],
      [['init', 'phase', 'nope'], 'kubeboot init phase', ['preflight', 'certs', 'wait-control-plane']],
      [['init', 'phase', 'certs', 'nope'], 'kubeboot init phase certs', ['all', 'ca', 'sa']],
      [['certs', 'renew', 'apiservr'], 'kubeboot certs renew', ['all', 'apiserver', 'admin.conf']],
    ] as const) {
      const r = await runCli(args);
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
      const line = r.stderr.split('\n').find((l) => l.startsWith(`valid commands of '${where}': `));
      assert.ok(line, `${args.join(' ')}: ${r.stderr}`);
      for (const name of some) assert.ok(line.split(': ')[1]?.split(', ').includes(name), `${name} in ${line}`);
    }
    assert.match((await runCli(['certs', 'renew', 'apiservr'])).stderr, /Did you mean apiserver\?/);
  });

  it('--output json: a command-line error is one JSON error event too (exit 3)', async () => {
    for (const args of [['certs', 'renew', 'nope'], ['init', '--bogus-flag'], ['init', '--service-cidr']]) {
      const r = await runCli([...args, '--output', 'json']);
      assert.equal(r.code, 3, r.stderr);
      const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; exitCode?: number; message?: string });
      assert.deepEqual(lines.map((l) => l.type), ['error'], r.stdout);
      assert.equal(lines[0]?.exitCode, 3);
      assert.match(lines[0]?.message ?? '', /unknown command 'nope'|unknown option '--bogus-flag'|'--service-cidr <CIDR>' argument missing/);
    }
  });

  it('--output json: every stdout line is a JSON event, with phase events and a result', async (t) => {
    const r = await runCli(['init', '--dry-run', '--output', 'json', '--config', writeConfig(tempDir(t))]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.ok(lines.length > 3);
    const events = lines.map((l) => JSON.parse(l) as { type: string; status?: string; phase?: string; durationMs?: number });
    assert.ok(events.every((e) => typeof e.type === 'string'));
    assert.ok(events.some((e) => e.type === 'phase' && e.status === 'started' && e.phase === 'preflight'));
    assert.ok(events.some((e) => e.type === 'phase' && e.status === 'finished' && typeof e.durationMs === 'number'));
    assert.equal(events.at(-1)?.type, 'result');
  });

  it('a reader that goes away (| head) does not stop the run: every file is written, exit 0, no stack trace', async (t) => {
    const dir = tempDir(t);
    const root = path.join(dir, 'root');
    const args = [CLI, 'init', '--root', root, '--config', writeConfig(dir), '--skip-phases', `kubelet-start,wait-control-plane,${AFTER_WAIT}`, '--ignore-preflight-errors', 'all'];
    const child = spawn(process.execPath, args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // like `head -1`: read the first chunk, then close the pipe
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|node:events|\n\s+at /, stderr);
    for (const f of ['etc/kubernetes/pki/sa.pub', 'etc/kubernetes/scheduler.conf', 'etc/kubernetes/manifests/kube-scheduler.yaml']) assert.ok(existsSync(path.join(root, f)), `${f} was written`);
  });

  it('--root "" (an unset variable in a script) is refused before anything runs; so is a --root that is a file', async (t) => {
    const file = path.join(tempDir(t), 'afile');
    writeFileSync(file, 'x');
    for (const args of [['init', 'phase', 'certs', 'ca'], ['init', '--dry-run'], ['reset', '-f'], ['regenerate', 'etcd'], ['certs', 'check-expiration']]) {
      const empty = await runCli([...args, '--root', '']);
      assert.equal(empty.code, 3, `${args.join(' ')}: ${empty.stderr}`);
      assert.match(empty.stderr, /^error: --root: empty path/m);
      assert.doesNotMatch(empty.stderr, /\n\s+at /);
      const notDir = await runCli([...args, '--root', file]);
      assert.equal(notDir.code, 3, `${args.join(' ')}: ${notDir.stderr}`);
      assert.match(notDir.stderr, /^error: --root: ".*afile" is not a directory$/m);
    }
  });

  it('a path-valued option never takes the next flag as its value: `--root $ROOT --dry-run` with ROOT unset is exit 3, for every path option', async (t) => {
    const dir = tempDir(t);
    const old = path.join(dir, 'old.yaml');
    writeFileSync(old, GOOD.replaceAll('v1beta4', 'v1beta3'));
    const cwd = path.join(dir, 'cwd');
    mkdirSync(cwd);
    // one command line per path-valued option of the flag table; the table decides which options must be here
    const cases: Record<string, string[]> = {
      root: ['init', 'phase', 'certs', 'ca', '--root', '--dry-run'],
      config: ['config', 'validate', '--config', '--dry-run'],
      'cert-dir': ['init', 'phase', 'certs', 'ca', '--root', path.join(dir, 'r'), '--cert-dir', '--dry-run'],
      patches: ['init', '--root', path.join(dir, 'r'), '--patches', '--dry-run'],
      'old-config': ['config', 'migrate', '--old-config', '--dry-run', '--new-config', path.join(dir, 'new.yaml')],
      'new-config': ['config', 'migrate', '--old-config', old, '--new-config', '--dry-run'],
      file: ['kubeconfig', '--root', path.join(dir, 'r'), '--file', '--dry-run'],
      merge: ['kubeconfig', '--root', path.join(dir, 'r'), '--merge', '--dry-run'],
    };
    const pathFlags = Object.values(FLAGS).filter((f) => f.kind === 'path').map((f) => f.name).sort();
    assert.deepEqual(Object.keys(cases).sort(), pathFlags, 'every path-valued option of the flag table is tried');
    for (const [flag, args] of Object.entries(cases)) {
      // an option whose value is optional (--merge [PATH]) never takes a flag as its value: only the empty value applies
      for (const value of FLAGS[flag]?.optionalValue ? [''] : ['--dry-run', '']) {
        const argv = value === '--dry-run' ? args : args.map((a, i) => (args[i - 1] === `--${flag}` ? '' : a));
        const r = await runCli(argv, { cwd });
        assert.equal(r.code, 3, `${argv.join(' ')}: ${r.stderr}`);
        const wanted = value === '' ? `error: --${flag}: empty path` : `error: --${flag}: "--dry-run" looks like a flag, not a path`;
        assert.ok(r.stderr.startsWith(wanted), `${argv.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`hint: in a script, check that the variable you pass to --${flag} is set`));
        assert.deepEqual(readdirSync(cwd), [], `${argv.join(' ')}: nothing written`);
        assert.equal(existsSync(path.join(dir, 'r')), false, `${argv.join(' ')}: nothing written under --root`);
      }
    }
    // --output json: the refusal is the one error event
    const j = await runCli(['init', '--output', 'json', '--root', '--dry-run'], { cwd });
    assert.equal(j.code, 3);
    assert.deepEqual(j.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type), ['error']);
    // a directory that really starts with "-" is written ./-name
    const r = await runCli(['init', 'phase', 'certs', 'ca', '--root', './-r'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(path.join(cwd, '-r', 'etc/kubernetes/pki/ca.crt')));
  });

  it('a missing patch directory or a broken patch file is a config error (exit 3) before any phase writes a file', async (t) => {
    const dir = tempDir(t);
    const root = path.join(dir, 'root');
    const broken = path.join(dir, 'patches');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'kube-apiserver.yaml'), 'a: [\n');
    writeFileSync(path.join(dir, 'with-patches.yaml'), GOOD.replace('kind: InitConfiguration\n', `kind: InitConfiguration\npatches:\n  directory: ${path.join(dir, 'absent')}\n`));
    for (const [args, re] of [
      [['--patches', path.join(dir, 'absent')], /^error: --patches: could not list patch files for path ".*absent": no such directory$/m],
      [['--patches', broken], /^error: --patches: could not parse patch file ".*kube-apiserver\.yaml"/m],
      [['--config', path.join(dir, 'with-patches.yaml')], /^error: .*with-patches\.yaml: InitConfiguration\.patches\.directory: could not list patch files/m],
    ] as const) {
      const extra = args[0] === '--config' ? [] : ['--node-name', 'cp1', '--apiserver-advertise-address', '192.0.2.10'];
      const r = await runCli(['init', '--root', root, '--skip-phases', `wait-control-plane,${AFTER_WAIT}`, ...extra, ...args]);
      assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(existsSync(root) ? readdirSync(root).length : 0, 0, 'nothing written');
    }
  });

  it("kubeadm's verbosity forms (-v 5, --v=5) are accepted and mean -v", async (t) => {
    for (const v of [['-v', '5'], ['--v=5'], ['--v', '2'], ['-v']]) {
      const r = await runCli(['init', 'phase', 'certs', 'ca', '--root', tempDir(t), '--node-name', 'cp1', '--apiserver-advertise-address', '192.0.2.10', ...v]);
      assert.equal(r.code, 0, `${v.join(' ')}: ${r.stderr}`);
    }
    // -v still shows the stack of an error
    const bad = await runCli(['init', '--root', tempDir(t), '--config', '/nope.yaml', '--v=5']);
    assert.equal(bad.code, 3);
  });

  it('a dry run whose temp dir cannot be used says so and what to set (exit 1, no stack trace), before anything runs', async (t) => {
    const dir = tempDir(t);
    const missing = path.join(dir, 'no-such-dir');
    const r = await runCli(['init', '--dry-run'], { env: cleanEnv({ TMPDIR: missing }), cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.split('\n')[0], `error: cannot make the dry run's directory in ${missing} (it does not exist)`);
    assert.match(r.stderr, /^hint: .*set TMPDIR to a directory you can write/m);
    assert.doesNotMatch(r.stderr, /\n\s+at |a bug in kubeboot/);
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
  });

  it('--output json on an error prints one JSON error event with the exit code', async (t) => {
    const r = await runCli(['init', '--output', 'json', '--root', tempDir(t), '--config', '/nope.yaml']);
    assert.equal(r.code, 3);
    const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; exitCode?: number });
    assert.deepEqual(lines.map((l) => l.type), ['error']);
    assert.equal(lines[0]?.exitCode, 3);
  });

  /**
   * Runs the built CLI as a non-root user: as root, as uid 65534 from a world-readable staged install (the checkout may
   * live where that user cannot read, a 0700 temp dir); otherwise as the user running the tests.
   */
  let staged: string | undefined;
  after(() => {
    if (staged) rmSync(staged, { recursive: true, force: true });
  });
  /**
   * Runs the built CLI as a non-root user: as root, as uid 65534 from a world-readable staged install (the checkout may
   * live where that user cannot read, a 0700 temp dir; staged once per file); otherwise as the user running the tests.
   */
  async function runAsNonRoot(t: import('node:test').TestContext, args: (stage: string) => string[]): Promise<{ code: number | null; out: string; err: string }> {
    const stage = tempDir(t);
    chmodSync(stage, 0o755);
    const asRoot = process.getuid?.() === 0;
    if (asRoot && staged === undefined) {
      staged = mkdtempSync(path.join(tmpdir(), 'kubeboot-test-install-'));
      chmodSync(staged, 0o755);
      stageInstall(staged);
      // a node binary the user may not run (another Node.js version under root's 0700 home): stage a copy too
      if (spawnSync(process.execPath, ['-e', '0'], { uid: 65534, gid: 65534 }).status !== 0) {
        mkdirSync(path.join(staged, 'bin'), { mode: 0o755 });
        copyFileSync(process.execPath, path.join(staged, 'bin', 'node'));
        chmodSync(path.join(staged, 'bin', 'node'), 0o755);
      }
    }
    const cli = asRoot ? path.join(staged as string, 'dist', 'src', 'cli', 'main.js') : CLI;
    const nodeBin = asRoot && existsSync(path.join(staged as string, 'bin', 'node')) ? path.join(staged as string, 'bin', 'node') : process.execPath;
    const home = path.join(stage, 'home');
    mkdirSync(home, { mode: 0o777 });
    chmodSync(home, 0o777);
    const argv = args(stage);
    return new Promise((res) => {
      const c = spawn(nodeBin, [cli, ...argv], { ...(asRoot ? { uid: 65534, gid: 65534 } : {}), env: cleanEnv({ HOME: home }) });
      let out = '';
      let err = '';
      c.stdout.on('data', (d: Buffer) => (out += d));
      c.stderr.on('data', (d: Buffer) => (err += d));
      c.on('close', (code) => res({ code, out, err }));
    });
  }

  it('init --dry-run runs as a non-root user on a machine with no kubelet and exits 0', async (t) => {
    const r = await runAsNonRoot(t, (stage) => {
      const cfg = writeConfig(stage);
      chmodSync(cfg, 0o644);
      return ['init', '--dry-run', '--config', cfg];
    });
    assert.equal(r.code, 0, r.err);
    // under the temp dir (the tests pass their own TMPDIR)
    assert.match(r.out, /\[dryrun\] Writing files into "\/tmp\/(kubeboot-tests-[^/"]+\/)?kubeboot-init-dryrun-/);
    assert.match(r.out, /\[dryrun\] Would write file "\/etc\/kubernetes\/manifests\/kube-apiserver.yaml" \(mode 0600\)/);
    assert.doesNotMatch(r.out, /PRIVATE KEY/, 'dry-run never prints key material');
    const dir = /Writing files into "([^"]+)"/.exec(r.out)?.[1];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a probed path the user may not read (containerd\'s 0700 /run/containerd) is a warning, never a crash: init --dry-run and config validate as non-root', async (t) => {
    // The node's directories under --root, made unreadable for the user who runs kubeboot: containerd's socket
    // directory (0700 root, as containerd makes it), /etc/pki (the CA directories) and /run/systemd (systemd-resolved).
    const asRoot = process.getuid?.() === 0;
    const locked: string[] = [];
    const makeRoot = (stage: string): { root: string; cfg: string } => {
      const root = path.join(stage, 'node');
      for (const d of ['var/run/containerd', 'etc/pki/ca-trust', 'etc/pki/tls/certs', 'run/systemd/resolve']) mkdirSync(path.join(root, d), { recursive: true });
      writeFileSync(path.join(root, 'var/run/containerd/containerd.sock'), '');
      writeFileSync(path.join(root, 'run/systemd/resolve/resolv.conf'), 'nameserver 192.0.2.53\n');
      const walk = (p: string) => {
        chmodSync(p, 0o755);
        for (const e of readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(p, e.name));
      };
      walk(root);
      for (const d of ['var/run/containerd', 'etc/pki', 'run/systemd']) {
        // root-owned 0700 stops uid 65534; the owner itself needs 000
        chmodSync(path.join(root, d), asRoot ? 0o700 : 0o000);
        locked.push(path.join(root, d));
      }
      const cfg = writeConfig(stage, GOOD.replace('  criSocket: unix:///var/run/containerd/containerd.sock\n', ''));
      chmodSync(cfg, 0o644);
      return { root, cfg };
    };
    t.after(() => locked.forEach((d) => chmodSync(d, 0o755)));
    for (const command of [['init', '--dry-run'], ['config', 'validate']]) {
      const r = await runAsNonRoot(t, (stage) => {
        const { root, cfg } = makeRoot(stage);
        return [...command, '--root', root, '--config', cfg];
      });
      assert.equal(r.code, 0, `${command.join(' ')}: ${r.err}`);
      assert.doesNotMatch(r.err, /EACCES|this is a bug/);
      assert.match(r.err, /could not check for a CRI socket at \/var\/run\/containerd\/containerd.sock \(permission denied\); using unix:\/\/\/var\/run\/containerd\/containerd.sock/);
      for (const p of ['/etc/pki/ca-trust', '/etc/pki/tls/certs', '/run/systemd/resolve/resolv.conf'])
        assert.ok(r.err.includes(`could not look at ${p} (permission denied); taken as absent`), `${command.join(' ')} warns about ${p}: ${r.err}`);
      if (command[0] === 'init') {
        const dir = /Writing files into "([^"]+)"/.exec(r.out)?.[1];
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('config print init-defaults prints a v1beta4 config that config validate accepts', async (t) => {
    const r = await runCli(['config', 'print', 'init-defaults']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^apiVersion: kubeadm.k8s.io\/v1beta4\n/);
    assert.match(r.stdout, /kubernetesVersion: v1.36.5/);
    assert.match(r.stdout, /advertiseAddress: 1.2.3.4/);
    const f = path.join(tempDir(t), 'defaults.yaml');
    writeFileSync(f, r.stdout);
    const v = await runCli(['config', 'validate', '--config', f]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /ok: .* is a valid configuration \(Kubernetes v1.36.5\)/);
    const same = await runCli(['config', 'print', 'init-defaults']);
    assert.equal(same.stdout, r.stdout, 'deterministic');
    const v134 = await runCli(['config', 'print', 'init-defaults', '--kubernetes-version', 'v1.34']);
    assert.equal(v134.code, 0, v134.stderr);
    assert.match(v134.stdout, /kubernetesVersion: v1\.34\.\d+/, '--kubernetes-version picks the minor');
  });

  it('config validate reports every problem with exit 3', async (t) => {
    const f = writeConfig(tempDir(t), GOOD.replace('advertiseAddress: 192.0.2.10', 'advertiseAddress: nope') + 'certificatesDir: pki\n');
    const r = await runCli(['config', 'validate', '--config', f]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /\(2 problems\)/);
    assert.match(r.stderr, /ClusterConfiguration.certificatesDir: path is not absolute/);
    assert.match(r.stderr, /InitConfiguration.localAPIEndpoint.advertiseAddress: ip address is not valid/);
  });

  it('config validate does not say plain "ok" for a KubeletConfiguration the kubelet will refuse: it warns about each problem (text and json)', async (t) => {
    const kubelet = `---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemdd
failSwapOn: "false"
healthzPort: 70000
cgroupDrivr: systemd
`;
    const f = writeConfig(tempDir(t), GOOD + kubelet);
    const r = await runCli(['config', 'validate', '--config', f]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /^ok:/m);
    assert.match(r.stdout, /: the kubeadm configuration is valid \(Kubernetes v1\.36\.5\), but the kubelet will refuse its KubeletConfiguration: 4 problems, in the warnings above$/m);
    for (const w of [
      '[WARNING] KubeletConfiguration.cgroupDriver: invalid value "systemdd": the kubelet accepts systemd, cgroupfs',
      '[WARNING] KubeletConfiguration.failSwapOn: expected a boolean (true or false), got string "false"; the kubelet cannot read the file',
      '[WARNING] KubeletConfiguration.healthzPort: 70000 is not a port number (0-65535)',
      '[WARNING] KubeletConfiguration: unknown field "cgroupDrivr" (did you mean "cgroupDriver"?); the kubelet will reject it',
    ]) assert.ok(r.stderr.split('\n').includes(w), `missing ${w}\n${r.stderr}`);
    const j = await runCli(['config', 'validate', '--config', f, '--output', 'json']);
    assert.equal(j.code, 0, j.stderr);
    const data = (JSON.parse(j.stdout.trim()) as { data: { valid: boolean; kubeletConfigurationProblems: string[] } }).data;
    assert.equal(data.kubeletConfigurationProblems.length, 4);
    // a KubeletConfiguration the kubelet accepts: plain ok
    const good = writeConfig(tempDir(t), `${GOOD}---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\nfailSwapOn: false\n`);
    const ok = await runCli(['config', 'validate', '--config', good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: .* is a valid configuration \(Kubernetes v1\.36\.5\)$/m);
    assert.equal(ok.stderr, '');
  });

  it('config migrate turns v1beta3 into v1beta4 that validates, and never overwrites a file', async (t) => {
    const dir = tempDir(t);
    const old = path.join(dir, 'old.yaml');
    writeFileSync(old, GOOD.replaceAll('v1beta4', 'v1beta3') + 'apiServer:\n  timeoutForControlPlane: 2m0s\n  extraArgs:\n    b: "1"\n    a: "2"\n');
    const r = await runCli(['config', 'migrate', '--old-config', old]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /v1beta3/);
    assert.match(r.stdout, /extraArgs:\n  - name: a\n    value: "2"\n  - name: b\n    value: "1"/);
    assert.match(r.stdout, /controlPlaneComponentHealthCheck: 2m0s/);
    const out = path.join(dir, 'new.yaml');
    const w = await runCli(['config', 'migrate', '--old-config', old, '--new-config', out]);
    assert.equal(w.code, 0, w.stderr);
    const v = await runCli(['config', 'validate', '--config', out]);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stderr, '', 'no deprecation warning for the migrated file');
    const again = await runCli(['config', 'migrate', '--old-config', old, '--new-config', out]);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /exists already; kubeboot never overwrites a file/);
    const missing = await runCli(['config', 'migrate', '--old-config', path.join(dir, 'absent.yaml')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /unable to read config file ".*absent\.yaml" \(--old-config\): no such file/);
    assert.match(missing.stderr, /^hint: give --old-config the path/m);
  });

  it('version prints the default and supported Kubernetes versions (text and json)', async () => {
    const r = await runCli(['version']);
    assert.match(r.stdout, /default Kubernetes version: v1.36.5/);
    const j = await runCli(['version', '--output', 'json']);
    const data = (JSON.parse(j.stdout) as { data: { supportedMinors: string[] } }).data;
    assert.deepEqual(data.supportedMinors, ['1.34', '1.35', '1.36', '1.37']);
  });
});

describe('errors from inside a phase', () => {
  it('preflight failures are printed line by line (exit 2), also in JSON', async (t) => {
    const cfgDir = tempDir(t);
    const root = tempDir(t);
    mkdirSync(path.join(root, 'etc/kubernetes/manifests'), { recursive: true });
    writeFileSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'), 'user file');
    const r = await runCli(['init', '--root', root, '--config', writeConfig(cfgDir), '--skip-phases', `certs,kubeconfig,etcd,control-plane,kubelet-start,wait-control-plane,${AFTER_WAIT}`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /\t\[ERROR FileAvailable--etc-kubernetes-manifests-etcd.yaml\]: \/etc\/kubernetes\/manifests\/etcd.yaml already exists\n/);
    assert.match(r.stderr, /hint: If you know what you are doing/);
    const j = await runCli(['init', '--output', 'json', '--root', root, '--config', writeConfig(cfgDir), '--skip-phases', `certs,kubeconfig,etcd,control-plane,kubelet-start,wait-control-plane,${AFTER_WAIT}`]);
    const err = j.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; failures?: string[]; checks?: { check: string; severity: string; message: string }[]; exitCode?: number }).find((e) => e.type === 'error');
    // each failed check also as data: its name, severity and message
    assert.ok(err?.checks?.some((c) => c.check === 'FileAvailable--etc-kubernetes-manifests-etcd.yaml' && c.severity === 'error' && c.message.endsWith('already exists')), JSON.stringify(err));
    assert.equal(err?.exitCode, 2);
    assert.ok(err?.failures?.some((f) => f.startsWith('[ERROR FileAvailable--etc-kubernetes-manifests-etcd.yaml]')));
  });
});
