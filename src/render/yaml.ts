/**
 * The one YAML serializer. kubeadm marshals objects to JSON and then to YAML with go-yaml, so every
 * mapping's keys come out sorted by go-yaml's key order; this module reproduces that order (for a Pod it is
 * apiVersion, kind, metadata, spec, status) with fixed js-yaml options, so the same input gives the same
 * bytes. Anything that is not plain data (class instances, functions, undefined inside arrays, NaN) is
 * rejected rather than silently dropped.
 */
import * as yaml from 'js-yaml';

/** go-yaml's mapping key order: letters by code point, runs of digits by numeric value, other characters before letters. */
export function goYamlKeyLess(a: string, b: string): boolean {
  const ar = Array.from(a);
  const br = Array.from(b);
  const isLetter = (c: string) => /\p{L}/u.test(c);
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const x = ar[i] as string;
    const y = br[i] as string;
    if (x === y) continue;
    const xl = isLetter(x);
    const yl = isLetter(y);
    if (xl && yl) return x < y;
    if (xl || yl) return yl;
    let an = 0;
    let bn = 0;
    if (x === '0' || y === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10 + Number(ar[ai]);
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10 + Number(br[bi]);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return x < y;
  }
  return ar.length < br.length;
}

export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return goYamlKeyLess(a, b) ? -1 : 1;
}

export class SerializeError extends Error {}

function checkPlain(value: unknown, path: string): void {
  if (value === null) return;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new SerializeError(`${path}: ${value} is not a finite number`);
      return;
    case 'object': {
      if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v === undefined) throw new SerializeError(`${path}[${i}]: undefined inside a list`);
          checkPlain(v, `${path}[${i}]`);
        });
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new SerializeError(`${path}: not a plain object (${proto?.constructor?.name ?? 'unknown'})`);
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue; // absent field, as Go's omitempty
        checkPlain(v, path === '' ? k : `${path}.${k}`);
      }
      return;
    }
    default:
      throw new SerializeError(`${path || '<root>'}: cannot serialize a ${typeof value}`);
  }
}

/** Removes undefined-valued keys so that they are never emitted. */
function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) out[k] = dropUndefined(v);
    }
    return out;
  }
  return value;
}

const DUMP_OPTIONS = {
  indent: 2,
  seqNoIndent: true,
  lineWidth: -1,
  noRefs: true,
  quoteStyle: 'double',
  sortKeys: compareKeys,
} as const;

/** Serializes one document: sorted keys, one trailing newline. */
export function toYaml(value: unknown): string {
  checkPlain(value, '');
  const text = yaml.dump(dropUndefined(value), DUMP_OPTIONS as unknown as yaml.DumpOptions);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Several documents joined with `---`, as kubeadm's config printers do. */
export function toYamlDocuments(values: readonly unknown[]): string {
  return values.map(toYaml).join('---\n');
}

/** Parses every document of a multi-document YAML text (core schema: no custom types). */
export function parseYamlDocuments(text: string): unknown[] {
  return yaml.loadAll(text) as unknown[];
}

export function parseYaml(text: string): unknown {
  return yaml.load(text);
}
