/**
 * The render cache of `kubeboot regenerate`: a no-change fast path that proves "nothing to do" without loading the
 * config loader, zod, js-yaml or the renderer.
 *
 * /etc/kubernetes/kubeboot/render-cache.json (0600, written atomically through the Effects, inside the state directory
 * that `kubeboot reset` removes as a whole; like the ledger and the intent records it is not listed in the ledger, so
 * that a no-change run leaves the ledger's bytes alone) holds one entry per component:
 *   { key: sha256 of ALL render inputs, output: sha256 of the rendered manifest bytes, … }
 * The fast path recomputes the key from the inputs as they are now and answers "up to date" only when the key matches
 * AND the manifest on disk hashes to `output`. Anything else (no entry, another key, a corrupt file, an unreadable
 * input) falls through to the normal render, which refreshes the entry.
 *
 * The key covers (computeKey):
 *  - a format tag, Node's version, kubeboot's package.json bytes (the version) and the bytes of the compiled code the render runs
 *    (RENDER_CODE: render/, config/, util/, effects/, versions, rollout, state, errors, this module, the regenerate
 *    and init CLI modules, phases/control-plane) plus js-yaml's and zod's package.json;
 *  - the component, and the extra args as parsed from --extra-args / kubeadm's --<component>-extra-args;
 *  - the configuration bytes actually used (the recorded config.yaml, or the --config file) and where they came from;
 *  - the whole HostFacts object (hostname, addresses, CRI sockets, CA dirs, *_proxy variables, …);
 *  - the four template files' bytes;
 *  - the patches directory (as configured, and resolved against the working directory) with a listing of every entry
 *    under it (relative names, kinds, bytes' sha256) — the patch loader reads it from the real filesystem;
 *  - the external-CA state (ca.crt / ca.key presence under certificatesDir, through the Effects);
 *  - the sha256 of the manifest on disk when rendering (the render keeps its restart annotation).
 * The configuration-derived locations (manifest path, patches directory, certificatesDir) are stored in the entry and
 * are themselves part of the key: they are a function of the configuration bytes and flags, which the key covers.
 *
 * File access: node state goes through the Effects (RealEffects(root); the patches directory through RealEffects('')
 * exactly as phases/control-plane.ts reads it). kubeboot's own compiled files, package.json and templates are package
 * data, read with node:fs/promises relative to import.meta.url like src/package-files.ts does.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostFacts } from './effects/host.js';
import type { Effects } from './effects/types.js';

/** state.ts's STATE_DIR / RECORDED_CONFIG / LEDGER, repeated: importing state.ts loads js-yaml and the config loader. */
export const CACHE_STATE_DIR = '/etc/kubernetes/kubeboot';
export const CACHE_RECORDED_CONFIG = `${CACHE_STATE_DIR}/config.yaml`;
export const CACHE_LEDGER = `${CACHE_STATE_DIR}/files.json`;
export const RENDER_CACHE = `${CACHE_STATE_DIR}/render-cache.json`;
export const RENDER_CACHE_MODE = 0o600;
/** rollout.ts's COMPONENTS, repeated for the same reason (a unit test keeps them equal). */
export const CACHE_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

const FORMAT = 'kubeboot-render-cache/1';

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A line the render path printed before "up to date"; replayed by the fast path so that both print the same. */
export interface CachedMessage {
  readonly kind: 'log' | 'warn';
  readonly tag: string;
  readonly message: string;
}

/** Locations the configuration decides; stored in the entry and covered by the key. */
export interface DerivedPaths {
  readonly manifest: string;
  readonly patchesDirectory: string;
  readonly certificatesDir: string;
}

export interface CacheEntry extends DerivedPaths {
  readonly key: string;
  readonly output: string;
  readonly messages: readonly CachedMessage[];
}

export interface RenderCacheFile {
  readonly kind: 'KubebootRenderCache';
  readonly version: 1;
  readonly entries: Readonly<Record<string, CacheEntry>>;
}

/** The configuration the render uses: the recorded file, or --config (its path as given). */
export interface ConfigSource {
  readonly fromRecorded: boolean;
  readonly path: string;
  readonly bytes: Buffer;
}

export interface KeyInputs {
  readonly component: string;
  readonly args: readonly { readonly name: string; readonly value: string }[];
  readonly config: ConfigSource;
  readonly host: HostFacts;
  readonly derived: DerivedPaths;
  /** the manifest's bytes on disk when rendering (undefined: absent) */
  readonly manifest: Buffer | undefined;
}

// ---------- package data: code, version, templates ----------

/** Compiled files and directories the render depends on, relative to this module (dist/src/render-cache.js). */
const RENDER_CODE_DIRS = ['./render/', './config/', './util/', './effects/'];
const RENDER_CODE_FILES = [
  './render-cache.js',
  './package-files.js',
  './versions.js',
  './rollout.js',
  './state.js',
  './errors.js',
  './cli/regenerate.js',
  './cli/flags.js',
  './cli/init.js',
  '../phases/control-plane.js',
  '../../package.json',
];

async function readOrMissing(file: string): Promise<Buffer | string> {
  try {
    return await readFile(file);
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

/** package.json of a dependency, found from where Node resolves it (no import, no load). */
function dependencyManifest(name: string): string | undefined {
  try {
    const url = import.meta.resolve(name);
    const marker = `/node_modules/${name}/`;
    const i = url.lastIndexOf(marker);
    return i < 0 ? undefined : fileURLToPath(`${url.slice(0, i + marker.length)}package.json`);
  } catch {
    return undefined;
  }
}

let codeHash: Promise<string> | undefined;

/** sha256 over the render code, kubeboot's version, js-yaml's and zod's versions, and the templates (once per process). */
export function renderCodeHash(): Promise<string> {
  codeHash ??= (async () => {
    const files: string[] = RENDER_CODE_FILES.map((f) => fileURLToPath(new URL(f, import.meta.url)));
    await Promise.all(
      RENDER_CODE_DIRS.map(async (d) => {
        const dir = fileURLToPath(new URL(d, import.meta.url));
        const names = await readdir(dir).catch(() => [] as string[]);
        for (const n of names) if (n.endsWith('.js')) files.push(path.join(dir, n));
      }),
    );
    const templates = fileURLToPath(new URL('../../templates/', import.meta.url));
    for (const c of CACHE_COMPONENTS) files.push(path.join(templates, `${c}.yaml`));
    for (const dep of ['js-yaml', 'zod']) files.push(dependencyManifest(dep) ?? `unresolved:${dep}`);
    files.sort();
    const contents = await Promise.all(files.map(readOrMissing));
    const h = createHash('sha256').update(`${FORMAT}\n`);
    files.forEach((f, i) => {
      const c = contents[i] as Buffer | string;
      h.update(`${f}\0${sha256(c)}\n`);
    });
    return h.digest('hex');
  })();
  return codeHash;
}

// ---------- node inputs ----------

/** Every entry under the patches directory (names, kinds, bytes), as the patch loader could read it; '' when none. */
async function patchesListing(dir: string): Promise<string> {
  if (dir === '') return 'none';
  const resolved = path.resolve(dir);
  const fx = await realFs();
  const lines: string[] = [`dir ${resolved}`];
  let budget = 10_000;
  const walk = async (d: string, rel: string, depth: number): Promise<void> => {
    if (depth > 32 || --budget < 0) throw new Error('patches directory too large or too deep for the render cache');
    const st = await fx.stat(d);
    if (!st) return void lines.push(`${rel}\tabsent`);
    if (st.kind === 'dir') {
      lines.push(`${rel}\tdir`);
      for (const n of (await fx.listDir(d)) ?? []) await walk(`${d.replace(/\/+$/, '')}/${n}`, `${rel}/${n}`, depth + 1);
      return;
    }
    const data = st.kind === 'file' ? await fx.readFile(d) : undefined;
    lines.push(`${rel}\t${st.kind}\t${data ? sha256(data) : 'unreadable'}`);
  };
  await walk(resolved, '.', 0);
  return lines.join('\n');
}

let real: Effects | undefined;
async function realFs(): Promise<Effects> {
  if (!real) {
    const { RealEffects } = await import('./effects/real.js');
    // the user's patches directory, read from the real filesystem as given (phases/control-plane.ts loadPatches)
    real = new RealEffects('');
  }
  return real;
}

/** ca.crt / ca.key presence under certificatesDir, as the external-CA rule sees it. */
async function caState(fx: Effects, certificatesDir: string): Promise<string> {
  const [crt, key] = await Promise.all([fx.stat(`${certificatesDir}/ca.crt`), fx.stat(`${certificatesDir}/ca.key`)]);
  return `ca.crt=${crt ? crt.kind : 'absent'} ca.key=${key ? key.kind : 'absent'}`;
}

/** The key: sha256 over every render input (see the module comment). */
export async function computeKey(fx: Effects, k: KeyInputs): Promise<string> {
  const [code, patches, ca] = await Promise.all([renderCodeHash(), patchesListing(k.derived.patchesDirectory), caState(fx, k.derived.certificatesDir)]);
  const doc = {
    format: FORMAT,
    code,
    node: process.version,
    component: k.component,
    args: k.args.map((a) => [a.name, a.value]),
    config: { fromRecorded: k.config.fromRecorded, path: k.config.path, sha256: sha256(k.config.bytes) },
    host: k.host,
    derived: { ...k.derived, patchesResolved: k.derived.patchesDirectory === '' ? '' : path.resolve(k.derived.patchesDirectory) },
    patches: sha256(patches),
    ca,
    manifest: k.manifest ? sha256(k.manifest) : 'absent',
  };
  return sha256(JSON.stringify(doc));
}

// ---------- the cache file ----------

function isEntry(v: unknown): v is CacheEntry {
  const e = v as Record<string, unknown> | null;
  return (
    e !== null &&
    typeof e === 'object' &&
    typeof e.key === 'string' &&
    typeof e.output === 'string' &&
    typeof e.manifest === 'string' &&
    typeof e.patchesDirectory === 'string' &&
    typeof e.certificatesDir === 'string' &&
    Array.isArray(e.messages) &&
    e.messages.every((m: unknown) => {
      const x = m as Record<string, unknown> | null;
      return x !== null && typeof x === 'object' && (x.kind === 'log' || x.kind === 'warn') && typeof x.tag === 'string' && typeof x.message === 'string';
    })
  );
}

/** The cache's entries; an absent, unreadable or corrupt file is an empty cache (never an error). */
export async function readRenderCache(fx: Effects): Promise<Record<string, CacheEntry>> {
  try {
    const raw = await fx.readFile(RENDER_CACHE);
    if (!raw) return {};
    const parsed = JSON.parse(raw.toString('utf8')) as Partial<RenderCacheFile>;
    if (parsed?.kind !== 'KubebootRenderCache' || parsed.version !== 1 || typeof parsed.entries !== 'object' || parsed.entries === null) return {};
    const out: Record<string, CacheEntry> = {};
    for (const [c, e] of Object.entries(parsed.entries)) if (isEntry(e)) out[c] = e;
    return out;
  } catch {
    return {};
  }
}

/** Stores one component's entry (atomic, 0600), keeping the other components' entries. */
export async function writeRenderCacheEntry(fx: Effects, component: string, entry: CacheEntry): Promise<void> {
  const entries = { ...(await readRenderCache(fx)), [component]: entry };
  const sorted = Object.fromEntries(Object.keys(entries).sort().map((k) => [k, entries[k] as CacheEntry]));
  const file: RenderCacheFile = { kind: 'KubebootRenderCache', version: 1, entries: sorted };
  await fx.mkdir(CACHE_STATE_DIR, 0o700);
  await fx.writeFileAtomic(RENDER_CACHE, `${JSON.stringify(file, null, 2)}\n`, RENDER_CACHE_MODE);
}

// ---------- the fast path ----------

export interface FastPathInput {
  readonly fx: Effects;
  readonly component: string;
  readonly args: readonly { readonly name: string; readonly value: string }[];
  /** the --config path as given (undefined: the recorded configuration) */
  readonly configPath: string | undefined;
  readonly host: HostFacts;
}

export interface FastPathHit {
  readonly entry: CacheEntry;
}

/** The --config file's bytes, read from the real filesystem as given (like --config itself); undefined when unreadable. */
export async function readConfigBytes(configPath: string): Promise<Buffer | undefined> {
  try {
    return await (await realFs()).readFile(path.resolve(configPath));
  } catch {
    return undefined;
  }
}

/**
 * The cached "up to date" answer, or undefined (then the normal path runs). Checks first, cheaply, what the normal path
 * would refuse on (a node kubeboot did not set up, a missing manifest): those always fall through to it.
 */
export async function fastPath(i: FastPathInput): Promise<FastPathHit | undefined> {
  try {
    const [recorded, ledger, entries] = await Promise.all([i.fx.stat(CACHE_RECORDED_CONFIG), i.fx.stat(CACHE_LEDGER), readRenderCache(i.fx)]);
    if (i.configPath === undefined ? recorded?.kind !== 'file' : recorded?.kind !== 'file' && ledger?.kind !== 'file') return undefined;
    const entry = entries[i.component];
    if (!entry) return undefined;
    const manifest = await i.fx.readFile(entry.manifest);
    if (!manifest || sha256(manifest) !== entry.output) return undefined;
    const bytes = i.configPath === undefined ? await i.fx.readFile(CACHE_RECORDED_CONFIG) : await readConfigBytes(i.configPath);
    if (!bytes) return undefined;
    const key = await computeKey(i.fx, {
      component: i.component,
      args: i.args,
      config: { fromRecorded: i.configPath === undefined, path: i.configPath ?? CACHE_RECORDED_CONFIG, bytes },
      host: i.host,
      derived: { manifest: entry.manifest, patchesDirectory: entry.patchesDirectory, certificatesDir: entry.certificatesDir },
      manifest,
    });
    return key === entry.key ? { entry } : undefined;
  } catch {
    return undefined;
  }
}
