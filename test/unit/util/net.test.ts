/**
 * IP and CIDR text as Go's net package reads and prints it (net.ParseIP, net.IP.String, net.ParseCIDR). The cases
 * are Go's own (src/net/ip_test.go: parseIPTests, ipStringTests, parseCIDRTests), written out here as data, plus the
 * two bugs issue 10 names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bigIntToIp, canonicalIp, cidrSize, indexedIp, ipToBigInt, isIP, isIPv4, isIPv6, parseCidr } from '../../../src/util/net.js';

/** Go's parseIPTests: input → the address Go prints for it (String()), or undefined where ParseIP returns nil. */
const PARSE_IP: readonly (readonly [string, string | undefined])[] = [
  ['127.0.1.2', '127.0.1.2'],
  ['127.0.0.1', '127.0.0.1'],
  ['::ffff:127.1.2.3', '127.1.2.3'],
  ['::ffff:7f01:0203', '127.1.2.3'],
  ['0:0:0:0:0000:ffff:127.1.2.3', '127.1.2.3'],
  ['0:0:0:0::ffff:127.1.2.3', '127.1.2.3'],
  ['2001:4860:0:2001::68', '2001:4860:0:2001::68'],
  ['2001:4860:0000:2001:0000:0000:0000:0068', '2001:4860:0:2001::68'],
  ['-0.0.0.0', undefined],
  ['0.-1.0.0', undefined],
  ['0.0.-2.0', undefined],
  ['0.0.0.-3', undefined],
  ['127.0.0.256', undefined],
  ['abc', undefined],
  ['123:', undefined],
  ['fe80::1%lo0', undefined],
  ['fe80::1%911', undefined],
  ['', undefined],
  ['0:0:0:0:000000:ffff:127.1.2.3', undefined],
  ['0:0:0:0:00000:ffff:127.1.2.3', undefined],
  ['a1:a2:a3:a4::b1:b2:b3:b4', undefined],
  ['127.001.002.003', undefined],
  ['::ffff:127.001.002.003', undefined],
  ['123.000.000.000', undefined],
  ['1.2..4', undefined],
  ['0123.0.0.1', undefined],
];

/** Go's ipStringTests (the IP given as its 16- or 4-byte value, here as text that parses to it) → String(). */
const IP_STRING: readonly (readonly [string, string])[] = [
  ['192.0.2.1', '192.0.2.1'],
  ['0.0.0.0', '0.0.0.0'],
  ['::ffff:192.0.2.1', '192.0.2.1'],
  ['::ffff:0.0.0.0', '0.0.0.0'],
  ['2001:db8:0:0:0:123:12:1', '2001:db8::123:12:1'],
  ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
  ['2001:db8:0:1:0:1:0:1', '2001:db8:0:1:0:1:0:1'],
  ['2001:db8:1:0:1:0:1:0', '2001:db8:1:0:1:0:1:0'],
  ['2001:0:0:0:1:0:0:1', '2001::1:0:0:1'],
  ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:db8:0:0:a:b:c:d', '2001:db8::a:b:c:d'],
  ['0:0:0:0:0:0:0:0', '::'],
];

/** Go's parseCIDRTests: input → [the IP as written, the network] or undefined for a ParseError. */
const PARSE_CIDR: readonly (readonly [string, readonly [string, string] | undefined])[] = [
  ['135.104.0.0/32', ['135.104.0.0', '135.104.0.0/32']],
  ['0.0.0.0/24', ['0.0.0.0', '0.0.0.0/24']],
  ['135.104.0.0/24', ['135.104.0.0', '135.104.0.0/24']],
  ['135.104.0.1/32', ['135.104.0.1', '135.104.0.1/32']],
  ['135.104.0.1/24', ['135.104.0.1', '135.104.0.0/24']],
  ['::1/128', ['::1', '::1/128']],
  ['abcd:2345::/127', ['abcd:2345::', 'abcd:2345::/127']],
  ['abcd:2345::/65', ['abcd:2345::', 'abcd:2345::/65']],
  ['abcd:2345::/64', ['abcd:2345::', 'abcd:2345::/64']],
  ['abcd:2345::/63', ['abcd:2345::', 'abcd:2345::/63']],
  ['abcd:2345::/33', ['abcd:2345::', 'abcd:2345::/33']],
  ['abcd:2345::/32', ['abcd:2345::', 'abcd:2345::/32']],
  ['abcd:2344::/31', ['abcd:2344::', 'abcd:2344::/31']],
  ['abcd:2300::/24', ['abcd:2300::', 'abcd:2300::/24']],
  ['abcd:2345::/24', ['abcd:2345::', 'abcd:2300::/24']],
  ['2001:DB8::/48', ['2001:db8::', '2001:db8::/48']],
  ['2001:DB8::1/48', ['2001:db8::1', '2001:db8::/48']],
  ['192.168.1.1/255.255.255.0', undefined],
  ['192.168.1.1/35', undefined],
  ['2001:db8::1/-1', undefined],
  ['2001:db8::1/-0', undefined],
  ['-0.0.0.0/32', undefined],
  ['0.-1.0.0/32', undefined],
  ['0.0.-2.0/32', undefined],
  ['0.0.0.-3/32', undefined],
  ['0.0.0.0/-0', undefined],
  ['127.000.000.001/32', undefined],
  ['', undefined],
];

describe('IP text as Go reads and prints it', () => {
  for (const [input, want] of PARSE_IP) {
    it(`ParseIP(${JSON.stringify(input)}) → ${want ?? 'nil'}`, () => {
      if (want === undefined) {
        assert.equal(isIP(input), 0);
        assert.throws(() => canonicalIp(input), /is not an IP address/);
      } else {
        assert.notEqual(isIP(input), 0);
        assert.equal(canonicalIp(input), want);
      }
    });
  }
  for (const [input, want] of IP_STRING) {
    it(`String() of ${input} is ${want}`, () => assert.equal(canonicalIp(input), want));
  }
  it('refuses IPv4 with leading zeros instead of overflowing the stack (issue 10)', () => {
    assert.equal(isIP('10.096.0.1'), 0);
    assert.throws(() => canonicalIp('10.096.0.1'), /"10.096.0.1" is not an IP address/);
    assert.throws(() => ipToBigInt('10.096.0.1'), /"10.096.0.1" is not an IP address/);
  });
  it('prints an IPv4-mapped IPv6 address as dotted IPv4, as net.IP.String() does (issue 10)', () => {
    assert.equal(canonicalIp('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(bigIntToIp(0xffff01020304n, 6), '1.2.3.4');
    // IPv4-compatible (deprecated) addresses are not mapped ones: Go prints them in hex.
    assert.equal(canonicalIp('::1.2.3.4'), '::102:304');
  });
  it('IPv6 canonical form is RFC 5952: lowercase, no leading zeros, the longest (first) zero run compressed, one zero not', () => {
    assert.equal(canonicalIp('2001:DB8::0001'), '2001:db8::1');
    assert.equal(canonicalIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(canonicalIp('1:2:3:4:5:6:7::'), '1:2:3:4:5:6:7:0');
    assert.equal(canonicalIp('1:0:2:3:4:5:6:7'), '1:0:2:3:4:5:6:7');
    assert.equal(canonicalIp('fd00:0:0:0:0:0:0:1'), 'fd00::1');
  });
  it('the text family is kept for isIPv4/isIPv6 (a zone is not an address)', () => {
    assert.equal(isIP('192.0.2.10'), 4);
    assert.equal(isIP('::ffff:192.0.2.10'), 6);
    assert.equal(isIPv4('192.0.2.10'), true);
    assert.equal(isIPv6('fd00::1'), true);
    assert.equal(isIPv6('fe80::1%eth0'), false);
    assert.equal(isIP('10.96.0.0/12'), 0);
    assert.equal(isIP('[::1]'), 0);
  });
});

describe('CIDRs as Go reads them', () => {
  for (const [input, want] of PARSE_CIDR) {
    it(`ParseCIDR(${JSON.stringify(input)}) → ${want ? want.join(', ') : 'error'}`, () => {
      const c = parseCidr(input);
      if (want === undefined) {
        assert.equal(c, undefined);
        return;
      }
      assert.ok(c);
      assert.equal(canonicalIp(input.slice(0, input.indexOf('/'))), want[0]);
      assert.equal(`${bigIntToIp(c.base, c.family)}/${c.prefix}`, want[1]);
    });
  }
  it('a prefix length with leading zeros is read as decimal (Go dtoi)', () => {
    assert.equal(parseCidr('10.96.0.0/012')?.prefix, 12);
  });
  it('refuses an IP with leading zeros inside a CIDR', () => {
    assert.equal(parseCidr('10.096.0.0/12'), undefined);
  });
  it('sizes and indexed addresses', () => {
    assert.equal(cidrSize(parseCidr('10.96.0.0/12')!), 1n << 20n);
    assert.equal(indexedIp(parseCidr('10.96.0.0/12')!, 10), '10.96.0.10');
    assert.equal(indexedIp(parseCidr('fd00:10:96::/112')!, 10), 'fd00:10:96::a');
  });
});

describe('callers see Go text', () => {
  it('certificate SANs: an IPv4-mapped address is the IPv4 address (one SAN, dotted)', async () => {
    const { classifySANs, normalizeAltNames } = await import('../../../src/pki/altnames.js');
    const warnings: string[] = [];
    const c = classifySANs(['::ffff:192.0.2.10', '192.0.2.10', '10.096.0.1', 'FD00:0::1'], 'apiserver.crt', (m) => warnings.push(m));
    assert.deepEqual(normalizeAltNames(c.dnsNames, c.ips).ips, ['192.0.2.10', 'fd00::1']);
    // not an IP for Go's net.ParseIP, but digits and dots make a valid RFC 1123 subdomain
    assert.deepEqual(c.dnsNames, ['10.096.0.1']);
    assert.deepEqual(warnings, []);
  });
});

describe('the advertise address as kubeadm sets it (ip.String() of what it parsed)', () => {
  it('an IPv4-mapped address is its IPv4 address; IPv6 is in RFC 5952 form', async () => {
    const { buildSpec } = await import('../../../src/config/load.js');
    const { TEST_HOST } = await import('../../helpers/host.js');
    assert.equal(buildSpec(undefined, { 'apiserver-advertise-address': '::ffff:192.0.2.10' }, TEST_HOST, 'flags').spec.advertiseAddress, '192.0.2.10');
    assert.equal(buildSpec(undefined, { 'apiserver-advertise-address': 'FD00:0:0::10' }, TEST_HOST, 'flags').spec.advertiseAddress, 'fd00::10');
  });
});
