/**
 * Go durations ("4m0s", "8760h", "1h30m", ".5s") as kubeadm's config and flags use them: the text rules of Go's
 * time.ParseDuration and time.Duration.String, on int64 nanoseconds held as bigint. Written here (no maintained
 * package reads Go's exact grammar); Go's own test tables are the unit tests.
 */

const NS_PER_MS = 1_000_000n;
const LIMIT = 1n << 63n; // |min int64|; max int64 is LIMIT - 1
const MAX_BEFORE_TIMES_10 = LIMIT / 10n;

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  '\u00b5s': 1_000n, // micro sign
  '\u03bcs': 1_000n, // Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Parses a Go duration into nanoseconds; undefined where time.ParseDuration returns an error. */
export function parseDurationNs(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  let i = 0;
  while (i < s.length) {
    if (!(s[i] === '.' || isDigit(s[i]))) return undefined;
    // the integer part: an overflow is an error
    let whole = 0n;
    const intStart = i;
    for (; isDigit(s[i]); i++) {
      if (whole > MAX_BEFORE_TIMES_10) return undefined;
      whole = whole * 10n + BigInt(Number(s[i]));
      if (whole > LIMIT) return undefined;
    }
    const pre = i > intStart;
    // the fraction: digits past what int64 holds are read and ignored
    let frac = 0n;
    let scale = 1;
    let post = false;
    if (s[i] === '.') {
      i++;
      const fracStart = i;
      let overflow = false;
      for (; isDigit(s[i]); i++) {
        if (overflow) continue;
        if (frac > (LIMIT - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const next = frac * 10n + BigInt(Number(s[i]));
        if (next > LIMIT) {
          overflow = true;
          continue;
        }
        frac = next;
        scale *= 10;
      }
      post = i > fracStart;
    }
    if (!pre && !post) return undefined;
    // the unit: everything up to the next digit or '.'
    const unitStart = i;
    while (i < s.length && !(s[i] === '.' || isDigit(s[i]))) i++;
    if (i === unitStart) return undefined;
    const unit = UNIT_NS[s.slice(unitStart, i)];
    if (unit === undefined) return undefined;
    if (whole > LIMIT / unit) return undefined;
    let v = whole * unit;
    if (frac > 0n) {
      // Go adds the fraction in float64, truncated: same arithmetic here, so rounding agrees
      v += BigInt(Math.trunc(Number(frac) * (Number(unit) / scale)));
      if (v > LIMIT) return undefined;
    }
    total += v;
    if (total > LIMIT) return undefined;
  }
  if (neg) return -total;
  if (total > LIMIT - 1n) return undefined;
  return total;
}

/** Parses a Go duration into milliseconds (fractional below 1 ms); undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const ns = parseDurationNs(text);
  if (ns === undefined) return undefined;
  const whole = ns / NS_PER_MS;
  return Number(whole) + Number(ns - whole * NS_PER_MS) / 1e6;
}

/** Digits of `v` below 10^prec as a fraction (".5"), trailing zeros dropped; "" when they are all zero. */
function fraction(v: bigint, prec: number): string {
  const digits = (v % 10n ** BigInt(prec)).toString().padStart(prec, '0').replace(/0+$/, '');
  return digits === '' ? '' : `.${digits}`;
}

/** Go's time.Duration.String() for a duration in nanoseconds ("4m0s", "8760h0m0s", "1.5s", "250ms", "1.1µs"). */
export function formatDurationNs(ns: bigint): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  const u = ns < 0n ? -ns : ns;
  if (u < 1_000_000_000n) {
    if (u < 1_000n) return `${sign}${u}ns`;
    if (u < 1_000_000n) return `${sign}${u / 1_000n}${fraction(u, 3)}\u00b5s`;
    return `${sign}${u / 1_000_000n}${fraction(u, 6)}ms`;
  }
  const secs = u / 1_000_000_000n;
  let out = `${secs % 60n}${fraction(u, 9)}s`;
  const mins = secs / 60n;
  if (mins > 0n) {
    out = `${mins % 60n}m${out}`;
    const hours = mins / 60n;
    if (hours > 0n) out = `${hours}h${out}`;
  }
  return sign + out;
}

/** formatDurationNs for milliseconds (sub-millisecond parts rounded to the nanosecond). */
export function formatDuration(ms: number): string {
  const whole = Math.trunc(ms);
  return formatDurationNs(BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6)));
}
