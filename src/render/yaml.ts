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

// ---------- go-yaml v2's scalar styles (sigs.k8s.io/yaml's JSONToYAML, what kubeadm writes with) ----------

const GO_YAML_MAP = new Set([
  'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON',
  'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF',
  '', '~', 'null', 'Null', 'NULL',
  '.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '<<',
]);
const GO_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const GO_TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]| +)[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]*)?( *(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?$/;
const GO_BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** Go's strconv.ParseInt/ParseUint(s, 0, 64) accepting it (after go-yaml removed the underscores). */
function goParsesAsInt(s: string): boolean {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return false;
  const d = (m[2] as string).toLowerCase();
  const big = /^0[xob]/.test(d) ? BigInt(d) : d.length > 1 && d.startsWith('0') ? BigInt(`0o${d.slice(1)}`) : BigInt(d);
  const v = m[1] === '-' ? -big : big;
  return v >= -(2n ** 63n) && v < 2n ** 64n;
}

/**
 * Whether go-yaml v2 reads the unquoted text as something other than a string (its resolve(): YAML 1.1 booleans and
 * nulls, ints in Go's bases, floats, timestamps, the merge key): such a string is written double-quoted.
 */
export function goYamlResolvesToNonString(s: string): boolean {
  if (GO_YAML_MAP.has(s)) return true;
  const first = s[0];
  if (first === '.') return GO_FLOAT.test(s);
  if (first === undefined || !/[-+0-9]/.test(first)) return false;
  if (GO_TIMESTAMP.test(s)) return true;
  const plain = s.replace(/_/g, '');
  if (goParsesAsInt(plain)) return true;
  if (GO_FLOAT.test(plain)) return true;
  return /^-?0b[01]+$/.test(plain);
}

type Layout = { node: { value: string; tag: string }; style: number; allowedStylesMask: number };

/**
 * go-yaml v2's choice for a string: double quotes when the plain text would read as another type (or a base-60
 * float); otherwise plain when plain is valid YAML, else single quotes, else double quotes (special characters).
 */
function goYamlV2Style(layout: Layout): void {
  if (!layout.node.tag.endsWith(':str') || layout.style !== yaml.SCALAR_STYLE.PLAIN) return;
  const has = (st: number) => (layout.allowedStylesMask & (1 << st)) !== 0;
  const v = layout.node.value;
  if (goYamlResolvesToNonString(v) || GO_BASE60.test(v)) layout.style = yaml.SCALAR_STYLE.DOUBLE_QUOTED;
  else if (!has(yaml.SCALAR_STYLE.PLAIN)) layout.style = has(yaml.SCALAR_STYLE.SINGLE_QUOTED) ? yaml.SCALAR_STYLE.SINGLE_QUOTED : yaml.SCALAR_STYLE.DOUBLE_QUOTED;
}

const R = yaml.DEFAULT_SCALAR_STYLE_RULES as unknown as Record<string, (l: Layout) => void>;

const DUMP_OPTIONS = {
  indent: 2,
  seqNoIndent: true,
  lineWidth: -1,
  noRefs: true,
  quoteStyle: 'double',
  sortKeys: compareKeys,
  scalarStyleRules: [R.doubleQuoteForInvisibles, R.tryLongOrMultilineAsBlock, goYamlV2Style, R.fallbackToDoubleQuoted],
} as const;

/** Serializes one document: sorted keys, one trailing newline. */
export function toYaml(value: unknown): string {
  checkPlain(value, '');
  const text = yaml.dump(dropUndefined(value), DUMP_OPTIONS as unknown as yaml.DumpOptions);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * Serializes one document with the same scalar rules but each mapping's keys in their own order: for YAML text that
 * kubeadm writes by hand rather than marshals (the kubeconfig.conf of the kube-proxy ConfigMap).
 */
export function toYamlInOrder(value: unknown): string {
  checkPlain(value, '');
  const text = yaml.dump(dropUndefined(value), { ...DUMP_OPTIONS, sortKeys: false } as unknown as yaml.DumpOptions);
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
