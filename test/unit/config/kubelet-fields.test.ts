import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KUBELET_CONFIG_FIELDS, kubeletConfigWarnings } from '../../../src/config/kubelet-fields.js';
import { loadConfig, parseConfigText } from '../../../src/config/load.js';
import { TEST_HOST } from '../../helpers/host.js';

const HEAD = { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration' };

const FILE = (kubeletBody: string): string => `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.35.2
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
${kubeletBody}`;

describe('kubeletConfigWarnings', () => {
  it('has no duplicate or empty names and knows recent fields', () => {
    for (const f of ['crashLoopBackOff', 'imageMaximumGCAge', 'failCgroupV1', 'userNamespaces', 'mergeDefaultEvictionSettings']) {
      assert.ok(KUBELET_CONFIG_FIELDS.has(f), f);
    }
    assert.ok(![...KUBELET_CONFIG_FIELDS].some((f) => f === ''));
  });

  it('says nothing about a valid document', () => {
    const doc = {
      ...HEAD,
      cgroupDriver: 'systemd',
      healthzPort: 10248,
      port: 10250,
      readOnlyPort: 0,
      authentication: { anonymous: { enabled: false } },
      evictionHard: { 'memory.available': '100Mi' },
      crashLoopBackOff: { maxContainerRestartPeriod: '30s' },
      failCgroupV1: true,
    };
    assert.deepEqual(kubeletConfigWarnings(doc), []);
  });

  it('suggests the close field for a misspelling', () => {
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, cgroupDrivr: 'systemd' }), [
      'KubeletConfiguration: unknown field "cgroupDrivr" (did you mean "cgroupDriver"?); the kubelet will reject it',
    ]);
  });

  it('suggests a field spelled with other case', () => {
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, MaxPods: 50 }), [
      'KubeletConfiguration: unknown field "MaxPods" (did you mean "maxPods"?); the kubelet will reject it',
    ]);
  });

  it('gives no suggestion when nothing is close', () => {
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, frobnicate: true }), [
      'KubeletConfiguration: unknown field "frobnicate"; the kubelet will reject it',
    ]);
  });

  it('warns about ports out of range or of the wrong type', () => {
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, healthzPort: 70000 }), [
      'KubeletConfiguration.healthzPort: 70000 is not a port number (0-65535)',
    ]);
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, port: 'abc' }), [
      'KubeletConfiguration.port: "abc" is not a port number (1-65535)',
    ]);
    // 0 turns healthz and the read-only port off, but the kubelet's own port must be real
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, healthzPort: 0, readOnlyPort: 0, port: 0 }), [
      'KubeletConfiguration.port: 0 is not a port number (1-65535)',
    ]);
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, readOnlyPort: -1, port: 10.5 }), [
      'KubeletConfiguration.port: 10.5 is not a port number (1-65535)',
      'KubeletConfiguration.readOnlyPort: -1 is not a port number (0-65535)',
    ]);
  });
});

describe('KubeletConfiguration warnings through loading', () => {
  it('loadConfig returns the warnings and keeps the document', async () => {
    const { warnings, spec } = await loadConfig({ path: 'c.yaml', text: FILE('cgroupDrivr: systemd\nhealthzPort: 70000\n') }, {}, TEST_HOST);
    assert.ok(warnings.includes('KubeletConfiguration: unknown field "cgroupDrivr" (did you mean "cgroupDriver"?); the kubelet will reject it'), warnings.join('\n'));
    assert.ok(warnings.includes('KubeletConfiguration.healthzPort: 70000 is not a port number (0-65535)'), warnings.join('\n'));
    assert.equal((spec.kubeletConfiguration as Record<string, unknown> | undefined)?.['cgroupDrivr'], 'systemd');
  });

  it('a valid KubeletConfiguration adds no warning', async () => {
    const { warnings } = await loadConfig({ path: 'c.yaml', text: FILE('cgroupDriver: systemd\nport: 10250\n') }, {}, TEST_HOST);
    assert.deepEqual(warnings.filter((w) => w.includes('KubeletConfiguration')), []);
  });

  it('the configuration kubeboot recorded is checked again when it is read back', async () => {
    const parsed = await parseConfigText(`# Written by kubeboot\n${FILE('cgroupDrivr: systemd\n')}`, 'recorded.yaml');
    assert.ok(parsed.warnings.some((w) => w.includes('unknown field "cgroupDrivr"')), parsed.warnings.join('\n'));
  });
});
