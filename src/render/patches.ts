/**
 * kubeadm-style patches (`--patches DIR` / `patches.directory`).
 *
 * File names: `target[suffix][+patchtype].{yaml,yml,json}`; target is one of PATCH_TARGETS, patchtype is
 * `strategic` (the default), `merge` or `json`. A file may hold several YAML documents (`---`), each one
 * patch. Patches for one target are applied in lexical file-name order (kubeadm walks the directory, so
 * files in sub-directories count too, in walk order). Unknown targets, unknown extensions and empty files
 * are ignored with a message; a `+` without a known patch type is an error.
 *
 * Patch types:
 *  - json (RFC 6902) from fast-json-patch: add, remove, replace, move, copy, test;
 *  - merge (RFC 7386): maps merge, `null` deletes, lists and scalars replace;
 *  - strategic (Kubernetes strategic merge patch, written here: no maintained JavaScript port exists).
 * A patch of any type that names `__proto__`, `constructor` or `prototype` is refused.
 *
 * Everything except loadPatchFiles is pure; loadPatchFiles reads through an injected reader.
 */
import jsonpatch from 'fast-json-patch';
import { parseYamlDocuments } from './yaml.js';

export const PATCH_TARGETS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubeletconfiguration'] as const;
export type PatchTarget = (typeof PATCH_TARGETS)[number];
export type PatchType = 'json' | 'merge' | 'strategic';
export const PATCH_EXTENSIONS = ['json', 'yaml', 'yml'] as const;

/** The media types kubeadm names in its messages. */
export const PATCH_MEDIA_TYPE: Readonly<Record<PatchType, string>> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface PatchFile {
  /** the file's path as the user sees it (for messages) */
  readonly path: string;
  readonly target: string;
  readonly type: PatchType;
  /** one entry per non-empty document */
  readonly documents: readonly unknown[];
}

export class PatchError extends Error {}

// ---------- file names ----------

export type ParsedName =
  | { readonly kind: 'patch'; readonly target: string; readonly type: PatchType }
  | { readonly kind: 'ignored'; readonly reason: string };

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Parses `target[suffix][+patchtype].ext`; throws PatchError for a `+` without a known type (kubeadm's error). */
export function parsePatchFileName(name: string, targets: readonly string[] = PATCH_TARGETS): ParsedName {
  if (!new RegExp(`.+\\.(${PATCH_EXTENSIONS.join('|')})$`).test(name)) {
    return { kind: 'ignored', reason: `the file extension must be one of [${PATCH_EXTENSIONS.join(' ')}]` };
  }
  // Longer target names first so that a target that is a prefix of another cannot shadow it.
  const alternatives = [...targets].sort((a, b) => b.length - a.length).map(escapeRe).join('|');
  const m = new RegExp(`^(${alternatives})([^.+\\n]*)?(\\+)?(json|merge|strategic)?`).exec(name);
  if (!m) return { kind: 'ignored', reason: `unknown target, must be one of [${targets.join(' ')}]` };
  if (m[3] && !m[4]) {
    throw new PatchError(`patch file "${name}": unknown or missing patch type after '+', must be one of [json merge strategic]`);
  }
  return { kind: 'patch', target: m[1] as string, type: (m[4] as PatchType | undefined) ?? 'strategic' };
}

/** Splits a patch file into its documents (YAML or JSON); empty documents are skipped. */
export function parsePatchDocuments(text: string, file: string): unknown[] {
  let docs: unknown[];
  try {
    docs = parseYamlDocuments(text);
  } catch (err) {
    const e = err as { reason?: string; message: string };
    throw new PatchError(`could not parse patch file "${file}": ${e.reason ?? e.message}`);
  }
  return docs.filter((d) => d !== null && d !== undefined);
}

export interface PatchReader {
  listDir(p: string): Promise<string[] | undefined>;
  stat(p: string): Promise<{ readonly kind: 'file' | 'dir' | 'other' } | undefined>;
  readFile(p: string): Promise<Buffer | undefined>;
}

export interface LoadedPatches {
  readonly dir: string;
  /** patch files in application order */
  readonly files: readonly PatchFile[];
  /** names of files that were skipped, with the reason */
  readonly ignored: readonly { readonly name: string; readonly reason: string }[];
}

/** Reads a patch directory (recursively, names in lexical order, as kubeadm's walk does). */
export async function loadPatchFiles(dir: string, reader: PatchReader, targets: readonly string[] = PATCH_TARGETS): Promise<LoadedPatches> {
  const top = await reader.stat(dir);
  if (!top) throw new PatchError(`could not list patch files for path "${dir}": no such directory`);
  if (top.kind !== 'dir') throw new PatchError(`could not list patch files for path "${dir}": not a directory`);
  const files: PatchFile[] = [];
  const ignored: { name: string; reason: string }[] = [];
  const walk = async (d: string): Promise<void> => {
    const names = [...((await reader.listDir(d)) ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const p = `${d.replace(/\/+$/, '')}/${name}`;
      const st = await reader.stat(p);
      if (st?.kind === 'dir') {
        await walk(p);
        continue;
      }
      const parsed = parsePatchFileName(name, targets);
      if (parsed.kind === 'ignored') {
        ignored.push({ name, reason: parsed.reason });
        continue;
      }
      const data = await reader.readFile(p);
      if (data === undefined) throw new PatchError(`could not read the file "${p}"`);
      if (data.length === 0) {
        ignored.push({ name, reason: 'empty file' });
        continue;
      }
      files.push({ path: p, target: parsed.target, type: parsed.type, documents: parsePatchDocuments(data.toString('utf8'), p) });
    }
  };
  await walk(dir);
  return { dir, files, ignored };
}

// ---------- helpers ----------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

// ---------- prototype safety ----------

/** Keys that would reach a JavaScript prototype; no Kubernetes object has them, so a patch that names one is refused. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Where `v` (a patch document or a value inside one) has a forbidden key, as a dotted path; undefined when nowhere. */
function forbiddenKeyIn(v: unknown, where = ''): string | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const hit = forbiddenKeyIn(v[i], `${where}[${i}]`);
      if (hit !== undefined) return hit;
    }
  } else if (isObj(v)) {
    for (const k of Object.keys(v)) {
      const here = where === '' ? k : `${where}.${k}`;
      if (FORBIDDEN_KEYS.has(k)) return here;
      const hit = forbiddenKeyIn(v[k], here);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

function refuseForbiddenKeys(patch: unknown): void {
  const hit = forbiddenKeyIn(patch);
  if (hit !== undefined) {
    throw new PatchError(`the patch names the key "${hit}": __proto__, constructor and prototype are refused (they would change a JavaScript prototype)`);
  }
}

// ---------- RFC 6902 ----------

function pointerTokens(ptr: string): string[] {
  return ptr === '' ? [] : ptr.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Our words for fast-json-patch's error names (its own messages carry the whole document). */
function jsonPatchMessage(err: unknown, op: Obj): string {
  const e = err as { name?: string; message?: string };
  const path = String(op.path);
  switch (e.name) {
    case 'OPERATION_PATH_UNRESOLVABLE':
      return `path "${path}" does not exist`;
    case 'OPERATION_FROM_UNRESOLVABLE':
      return `"from" path "${String(op.from)}" does not exist`;
    case 'OPERATION_PATH_CANNOT_ADD':
      return `the parent of "${path}" does not exist`;
    case 'OPERATION_VALUE_OUT_OF_BOUNDS':
      return `array index out of bounds in "${path}"`;
    case 'OPERATION_PATH_ILLEGAL_ARRAY_INDEX':
      return `invalid array index in "${path}"`;
    case 'TEST_OPERATION_FAILED':
      return `test failed: the value at "${path}" differs`;
    case 'OPERATION_VALUE_REQUIRED':
      return 'missing "value"';
    case 'OPERATION_FROM_REQUIRED':
      return 'missing "from"';
    case 'OPERATION_OP_INVALID':
      return `unknown operation "${String(op.op)}"`;
    case 'OPERATION_PATH_INVALID':
      return `invalid JSON pointer "${path}": it must start with "/"`;
    default:
      return (e.message ?? String(err)).split('\n')[0] as string;
  }
}

/** RFC 6902 (fast-json-patch) on a copy of `doc`; paths and values that reach a prototype are refused first. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new PatchError('a JSON patch must be a list of operations');
  let out = clone(doc);
  patch.forEach((op: unknown, i) => {
    if (!isObj(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new PatchError(`operation ${i}: needs "op" and "path" strings`);
    }
    const fail = (why: string): never => {
      throw new PatchError(`operation ${i} (${String(op.op)} ${String(op.path)}): ${why}`);
    };
    for (const ptr of [op.path, op.from]) {
      if (typeof ptr !== 'string') continue;
      const bad = pointerTokens(ptr).find((t) => FORBIDDEN_KEYS.has(t));
      if (bad !== undefined) fail(`the path names "${bad}": __proto__, constructor and prototype are refused (they would change a JavaScript prototype)`);
    }
    const inValue = forbiddenKeyIn(op.value);
    if (inValue !== undefined) fail(`the value names the key "${inValue}": __proto__, constructor and prototype are refused`);
    if (op.op === 'move' && typeof op.from === 'string' && op.path.startsWith(`${op.from}/`)) {
      fail(`cannot move "${op.from}" into its own child`);
    }
    try {
      // validate each operation, work on our copy, and let the library refuse prototype changes too
      const own = { ...op, ...('value' in op ? { value: clone(op.value) } : {}) } as unknown as jsonpatch.Operation;
      out = jsonpatch.applyOperation(out, own, true, true, true, i).newDocument;
    } catch (err) {
      fail(jsonPatchMessage(err, op));
    }
  });
  return out;
}

// ---------- RFC 7386 ----------

/** RFC 7386 merge patch (returns a new value): maps merge, `null` deletes, anything else (lists too) replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  refuseForbiddenKeys(patch);
  return mergePatch(target, patch);
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(Object.prototype.hasOwnProperty.call(out, k) ? out[k] : undefined, v);
  }
  return out;
}

// ---------- strategic merge patch ----------

/** Field name → merge key of that list (Kubernetes' patchMergeKey tags for the Pod fields kubeadm writes). */
export type MergeKeys = Readonly<Record<string, string>>;

export const POD_MERGE_KEYS: MergeKeys = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  resourceClaims: 'name',
  schedulingGates: 'name',
};

/** Merge keys per patch target; kubeletconfiguration has none (every list is replaced). */
export const TARGET_MERGE_KEYS: Readonly<Record<string, MergeKeys>> = {
  etcd: POD_MERGE_KEYS,
  'kube-apiserver': POD_MERGE_KEYS,
  'kube-controller-manager': POD_MERGE_KEYS,
  'kube-scheduler': POD_MERGE_KEYS,
  kubeletconfiguration: {},
};

const DIRECTIVE = '$patch';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ORDER = '$setElementOrder/';
const RETAIN_KEYS = '$retainKeys';

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => !(isObj(x) && x[DIRECTIVE] !== undefined && Object.keys(x).length === 1)).map(stripDirectives);
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
      out[k] = stripDirectives(x);
    }
    return out;
  }
  return v;
}

function mergeList(original: unknown, patch: unknown[], key: string | undefined, keys: MergeKeys, where: string): unknown[] {
  const replace = patch.some((x) => isObj(x) && x[DIRECTIVE] === 'replace');
  if (replace) return stripDirectives(patch.filter((x) => !(isObj(x) && x[DIRECTIVE] === 'replace'))) as unknown[];
  if (key === undefined || !Array.isArray(original)) return stripDirectives(patch) as unknown[];
  const out = clone(original) as unknown[];
  for (const item of patch) {
    if (!isObj(item)) throw new PatchError(`${where}: list items must be mappings with a "${key}" field`);
    const k = item[key];
    if (k === undefined) throw new PatchError(`${where}: list item has no merge key "${key}"`);
    const idx = out.findIndex((o) => isObj(o) && deepEqual(o[key], k));
    if (item[DIRECTIVE] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = mergeMap(out[idx], item, keys, `${where}[${key}=${JSON.stringify(k)}]`);
    else out.push(stripDirectives(item));
  }
  return out;
}

function mergeMap(original: unknown, patch: Obj, keys: MergeKeys, where: string): unknown {
  const directive = patch[DIRECTIVE];
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return undefined;
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`${where}: unknown $patch directive "${String(directive)}"`);
  const out: Obj = isObj(original) ? clone(original) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER)) continue;
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      if (!Array.isArray(v)) throw new PatchError(`${where}.${k}: must be a list`);
      const cur = out[field];
      if (Array.isArray(cur)) out[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    const here = where === '' ? k : `${where}.${k}`;
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(out[k], v, keys[k], keys, here);
    else if (isObj(v)) {
      const merged = mergeMap(out[k], v, keys, here);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  return out;
}

/** Strategic merge patch with the given merge keys (returns a new value). */
export function applyStrategicMergePatch(target: unknown, patch: unknown, keys: MergeKeys = POD_MERGE_KEYS): unknown {
  if (!isObj(patch)) throw new PatchError('a strategic merge patch must be a mapping');
  refuseForbiddenKeys(patch);
  const r = mergeMap(target, patch, keys, '');
  return r === undefined ? {} : r;
}

// ---------- applying ----------

export interface AppliedPatch {
  readonly file: string;
  readonly type: string;
}

/**
 * Applies every patch file for `target` (in the order given, each document in turn) to a copy of `object`.
 * A patch that does not apply is a PatchError naming the file (and the document when there are several).
 */
export function applyPatches(target: string, object: unknown, patchFiles: readonly PatchFile[]): { object: unknown; applied: AppliedPatch[] } {
  let cur = clone(object);
  const applied: AppliedPatch[] = [];
  const keys = TARGET_MERGE_KEYS[target] ?? {};
  for (const f of patchFiles) {
    if (f.target !== target) continue;
    f.documents.forEach((doc, i) => {
      try {
        switch (f.type) {
          case 'json':
            cur = applyJsonPatch(cur, doc);
            break;
          case 'merge':
            cur = applyMergePatch(cur, doc);
            break;
          case 'strategic':
            cur = applyStrategicMergePatch(cur, doc, keys);
            break;
        }
      } catch (err) {
        const which = f.documents.length > 1 ? ` (document ${i + 1})` : '';
        throw new PatchError(
          `could not apply patch file "${f.path}"${which} of type "${PATCH_MEDIA_TYPE[f.type]}" to target "${target}": ${(err as Error).message}`,
        );
      }
      applied.push({ file: f.path, type: PATCH_MEDIA_TYPE[f.type] });
    });
  }
  return { object: cur, applied };
}
