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

/** kubeadm's targets (patches.KnownTargets): the static pods, the kubelet configuration, the addons' workloads. */
export const PATCH_TARGETS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubeletconfiguration', 'corednsdeployment', 'kubeproxydaemonset'] as const;
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

const escapeToken = (t: string): string => t.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The pointer with kubeadm's json-patch (gopkg.in/evanphx/json-patch.v4) list indexes made plain: a negative index
 * counts from the end (-1 is the last item; for the last token of an add, -1 is the end of the list). Tokens that do
 * not lead anywhere are left for the library to report.
 */
function plainIndexes(doc: unknown, ptr: string, lastIsAdd: boolean): string {
  if (!ptr.startsWith('/')) return ptr;
  const tokens = pointerTokens(ptr);
  let cur: unknown = doc;
  const out = tokens.map((t, i) => {
    let token = t;
    if (Array.isArray(cur) && /^-[0-9]+$/.test(t)) {
      const n = Number(t) + cur.length + (lastIsAdd && i === tokens.length - 1 ? 1 : 0);
      if (n >= 0) token = String(n);
    }
    cur = Array.isArray(cur) ? cur[Number(token)] : isObj(cur) && Object.prototype.hasOwnProperty.call(cur, token) ? cur[token] : undefined;
    return token;
  });
  return out.length === 0 ? '' : `/${out.map(escapeToken).join('/')}`;
}

/** One operation as kubeadm's json-patch reads it: negative indexes, and `replace` of an absent map key adds it. */
function asKubeadmReadsIt(doc: unknown, op: Obj): Obj {
  const path = plainIndexes(doc, op.path as string, op.op === 'add');
  const from = typeof op.from === 'string' ? plainIndexes(doc, op.from, false) : undefined;
  let kind = op.op;
  if (kind === 'replace' && path.startsWith('/')) {
    const tokens = pointerTokens(path);
    const key = tokens.pop() as string;
    let parent: unknown = doc;
    for (const t of tokens) parent = Array.isArray(parent) ? parent[Number(t)] : isObj(parent) ? parent[t] : undefined;
    if (isObj(parent) && !Object.prototype.hasOwnProperty.call(parent, key)) kind = 'add';
  }
  return { ...op, op: kind, path, ...(from !== undefined ? { from } : {}), ...('value' in op ? { value: clone(op.value) } : {}) };
}

/**
 * RFC 6902 (fast-json-patch) on a copy of `doc`, read as kubeadm's json-patch reads it (see asKubeadmReadsIt); paths
 * and values that reach a prototype are refused first.
 */
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
      const own = asKubeadmReadsIt(out, op) as unknown as jsonpatch.Operation;
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

/**
 * The patch metadata of one field, from the Go struct tags of the Kubernetes type that holds it: `patchStrategy`
 * ("merge", "replace", "retainKeys" or "merge,retainKeys") and `patchMergeKey`. A list merges only when its strategy
 * is merge (a list of maps by its merge key, a list of scalars as a set); every other list is replaced.
 */
export interface FieldPatchMeta {
  readonly strategy?: 'merge' | 'replace';
  readonly mergeKey?: string;
  /** the strategy also names retainKeys (informational: `$retainKeys` is honoured wherever it appears) */
  readonly retainKeys?: boolean;
  /** the type of the field's value (of a list's elements): its own fields' metadata */
  readonly type?: PatchSchema;
}

/** A Go struct (or map) type, by the fields that carry patch metadata or lead to one that does. */
export interface PatchSchema {
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldPatchMeta>>;
}

/** A type without patch metadata (a map, or a struct whose lists are all replaced). */
const PLAIN = (name: string): PatchSchema => ({ name, fields: {} });

const byName = (type?: PatchSchema): FieldPatchMeta => ({ strategy: 'merge', mergeKey: 'name', ...(type ? { type } : {}) });

/** k8s.io/api core/v1 Container (and EphemeralContainerCommon, which has the same tags). */
const CONTAINER: PatchSchema = {
  name: 'Container',
  fields: {
    ports: { strategy: 'merge', mergeKey: 'containerPort' },
    env: byName(),
    volumeMounts: { strategy: 'merge', mergeKey: 'mountPath' },
    volumeDevices: { strategy: 'merge', mergeKey: 'devicePath' },
  },
};

/** k8s.io/apimachinery meta/v1 ObjectMeta. */
const OBJECT_META: PatchSchema = {
  name: 'ObjectMeta',
  fields: {
    finalizers: { strategy: 'merge' },
    ownerReferences: { strategy: 'merge', mergeKey: 'uid' },
  },
};

/** k8s.io/api core/v1 PodSpec: tolerations, readinessGates, dnsConfig lists and the rest have no tags (replaced). */
const POD_SPEC: PatchSchema = {
  name: 'PodSpec',
  fields: {
    volumes: { strategy: 'merge', mergeKey: 'name', retainKeys: true, type: PLAIN('Volume') },
    initContainers: byName(CONTAINER),
    containers: byName(CONTAINER),
    ephemeralContainers: byName({ ...CONTAINER, name: 'EphemeralContainer' }),
    imagePullSecrets: byName(),
    hostAliases: { strategy: 'merge', mergeKey: 'ip' },
    topologySpreadConstraints: { strategy: 'merge', mergeKey: 'topologyKey' },
    schedulingGates: byName(),
    resourceClaims: { strategy: 'merge', mergeKey: 'name', retainKeys: true },
  },
};

/** k8s.io/api core/v1 PodStatus (the container status lists have no tags, so they are replaced whole). */
const POD_STATUS: PatchSchema = {
  name: 'PodStatus',
  fields: {
    conditions: { strategy: 'merge', mergeKey: 'type' },
    hostIPs: { strategy: 'merge', mergeKey: 'ip' },
    podIPs: { strategy: 'merge', mergeKey: 'ip' },
    resourceClaimStatuses: { strategy: 'merge', mergeKey: 'name', retainKeys: true },
  },
};

/** The schema kubeadm patches static Pods with (`v1.Pod{}`). */
export const POD_SCHEMA: PatchSchema = {
  name: 'Pod',
  fields: { metadata: { type: OBJECT_META }, spec: { type: POD_SPEC }, status: { type: POD_STATUS } },
};

/** k8s.io/api apps/v1 Deployment and DaemonSet (kubeadm patches the addons' workloads as `apps.Deployment{}` / `apps.DaemonSet{}`). */
const WORKLOAD_SCHEMA = (name: string): PatchSchema => ({
  name,
  fields: {
    metadata: { type: OBJECT_META },
    spec: { type: { name: `${name}Spec`, fields: { template: { type: { name: 'PodTemplateSpec', fields: { metadata: { type: OBJECT_META }, spec: { type: POD_SPEC } } } } } } },
  },
});

/** k8s.io/kubelet config/v1beta1 KubeletConfiguration has no patch tags: maps merge, every list is replaced. */
export const KUBELET_CONFIGURATION_SCHEMA: PatchSchema = PLAIN('KubeletConfiguration');

/** The schema of each patch target. */
export const TARGET_SCHEMAS: Readonly<Record<string, PatchSchema>> = {
  etcd: POD_SCHEMA,
  'kube-apiserver': POD_SCHEMA,
  'kube-controller-manager': POD_SCHEMA,
  'kube-scheduler': POD_SCHEMA,
  kubeletconfiguration: KUBELET_CONFIGURATION_SCHEMA,
  corednsdeployment: WORKLOAD_SCHEMA('Deployment'),
  kubeproxydaemonset: WORKLOAD_SCHEMA('DaemonSet'),
};

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList';
const SET_ORDER = '$setElementOrder';

function fieldMeta(schema: PatchSchema, key: string): { meta: FieldPatchMeta; type: PatchSchema } {
  const meta = schema.fields[key] ?? {};
  return { meta, type: meta.type ?? PLAIN(`${schema.name}.${key}`) };
}

/** The JSON kind of a value, as Go's reflect sees a decoded JSON document. */
function kindOf(v: unknown): 'map' | 'list' | 'string' | 'number' | 'boolean' | 'null' {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'map';
  return typeof v as 'string' | 'number' | 'boolean';
}

const show = (v: unknown): string => JSON.stringify(v);

/** A patch value taken as it is (no original to merge with): nulls dropped, directive entries removed. */
function takePatchValue(v: unknown): { keep: boolean; value?: unknown } {
  if (isObj(v)) {
    if (Object.prototype.hasOwnProperty.call(v, DIRECTIVE)) return { keep: false };
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === null || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
      const r = takePatchValue(x);
      if (r.keep) out[k] = r.value;
    }
    return { keep: true, value: out };
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const r = takePatchValue(x);
      if (r.keep) out.push(r.value);
    }
    return { keep: true, value: out };
  }
  return { keep: true, value: v };
}

function directiveKey(k: string, prefix: string, where: string): string {
  const slash = k.indexOf('/');
  if (slash < 0 || k.slice(0, slash) !== prefix) throw new PatchError(`${where}: invalid directive "${k}": expected "${prefix}/<field>"`);
  return k.slice(slash + 1);
}

/** The one element kind of some lists (Go's sliceElementType); lists of lists are not supported. */
function elementKind(where: string, ...lists: unknown[][]): string {
  let kind: string | undefined;
  for (const l of lists) {
    for (const v of l) {
      const k = kindOf(v);
      if (kind === undefined) {
        if (k === 'list') throw new PatchError(`${where}: lists of lists are not supported`);
        kind = k;
      } else if (kind !== k) throw new PatchError(`${where}: list element types are not identical`);
    }
  }
  if (kind === undefined) throw new PatchError(`${where}: no elements in any of the given lists`);
  return kind;
}

function keyOf(item: unknown, mergeKey: string, where: string): unknown {
  if (!isObj(item)) throw new PatchError(`${where}: list items must be mappings with a "${mergeKey}" field`);
  if (!Object.prototype.hasOwnProperty.call(item, mergeKey)) throw new PatchError(`${where}: list item has no merge key "${mergeKey}": ${show(item)}`);
  return item[mergeKey];
}

/** Position of `item` in `list`, by merge key for maps, by value for scalars; -1 when absent. */
function indexIn(list: readonly unknown[], item: unknown, mergeKey: string | undefined): number {
  if (mergeKey !== undefined && isObj(item)) return list.findIndex((x) => isObj(x) && deepEqual(x[mergeKey], item[mergeKey]));
  return list.findIndex((x) => deepEqual(x, item));
}

/** Splits `merged` into the items present in `by` and the rest, keeping their order. */
function partition(merged: unknown[], by: readonly unknown[], mergeKey: string | undefined, where: string): [unknown[], unknown[]] {
  const inBy: unknown[] = [];
  const rest: unknown[] = [];
  for (const v of merged) {
    if (mergeKey !== undefined) keyOf(v, mergeKey, where);
    (indexIn(by, v, mergeKey) >= 0 ? inBy : rest).push(v);
  }
  return [inBy, rest];
}

/** Stable sort of `items` by their positions in `order` (items not in it keep their place). */
function sortBy(items: unknown[], order: readonly unknown[], mergeKey: string | undefined): unknown[] {
  return items
    .map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey) }))
    .sort((a, b) => (a.at >= 0 && b.at >= 0 && a.at !== b.at ? a.at - b.at : a.i - b.i))
    .map((x) => x.v);
}

/**
 * Kubernetes' element order after a merge: the patch's items in the patch's order, the original-only items in their
 * original order, interleaved where the original order says an original-only item came before a patch item.
 */
function normalizeOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: readonly unknown[], serverOrder: readonly unknown[], mergeKey: string | undefined): unknown[] {
  const right = sortBy(patchItems, patchOrder, mergeKey);
  const left = sortBy(serverOnly, serverOrder, mergeKey);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Scalars appended then de-duplicated the way Go's deduplicateScalars does (a later duplicate takes the last item's slot). */
function dedupScalars(s: unknown[]): unknown[] {
  const out = [...s];
  let last = out.length - 1;
  for (let i = 0; i < last; i++) {
    for (let j = i + 1; j <= last; j++) {
      if (deepEqual(out[i], out[j])) {
        out[j] = out[last];
        out.length = last;
        last--;
        j--;
      }
    }
  }
  return out;
}

function mergeSlice(original: unknown[], patch: unknown[], type: PatchSchema, mergeKey: string | undefined, isDeleteList: boolean, where: string): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(where, original, patch);
  let merged: unknown[];
  let orig = original;
  let rest: unknown[] = patch;
  if (kind !== 'map') {
    if (isDeleteList) return original.filter((x) => !patch.some((d) => deepEqual(d, x)));
    merged = dedupScalars([...original, ...patch]);
  } else {
    if (mergeKey === undefined) throw new PatchError(`${where}: cannot merge lists without merge key for ${type.name}`);
    // the special elements: {$patch: delete, <key>: v} removes, {$patch: replace} makes the other items the list
    rest = [];
    let replace = false;
    for (const item of patch) {
      const m = item as Obj;
      if (!Object.prototype.hasOwnProperty.call(m, DIRECTIVE)) {
        rest.push(item);
        continue;
      }
      const d = m[DIRECTIVE];
      if (d === 'delete') {
        const k = keyOf(m, mergeKey, where);
        orig = orig.filter((x) => !(isObj(x) && deepEqual(x[mergeKey], k)));
      } else if (d === 'replace') replace = true;
      else if (d === 'merge') throw new PatchError(`${where}: merging lists cannot yet be specified in the patch`);
      else throw new PatchError(`${where}: unknown $patch directive "${String(d)}" in ${show(m)}`);
    }
    if (replace) {
      orig = rest.map((x) => takePatchValue(x).value);
      rest = [];
    }
    merged = [...orig];
    for (const item of rest) {
      const k = keyOf(item, mergeKey, where);
      const idx = merged.findIndex((x) => isObj(x) && deepEqual(x[mergeKey], k));
      if (idx >= 0) merged[idx] = mergeMap(merged[idx] as Obj, item as Obj, type, `${where}[${mergeKey}=${show(k)}]`);
      else merged.push(takePatchValue(item).value);
    }
  }
  const key = kind === 'map' ? mergeKey : undefined;
  const [patchItems, serverOnly] = partition(merged, rest, key, where);
  return normalizeOrder(patchItems, serverOnly, rest, orig, key);
}

function mergeListField(original: unknown[], patch: unknown[], meta: FieldPatchMeta, type: PatchSchema, isDeleteList: boolean, where: string): unknown[] {
  if (meta.strategy === 'merge' || isDeleteList) return mergeSlice(original, patch, type, meta.mergeKey, isDeleteList, where);
  return takePatchValue(patch).value as unknown[];
}

function applyRetainKeys(original: Obj, patch: Obj, where: string): void {
  if (!Object.prototype.hasOwnProperty.call(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw new PatchError(`${where}: invalid patch format of $retainKeys: it must be a list`);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PRIMITIVE) || k.startsWith(SET_ORDER)) continue;
    if (!list.includes(k)) throw new PatchError(`${where}: invalid patch format of $retainKeys: "${k}" is patched but not retained`);
  }
  for (const k of Object.keys(original)) if (!list.includes(k)) delete original[k];
}

/** `$setElementOrder/<field>`: the list merged as usual, then put in the given order. */
function applySetElementOrder(original: Obj, patch: Obj, schema: PatchSchema, where: string): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    const field = directiveKey(key, SET_ORDER, where);
    const here = where === '' ? field : `${where}.${field}`;
    if (!Array.isArray(order)) throw new PatchError(`${here}: invalid patch format of ${SET_ORDER}: it must be a list`);
    const hasOrig = Object.prototype.hasOwnProperty.call(original, field);
    const hasPatch = Object.prototype.hasOwnProperty.call(patch, field);
    const origList = original[field];
    const patchList = patch[field];
    if (hasOrig && !Array.isArray(origList)) throw new PatchError(`${here}: the original is not a list`);
    if (hasPatch && !Array.isArray(patchList)) throw new PatchError(`${here}: the patch is not a list`);
    const { meta, type } = fieldMeta(schema, field);
    const mergeKey = meta.mergeKey;
    checkOrderList((patchList as unknown[] | undefined) ?? [], order, mergeKey, here);
    let merged: unknown[];
    if (hasOrig && !hasPatch) merged = origList as unknown[];
    else if (!hasOrig && hasPatch) merged = takePatchValue(patchList).value as unknown[];
    else if (hasOrig && hasPatch) merged = mergeListField(origList as unknown[], patchList as unknown[], meta, type, false, here);
    else continue;
    const kind = elementKind(here, (origList as unknown[] | undefined) ?? [], (patchList as unknown[] | undefined) ?? []);
    const k = kind === 'map' ? mergeKey : undefined;
    const [inOrder, serverOnly] = partition(merged, order, k, here);
    original[field] = normalizeOrder(inOrder, serverOnly, order, (origList as unknown[] | undefined) ?? [], k);
    delete patch[field];
  }
}

/** The patch list's items (deletions aside) must appear in the `$setElementOrder` list, in the same relative order. */
function checkOrderList(patchList: unknown[], order: unknown[], mergeKey: string | undefined, where: string): void {
  if (patchList.length === 0 || order.length === 0) return;
  const items = mergeKey === undefined ? patchList : patchList.filter((x) => !(isObj(x) && x[DIRECTIVE] === 'delete'));
  let p = 0;
  for (let o = 0; p < items.length && o < order.length; o++) {
    if (isObj(items[p]) && Object.prototype.hasOwnProperty.call(items[p], DIRECTIVE)) {
      p++;
      o--;
      continue;
    }
    const same = mergeKey === undefined ? deepEqual(items[p], order[o]) : deepEqual(keyOf(items[p], mergeKey, where), keyOf(order[o], mergeKey, where));
    if (same) p++;
  }
  if (p < items.length) throw new PatchError(`${where}: the order of the patch list does not match its ${SET_ORDER} list`);
}

function mergeMap(original: Obj | undefined, patchIn: Obj, schema: PatchSchema, where: string): Obj {
  if (Object.prototype.hasOwnProperty.call(patchIn, DIRECTIVE)) {
    const d = patchIn[DIRECTIVE];
    if (d === 'replace') {
      const { [DIRECTIVE]: _, ...rest } = patchIn;
      return takePatchValue(rest).value as Obj;
    }
    if (d === 'delete') return {};
    throw new PatchError(`${where === '' ? 'the patch' : where}: unknown $patch directive "${String(d)}" for a map`);
  }
  const out: Obj = original ? clone(original) : {};
  const patch: Obj = { ...patchIn };
  applyRetainKeys(out, patch, where);
  applySetElementOrder(out, patch, schema, where);
  for (const [rawKey, pv] of Object.entries(patch)) {
    let k = rawKey;
    let isDeleteList = false;
    if (rawKey.startsWith(DELETE_PRIMITIVE)) {
      k = directiveKey(rawKey, DELETE_PRIMITIVE, where);
      isDeleteList = true;
    }
    const here = where === '' ? k : `${where}.${k}`;
    if (pv === null) {
      delete out[k];
      continue;
    }
    const has = Object.prototype.hasOwnProperty.call(out, k);
    const ok = has ? kindOf(out[k]) : 'null';
    const pk = kindOf(pv);
    if (!has || ok !== pk) {
      if (isDeleteList) continue;
      const r = takePatchValue(pv);
      if (r.keep) out[k] = r.value;
      else delete out[k];
      continue;
    }
    const { meta, type } = fieldMeta(schema, k);
    if (pk === 'map') out[k] = meta.strategy === 'replace' ? takePatchValue(pv).value : mergeMap(out[k] as Obj, pv as Obj, type, here);
    else if (pk === 'list') out[k] = mergeListField(out[k] as unknown[], pv as unknown[], meta, type, isDeleteList, here);
    else out[k] = pv;
  }
  return out;
}

/**
 * Kubernetes' strategic merge patch (apimachinery's StrategicMergePatch, as kubeadm applies it) on a copy of `target`,
 * with the patch metadata of `schema` by path: `spec.containers[*].ports` merge by containerPort, `spec.volumes` by
 * name, lists without a merge strategy (command, args, tolerations, every KubeletConfiguration list) are replaced.
 * Directives: `$patch: replace|delete` on a map, `$patch: delete|replace` as a list item, `$retainKeys`,
 * `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>`. `null` deletes a field.
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown, schema: PatchSchema = POD_SCHEMA): unknown {
  if (!isObj(patch)) throw new PatchError('a strategic merge patch must be a mapping');
  refuseForbiddenKeys(patch);
  return mergeMap(isObj(target) ? target : undefined, patch, schema, '');
}

// ---------- the patched Pod as kubeadm prints it ----------

/**
 * What Go's encoding of a k8s.io/api type does to a field when kubeadm decodes the patched manifest into a v1.Pod and
 * encodes it again: `maps` (Go maps with omitempty) and `zeroDropped` (value-typed omitempty scalars) vanish when empty
 * or zero; `always` are struct or non-omitempty fields Go prints even when a patch removed them (with this zero value).
 * Only the fields kubeadm's manifests and common patches touch are listed; `null` and empty lists vanish everywhere.
 */
interface GoPrint {
  readonly maps?: readonly string[];
  readonly zeroDropped?: readonly string[];
  readonly always?: Readonly<Record<string, unknown>>;
  /** struct-valued fields, and the element type of list fields */
  readonly fields?: Readonly<Record<string, GoPrint>>;
}

const PRINT_PROBE: GoPrint = {
  zeroDropped: ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'],
  fields: { httpGet: { zeroDropped: ['host', 'path', 'scheme'] } },
};

const PRINT_CONTAINER: GoPrint = {
  zeroDropped: ['image', 'workingDir', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'stdin', 'stdinOnce', 'tty'],
  always: { resources: {} },
  fields: {
    resources: { maps: ['limits', 'requests'] },
    livenessProbe: PRINT_PROBE,
    readinessProbe: PRINT_PROBE,
    startupProbe: PRINT_PROBE,
    volumeMounts: { zeroDropped: ['readOnly', 'subPath', 'subPathExpr'] },
    ports: { zeroDropped: ['hostPort', 'hostIP', 'name', 'protocol'] },
    env: { zeroDropped: ['value'] },
  },
};

const PRINT_POD: GoPrint = {
  always: { metadata: {}, spec: {}, status: {} },
  fields: {
    metadata: { maps: ['labels', 'annotations'] },
    spec: {
      maps: ['nodeSelector', 'overhead'],
      zeroDropped: ['hostNetwork', 'hostPID', 'hostIPC', 'restartPolicy', 'dnsPolicy', 'serviceAccountName', 'nodeName', 'schedulerName', 'priorityClassName', 'hostname', 'subdomain'],
      fields: { containers: PRINT_CONTAINER, initContainers: PRINT_CONTAINER, ephemeralContainers: PRINT_CONTAINER },
    },
  },
};

const isZero = (v: unknown): boolean => v === false || v === 0 || v === '' || (isObj(v) && Object.keys(v).length === 0);

function goPrint(v: unknown, t: GoPrint | undefined): unknown {
  if (Array.isArray(v)) return v.map((x) => goPrint(x, t));
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null && !(t?.always && k in t.always)) continue;
    if (Array.isArray(x) && x.length === 0) continue;
    if ((t?.maps?.includes(k) || t?.zeroDropped?.includes(k)) && isZero(x)) continue;
    out[k] = goPrint(x, t?.fields?.[k]);
  }
  for (const [k, zero] of Object.entries(t?.always ?? {})) if (!(k in out)) out[k] = clone(zero);
  return out;
}

/** The patched static Pod with the bytes kubeadm's v1.Pod round trip gives (see GoPrint). */
export function asKubeadmPrintsPod(pod: unknown): unknown {
  return goPrint(pod, PRINT_POD);
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
  const schema = TARGET_SCHEMAS[target] ?? PLAIN(target);
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
            cur = applyStrategicMergePatch(cur, doc, schema);
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
  // kubeadm decodes a patched static Pod into a v1.Pod and encodes it again; the KubeletConfiguration it writes as patched
  if (applied.length > 0 && schema === POD_SCHEMA) cur = asKubeadmPrintsPod(cur);
  return { object: cur, applied };
}
