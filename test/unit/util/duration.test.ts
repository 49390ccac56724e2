/**
 * Go durations: every case of Go's own tables (src/time/time_test.go: parseDurationTests, parseDurationErrorTests and
 * durationTests for Duration.String), written out here as data. Values are nanoseconds, as Go's Duration.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, formatDurationNs, parseDuration, parseDurationNs } from '../../../src/util/duration.js';

const NS = 1n;
const US = 1000n * NS;
const MS = 1000n * US;
const S = 1000n * MS;
const M = 60n * S;
const H = 60n * M;
const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);

const PARSE: readonly (readonly [string, bigint])[] = [
  // simple
  ['0', 0n],
  ['5s', 5n * S],
  ['30s', 30n * S],
  ['1478s', 1478n * S],
  // sign
  ['-5s', -5n * S],
  ['+5s', 5n * S],
  ['-0', 0n],
  ['+0', 0n],
  // decimal
  ['5.0s', 5n * S],
  ['5.6s', 5n * S + 600n * MS],
  ['5.s', 5n * S],
  ['.5s', 500n * MS],
  ['1.0s', 1n * S],
  ['1.00s', 1n * S],
  ['1.004s', 1n * S + 4n * MS],
  ['1.0040s', 1n * S + 4n * MS],
  ['100.00100s', 100n * S + 1n * MS],
  // different units
  ['10ns', 10n * NS],
  ['11us', 11n * US],
  ['12\u00b5s', 12n * US], // micro sign
  ['12\u03bcs', 12n * US], // Greek mu
  ['13ms', 13n * MS],
  ['14s', 14n * S],
  ['15m', 15n * M],
  ['16h', 16n * H],
  // composite durations
  ['3h30m', 3n * H + 30n * M],
  ['10.5s4m', 4n * M + 10n * S + 500n * MS],
  ['-2m3.4s', -(2n * M + 3n * S + 400n * MS)],
  ['1h2m3s4ms5us6ns', 1n * H + 2n * M + 3n * S + 4n * MS + 5n * US + 6n * NS],
  ['39h9m14.425s', 39n * H + 9n * M + 14n * S + 425n * MS],
  // large value
  ['52763797000ns', 52763797000n * NS],
  // more than 9 digits after the decimal point
  ['0.3333333333333333333h', 20n * M],
  // 1<<53+1 does not fit a float64
  ['9007199254740993ns', ((1n << 53n) + 1n) * NS],
  // the largest durations int64 nanoseconds hold
  ['9223372036854775807ns', MAX],
  ['9223372036854775.807us', MAX],
  ['9223372036s854ms775us807ns', MAX],
  ['-9223372036854775808ns', MIN],
  ['-9223372036854775.808us', MIN],
  ['-9223372036s854ms775us808ns', MIN],
  // the largest negative value
  ['-9223372036854775808ns', MIN],
  // the largest negative value that round-trips
  ['-2562047h47m16.854775808s', MIN],
  // a huge string
  ['0.100000000000000000000h', 6n * M],
  // the first overflow check of the fraction
  ['0.830103483285477580700h', 49n * M + 48n * S + 372539827n * NS],
];

const PARSE_ERRORS: readonly string[] = [
  // invalid
  '',
  '3',
  '-',
  's',
  '.',
  '-.',
  '.s',
  '+.s',
  '1d',
  '\x85\x85',
  '\xffff',
  'hello \xffff world',
  '\ufffd',
  '\ufffd hello \ufffd world',
  // overflow
  '9223372036854775810ns',
  '9223372036854775808ns',
  '-9223372036854775809ns',
  '9223372036854776us',
  '3000000h',
  '9223372036854775.808us',
  '9223372036854ms775us808ns',
];

const STRING: readonly (readonly [string, bigint])[] = [
  ['0s', 0n],
  ['1ns', 1n * NS],
  ['1.1\u00b5s', 1100n * NS],
  ['2.2ms', 2200n * US],
  ['3.3s', 3300n * MS],
  ['4m5s', 4n * M + 5n * S],
  ['4m5.001s', 4n * M + 5001n * MS],
  ['5h6m7.001s', 5n * H + 6n * M + 7001n * MS],
  ['8m0.000000001s', 8n * M + 1n * NS],
  ['2562047h47m16.854775807s', MAX],
  ['-2562047h47m16.854775808s', MIN],
];

describe("time.ParseDuration's cases", () => {
  for (const [input, want] of PARSE) {
    it(`${JSON.stringify(input)} is ${want}ns`, () => assert.equal(parseDurationNs(input), want));
  }
  for (const input of PARSE_ERRORS) {
    it(`${JSON.stringify(input)} is refused`, () => {
      assert.equal(parseDurationNs(input), undefined);
      assert.equal(parseDuration(input), undefined);
    });
  }
  it('parseDuration gives milliseconds', () => {
    assert.equal(parseDuration('.5s'), 500);
    assert.equal(parseDuration('4m0s'), 240_000);
    assert.equal(parseDuration('1.5us'), 0.0015);
    assert.equal(parseDuration('-2m3.4s'), -123_400);
  });
  it('no space around the text, as Go', () => {
    assert.equal(parseDurationNs(' 5s'), undefined);
    assert.equal(parseDurationNs('5s '), undefined);
  });
  it('the largest and smallest durations round-trip through String()', () => {
    assert.equal(parseDurationNs(formatDurationNs(MAX)), MAX);
    assert.equal(parseDurationNs(formatDurationNs(MIN)), MIN);
  });
});

describe("Duration.String()'s cases", () => {
  for (const [want, d] of STRING) {
    it(`${d}ns prints ${want}`, () => {
      assert.equal(formatDurationNs(d), want);
      if (d > 0n) assert.equal(formatDurationNs(-d), `-${want}`);
    });
  }
  it('formatDuration takes milliseconds', () => {
    assert.equal(formatDuration(240_000), '4m0s');
    assert.equal(formatDuration(8760 * 3_600_000), '8760h0m0s');
    assert.equal(formatDuration(0.5), '500\u00b5s');
    assert.equal(formatDuration(2.2), '2.2ms');
    assert.equal(formatDuration(-1500), '-1.5s');
  });
});
