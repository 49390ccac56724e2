#!/usr/bin/env node
// Makes the container images of the real-node tests from locally built static binaries, with no
// registry: one OCI image-layout tar per image reference, ready for `ctr -n k8s.io images import`.
// Test tooling only; nothing here is part of kubeboot.
//
//   node images.mjs --bin DIR --out DIR [--kube-proxy-tools auto|none] REF...
//
// REF is a full reference (registry.k8s.io/kube-apiserver:v1.36.5, registry.k8s.io/etcd:3.6.8-0,
// registry.k8s.io/pause:3.10.2, registry.k8s.io/coredns/coredns:v1.14.2, kubeboot.test/probe:latest,
// ...). What goes into an image is chosen by the last path element of its repository (table below);
// the files sit where the upstream images keep them. `--kube-proxy-tools auto` also copies into the
// kube-proxy image the host's iptables/ip6tables (nft backend), nft and conntrack with the shared
// libraries and xtables modules they load (resolved with ldd); `none` leaves them out.
//
// Each tar is deterministic (sorted names, mtime 0, uid/gid 0, uncompressed layers) and is rebuilt
// only when an input (binary, host tool, this script) changed; a `.stamp` file beside it holds the key.
// `images.json` in the out dir maps each reference to its tar.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** repository basename → binaries (name in --bin → path in the image) and entrypoint */
const KINDS = {
  'kube-apiserver': { files: { 'kube-apiserver': '/usr/local/bin/kube-apiserver' } },
  'kube-controller-manager': { files: { 'kube-controller-manager': '/usr/local/bin/kube-controller-manager' } },
  'kube-scheduler': { files: { 'kube-scheduler': '/usr/local/bin/kube-scheduler' } },
  'kube-proxy': { files: { 'kube-proxy': '/usr/local/bin/kube-proxy' }, hostTools: true },
  etcd: { files: { etcd: '/usr/local/bin/etcd', etcdctl: '/usr/local/bin/etcdctl' } },
  pause: { files: { pause: '/pause' }, entrypoint: ['/pause'] },
  coredns: { files: { coredns: '/coredns' }, entrypoint: ['/coredns'] },
  probe: { files: { probe: '/probe' }, entrypoint: ['/probe'] },
};

/** The host tools kube-proxy calls. iptables names all point at the nft multi-call binary. */
const XTABLES_NAMES = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'];
const OTHER_TOOLS = ['nft', 'conntrack'];
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function die(msg) {
  process.stderr.write(`images.mjs: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { bin: '', out: '', tools: 'auto', refs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) die(`${a} needs a value`);
      return v;
    };
    if (a === '--bin') o.bin = val();
    else if (a === '--out') o.out = val();
    else if (a === '--kube-proxy-tools') o.tools = val();
    else if (a.startsWith('-')) die(`unknown flag ${a}`);
    else o.refs.push(a);
  }
  if (!o.bin || !o.out || o.refs.length === 0) die('usage: images.mjs --bin DIR --out DIR [--kube-proxy-tools auto|none] REF...');
  if (o.tools !== 'auto' && o.tools !== 'none') die(`--kube-proxy-tools must be auto or none, not ${o.tools}`);
  return o;
}

/** registry.k8s.io/coredns/coredns:v1.14.2 → { repo, tag, kind: 'coredns' } */
export function parseRef(ref) {
  const m = /^([a-z0-9.-]+(?::\d+)?\/)?([a-z0-9._/-]+):([\w][\w.-]{0,127})$/.exec(ref);
  if (!m) throw new Error(`not a name:tag image reference: ${ref}`);
  const repo = (m[1] ?? '') + m[2];
  const kind = repo.split('/').pop();
  return { repo, tag: m[3], kind };
}

/** The tar's file name for a reference: registry.k8s.io/kube-apiserver:v1.36.5 → registry.k8s.io_kube-apiserver_v1.36.5.tar */
export function tarName(ref) {
  return `${ref.replace(/[/:]/g, '_')}.tar`;
}

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function which(name) {
  for (const dir of HOST_PATH.split(':')) {
    const p = path.join(dir, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Absolute paths of the shared objects an ELF file loads (ldd), the dynamic loader included. */
function sharedLibs(file) {
  let out;
  try {
    out = sh('ldd', [file]);
  } catch (e) {
    const text = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(text)) return [];
    throw new Error(`ldd ${file}: ${text.trim()}`);
  }
  const libs = [];
  for (const line of out.split('\n')) {
    if (/=> not found/.test(line)) throw new Error(`ldd ${file}: ${line.trim()}`);
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

/**
 * Copies the host path `p` into the staging root at the same place, reproducing every symlink met on the way
 * (/lib64 → usr/lib64, /usr/sbin/iptables → …), so that the loader and the libraries are found as on the host.
 * Returns the host files (not links) copied by this call (none when already there).
 */
function copyWithLinks(stage, p, seen, depth = 0) {
  if (depth > 40) throw new Error(`too many symlinks resolving ${p}`);
  const parts = p.split('/').filter(Boolean);
  let cur = '/';
  for (let i = 0; i < parts.length; i++) {
    const next = path.join(cur, parts[i]);
    const st = lstatSync(next);
    const dst = path.join(stage, next);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(next);
      if (!existsSync(dst) && !isLink(dst)) {
        mkdirSync(path.dirname(dst), { recursive: true });
        symlinkSync(target, dst);
      }
      const resolved = path.resolve(cur, target);
      return copyWithLinks(stage, path.join(resolved, ...parts.slice(i + 1)), seen, depth + 1);
    }
    if (i === parts.length - 1) {
      if (st.isDirectory()) {
        mkdirSync(dst, { recursive: true });
        return [];
      }
      if (seen.has(next)) return [];
      seen.add(next);
      mkdirSync(path.dirname(dst), { recursive: true });
      copyFileSync(next, dst);
      chmodSync(dst, st.mode & 0o7777);
      return [next];
    }
    cur = next;
  }
  return [];
}

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The host tools of the kube-proxy image: [{ path in image, host file, link target? }] plus inputs for the stamp. */
function hostToolPlan() {
  const multi = which('xtables-nft-multi');
  if (!multi) throw new Error('xtables-nft-multi not found (apt-get install -y iptables)');
  const tools = OTHER_TOOLS.map((t) => {
    const p = which(t);
    if (!p) throw new Error(`${t} not found on the host (apt-get install -y ${t === 'nft' ? 'nftables' : 'conntrack'})`);
    return p;
  });
  const libxtables = sharedLibs(multi).find((l) => path.basename(l).startsWith('libxtables.so'));
  const xtDir = libxtables ? path.join(path.dirname(realpath(libxtables)), 'xtables') : undefined;
  if (!xtDir || !existsSync(xtDir)) throw new Error('the xtables extension directory was not found next to libxtables');
  const modules = readdirSync(xtDir)
    .filter((n) => n.endsWith('.so'))
    .sort()
    .map((n) => path.join(xtDir, n));
  return { multi, tools, modules };
}

function realpath(p) {
  return sh('readlink', ['-f', p]).trim();
}

function stageHostTools(stage, plan) {
  const seen = new Set();
  const elves = [];
  elves.push(...copyWithLinks(stage, realpath(plan.multi), seen));
  const multiInImage = realpath(plan.multi);
  for (const name of XTABLES_NAMES) {
    const dst = path.join(stage, path.dirname(multiInImage), name);
    if (!isLink(dst)) symlinkSync(path.basename(multiInImage), dst);
  }
  for (const t of plan.tools) elves.push(...copyWithLinks(stage, t, seen));
  for (const m of plan.modules) elves.push(...copyWithLinks(stage, m, seen));
  // every shared object of every copied ELF file, and theirs in turn
  const queue = [...elves];
  while (queue.length > 0) {
    const f = queue.shift();
    for (const lib of sharedLibs(f)) {
      const copied = copyWithLinks(stage, lib, seen);
      queue.push(...copied);
    }
  }
  return [...seen].sort();
}

function fileKey(p) {
  const st = statSync(p);
  return `${p}:${st.size}:${Math.floor(st.mtimeMs)}`;
}

function sha256File(p) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(p)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** A deterministic tar of `names` (relative to dir): sorted, mtime 0, owner root, no atime/ctime. */
function detTar(dir, names, out) {
  sh('tar', [
    '--create',
    `--file=${out}`,
    '--format=gnu',
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mode=go-w',
    '-C',
    dir,
    '--',
    ...[...names].sort(),
  ]);
}

async function blob(layout, file, mediaType) {
  const digest = await sha256File(file);
  const size = statSync(file).size;
  const dst = path.join(layout, 'blobs', 'sha256', digest);
  mkdirSync(path.dirname(dst), { recursive: true });
  renameSync(file, dst);
  return { mediaType, digest: `sha256:${digest}`, size };
}

async function writeJsonBlob(layout, tmp, name, obj, mediaType) {
  const f = path.join(tmp, name);
  writeFileSync(f, JSON.stringify(obj));
  return blob(layout, f, mediaType);
}

async function buildImage(ref, opts, selfKey) {
  const { tag, kind } = parseRef(ref);
  const spec = KINDS[kind];
  if (!spec) throw new Error(`no recipe for ${ref} (known: ${Object.keys(KINDS).join(', ')})`);
  const binaries = Object.entries(spec.files).map(([name, inImage]) => {
    const src = path.join(opts.bin, name);
    if (!existsSync(src)) throw new Error(`${ref}: ${src} is missing (run bash test/real/build.sh)`);
    return { src, inImage };
  });
  const plan = spec.hostTools && opts.tools === 'auto' ? hostToolPlan() : undefined;
  const inputs = [...binaries.map((b) => fileKey(b.src))];
  if (plan) inputs.push(...[plan.multi, ...plan.tools, ...plan.modules].map(fileKey));
  const key = createHash('sha256').update(JSON.stringify({ ref, inputs, selfKey, tools: opts.tools })).digest('hex');
  const outFile = path.join(opts.out, tarName(ref));
  const stampFile = `${outFile}.stamp`;
  if (existsSync(outFile) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === key) {
    return { ref, file: outFile, skipped: true };
  }

  const tmp = mkdtempSync(path.join(opts.out, `.build-${kind}-`));
  try {
    const stage = path.join(tmp, 'rootfs');
    mkdirSync(stage, { recursive: true });
    chmodSync(stage, 0o755);
    for (const d of ['etc', 'tmp']) mkdirSync(path.join(stage, d));
    chmodSync(path.join(stage, 'tmp'), 0o1777);
    for (const b of binaries) {
      const dst = path.join(stage, b.inImage);
      mkdirSync(path.dirname(dst), { recursive: true });
      copyFileSync(b.src, dst);
      chmodSync(dst, 0o755);
    }
    let hostFiles = [];
    if (plan) hostFiles = stageHostTools(stage, plan);
    // directories 0755 whatever the umask made them (tmp stays 1777)
    const fixDirs = (d) => {
      for (const n of readdirSync(d)) {
        const p = path.join(d, n);
        const st = lstatSync(p);
        if (st.isDirectory()) {
          if (p !== path.join(stage, 'tmp')) chmodSync(p, 0o755);
          fixDirs(p);
        }
      }
    };
    fixDirs(stage);

    const layout = path.join(tmp, 'layout');
    mkdirSync(layout);
    const layerTar = path.join(tmp, 'layer.tar');
    detTar(stage, readdirSync(stage), layerTar);
    const layer = await blob(layout, layerTar, 'application/vnd.oci.image.layer.v1.tar');
    const config = {
      created: '1970-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: {
        Env: [PATH_ENV],
        ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        WorkingDir: '/',
      },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
      history: [
        {
          created: '1970-01-01T00:00:00Z',
          created_by: `kubeboot test/real/images.mjs: ${binaries.map((b) => b.inImage).join(' ')}${hostFiles.length ? ` + ${hostFiles.length} host files` : ''}`,
        },
      ],
    };
    const configDesc = await writeJsonBlob(layout, tmp, 'config.json', config, 'application/vnd.oci.image.config.v1+json');
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: configDesc,
      layers: [layer],
    };
    const manifestDesc = await writeJsonBlob(layout, tmp, 'manifest.json', manifest, 'application/vnd.oci.image.manifest.v1+json');
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          ...manifestDesc,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    };
    writeFileSync(path.join(layout, 'index.json'), JSON.stringify(index));
    writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const tmpOut = path.join(tmp, 'image.tar');
    detTar(layout, ['blobs', 'index.json', 'oci-layout'], tmpOut);
    renameSync(tmpOut, outFile);
    writeFileSync(stampFile, `${key}\n`);
    return { ref, file: outFile, skipped: false, layerBytes: layer.size, hostFiles: hostFiles.length };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(opts.out, { recursive: true });
  const selfKey = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).digest('hex');
  const listFile = path.join(opts.out, 'images.json');
  let list = {};
  try {
    list = JSON.parse(readFileSync(listFile, 'utf8'));
  } catch {
    list = {};
  }
  for (const ref of opts.refs) {
    const t0 = Date.now();
    const r = await buildImage(ref, opts, selfKey);
    list[ref] = path.basename(r.file);
    const size = (statSync(r.file).size / 1048576).toFixed(1);
    process.stdout.write(
      r.skipped
        ? `[images] ${ref}: up to date (${size} MiB)\n`
        : `[images] ${ref}: ${path.basename(r.file)} ${size} MiB${r.hostFiles ? `, ${r.hostFiles} host files` : ''} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  }
  const sorted = Object.fromEntries(Object.entries(list).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(`${listFile}.tmp`, `${JSON.stringify(sorted, null, 2)}\n`);
  renameSync(`${listFile}.tmp`, listFile);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => die(e.message));
}
