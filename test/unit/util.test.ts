import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/util/duration.js';
import { canonicalIp, indexedIp, joinHostPort, parseCidr, splitHostPort } from '../../src/util/net.js';
import { resolveVersion } from '../../src/versions.js';

describe('Go durations', () => {
  it('parses', () => {
    assert.equal(parseDuration('4m0s'), 240_000);
    assert.equal(parseDuration('8760h'), 8760 * 3_600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('4 minutes'), undefined);
    assert.equal(parseDuration(''), undefined);
    assert.equal(parseDuration('10'), undefined);
  });
  it('formats like time.Duration.String()', () => {
    assert.equal(formatDuration(240_000), '4m0s');
    assert.equal(formatDuration(8760 * 3_600_000), '8760h0m0s');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(0), '0s');
  });
});

describe('addresses', () => {
  it('service VIP is index 1 of the CIDR', () => {
    assert.equal(indexedIp(parseCidr('10.96.0.0/12')!, 1), '10.96.0.1');
    assert.equal(indexedIp(parseCidr('10.96.0.0/12')!, 10), '10.96.0.10');
    assert.equal(indexedIp(parseCidr('fd00:10:96::/112')!, 1), 'fd00:10:96::1');
  });
  it('canonical IPv6 text', () => {
    assert.equal(canonicalIp('fd00:0:0:0:0:0:0:1'), 'fd00::1');
    assert.equal(canonicalIp('::1'), '::1');
    assert.equal(canonicalIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
  });
  it('host:port', () => {
    assert.equal(joinHostPort('::1', 6443), '[::1]:6443');
    assert.equal(joinHostPort('10.0.0.1', 6443), '10.0.0.1:6443');
    assert.deepEqual(splitHostPort('cp.example.com:8443'), { host: 'cp.example.com', port: 8443 });
    assert.deepEqual(splitHostPort('[fd00::1]:6443'), { host: 'fd00::1', port: 6443 });
    assert.deepEqual(splitHostPort('fd00::1'), { host: 'fd00::1', port: undefined });
    assert.equal(splitHostPort('a:b:c'), undefined);
    assert.equal(splitHostPort('host:99999'), undefined);
  });
});

describe('version table', () => {
  it('resolves explicit, minor-only and label versions offline', () => {
    assert.equal((resolveVersion('v1.36.2') as { version: string }).version, 'v1.36.2');
    assert.equal((resolveVersion('1.35') as { version: string }).version, 'v1.35.8');
    assert.equal((resolveVersion('stable-1') as { version: string }).version, 'v1.36.5');
    assert.equal((resolveVersion(undefined) as { version: string }).version, 'v1.36.5');
    assert.equal((resolveVersion('v1.37.0-rc.1') as { row: { minor: string } }).row.minor, '1.37');
  });
  it('names the supported versions when it cannot', () => {
    assert.match(resolveVersion('v1.31.0') as string, /unsupported Kubernetes version "v1.31.0": supported versions are v1.34.x, v1.35.x, v1.36.x, v1.37.x/);
    assert.match(resolveVersion('banana') as string, /invalid Kubernetes version/);
  });
});
