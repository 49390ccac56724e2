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

describe('what the kubelet refuses at start', () => {
  it('says nothing about kubeboot\'s own defaults nor about a document that sets many fields right', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { load } = await import('js-yaml');
    const { REPO_ROOT } = await import('../../helpers/paths.js');
    const template = load(readFileSync(join(REPO_ROOT, 'templates', 'kubelet-config.yaml'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(kubeletConfigWarnings(template), []);
    const doc = {
      ...HEAD,
      enableServer: true,
      failSwapOn: false,
      cgroupDriver: 'cgroupfs',
      cgroupsPerQOS: true,
      hairpinMode: 'hairpin-veth',
      cpuManagerPolicy: 'static',
      memoryManagerPolicy: 'Static',
      topologyManagerPolicy: 'single-numa-node',
      topologyManagerScope: 'pod',
      configMapAndSecretChangeDetectionStrategy: '',
      maxPods: 250,
      podPidsLimit: -1,
      oomScoreAdj: -999,
      imageGCHighThresholdPercent: 90,
      imageGCLowThresholdPercent: 70,
      nodeLeaseDurationSeconds: 40,
      kubeAPIQPS: 50,
      memoryThrottlingFactor: 0.9,
      syncFrequency: '1m0s',
      shutdownGracePeriod: '30s',
      evictionPressureTransitionPeriod: '5m',
      clusterDNS: ['10.96.0.10'],
      registerWithTaints: [{ key: 'a', effect: 'NoSchedule' }],
      memorySwap: { swapBehavior: 'LimitedSwap' },
      featureGates: { NodeSwap: true },
      systemReserved: { cpu: '100m' },
      containerLogMaxSize: '10Mi',
      resolvConf: '/run/systemd/resolve/resolv.conf',
      // null leaves a field unset, as YAML with its value commented out
      maxOpenFiles: null,
    };
    assert.deepEqual(kubeletConfigWarnings(doc), []);
  });

  it('a known field of the wrong type: the kubelet cannot read the file', () => {
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, failSwapOn: 'false', maxPods: '110', syncFrequency: '1 minute', clusterDNS: '10.96.0.10', evictionHard: 'memory.available<100Mi', memoryThrottlingFactor: 'high' }), [
      'KubeletConfiguration.failSwapOn: expected a boolean (true or false), got string "false"; the kubelet cannot read the file',
      'KubeletConfiguration.maxPods: expected an integer, got string "110"; the kubelet cannot read the file',
      'KubeletConfiguration.memoryThrottlingFactor: expected a number, got string "high"; the kubelet cannot read the file',
      'KubeletConfiguration.syncFrequency: expected a duration such as 1m0s, got string "1 minute"; the kubelet cannot read the file',
      'KubeletConfiguration.clusterDNS: expected a list, got string "10.96.0.10"; the kubelet cannot read the file',
      'KubeletConfiguration.evictionHard: expected a mapping, got string "memory.available<100Mi"; the kubelet cannot read the file',
    ]);
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, maxPods: 10.5, cgroupDriver: 1 }), [
      'KubeletConfiguration.maxPods: expected an integer, got number 10.5; the kubelet cannot read the file',
      'KubeletConfiguration.cgroupDriver: expected a string, got number 1; the kubelet cannot read the file',
    ]);
  });

  it('a value the kubelet does not accept: cgroupDriver, the manager policies, ranges, the GC thresholds, swap behavior', () => {
    assert.deepEqual(
      kubeletConfigWarnings({ ...HEAD, cgroupDriver: 'systemdd', hairpinMode: 'veth', cpuManagerPolicy: 'Static', topologyManagerScope: 'node', oomScoreAdj: -2000, maxPods: -1, iptablesDropBit: 32, memorySwap: { swapBehavior: 'UnlimitedSwap' } }),
      [
        'KubeletConfiguration.cgroupDriver: invalid value "systemdd": the kubelet accepts systemd, cgroupfs',
        'KubeletConfiguration.hairpinMode: invalid value "veth": the kubelet accepts promiscuous-bridge, hairpin-veth, none',
        'KubeletConfiguration.cpuManagerPolicy: invalid value "Static": the kubelet accepts none, static',
        'KubeletConfiguration.topologyManagerScope: invalid value "node": the kubelet accepts container, pod',
        'KubeletConfiguration.oomScoreAdj: -2000 is out of range (-1000-1000)',
        'KubeletConfiguration.iptablesDropBit: 32 is out of range (0-31)',
        'KubeletConfiguration.maxPods: -1 is out of range (at least 0)',
        'KubeletConfiguration.memorySwap.swapBehavior: invalid value "UnlimitedSwap": the kubelet accepts NoSwap, LimitedSwap',
      ],
    );
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, imageGCHighThresholdPercent: 70, imageGCLowThresholdPercent: 70 }), [
      'KubeletConfiguration.imageGCLowThresholdPercent: 70 must be less than imageGCHighThresholdPercent (70)',
    ]);
    assert.deepEqual(kubeletConfigWarnings({ ...HEAD, imageGCLowThresholdPercent: 90 }), [
      'KubeletConfiguration.imageGCLowThresholdPercent: 90 must be less than imageGCHighThresholdPercent (85, the default)',
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
