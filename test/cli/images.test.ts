/** `kubeboot config images list` as a user meets it: kubeadm's text, -o json and -o yaml, its flags, its errors. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const DEFAULT_IMAGES = [
  'registry.k8s.io/kube-apiserver:v1.36.5',
  'registry.k8s.io/kube-controller-manager:v1.36.5',
  'registry.k8s.io/kube-scheduler:v1.36.5',
  'registry.k8s.io/kube-proxy:v1.36.5',
  'registry.k8s.io/coredns/coredns:v1.14.2',
  'registry.k8s.io/pause:3.10.2',
  'registry.k8s.io/etcd:3.6.8-0',
];

describe('config images list', () => {
  it("text: one image per line in kubeadm's order; -o json and -o yaml: kubeadm's Images document, as kubeadm v1.36.5 prints it", async () => {
    const text = await runCli(['config', 'images', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, `${DEFAULT_IMAGES.join('\n')}\n`);
    const json = await runCli(['config', 'images', 'list', '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(
      json.stdout,
      `{\n    "kind": "Images",\n    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",\n    "images": [\n${DEFAULT_IMAGES.map((i) => `        "${i}"`).join(',\n')}\n    ]\n}\n`,
    );
    const yaml = await runCli(['config', 'images', 'list', '-o', 'yaml']);
    assert.equal(yaml.stdout, `apiVersion: output.kubeadm.k8s.io/v1alpha3\nimages:\n${DEFAULT_IMAGES.map((i) => `- ${i}\n`).join('')}kind: Images\n`);
  });

  it('flags: --kubernetes-version and --image-repository (per minor: 1.34 has its own CoreDNS, pause and etcd)', async () => {
    const r = await runCli(['config', 'images', 'list', '--kubernetes-version', 'v1.34.3', '--image-repository', 'mirror.example.com/k8s']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'mirror.example.com/k8s/kube-apiserver:v1.34.3',
      'mirror.example.com/k8s/kube-controller-manager:v1.34.3',
      'mirror.example.com/k8s/kube-scheduler:v1.34.3',
      'mirror.example.com/k8s/kube-proxy:v1.34.3',
      'mirror.example.com/k8s/coredns:v1.12.1',
      'mirror.example.com/k8s/pause:3.10.1',
      'mirror.example.com/k8s/etcd:3.6.5-0',
    ]);
  });

  it('--config: no kube-proxy or CoreDNS when disabled, no etcd with external etcd; other flags are refused beside it; --output json is a result event', async (t) => {
    const dir = tempDir(t);
    const cfg = path.join(dir, 'c.yaml');
    writeFileSync(
      cfg,
      `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
imageRepository: mirror.example.com
dns:
  disabled: true
proxy:
  disabled: true
etcd:
  external:
    endpoints: ["https://192.0.2.20:2379"]
    caFile: /etc/etcd/ca.crt
    certFile: /etc/etcd/client.crt
    keyFile: /etc/etcd/client.key
`,
    );
    const r = await runCli(['config', 'images', 'list', '--config', cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'mirror.example.com/kube-apiserver:v1.36.5\nmirror.example.com/kube-controller-manager:v1.36.5\nmirror.example.com/kube-scheduler:v1.36.5\nmirror.example.com/pause:3.10.2\n');
    const yaml = await runCli(['config', 'images', 'list', '--config', cfg, '-o', 'yaml']);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.match(yaml.stdout, /^- mirror\.example\.com\/pause:3\.10\.2$/m);
    const mixed = await runCli(['config', 'images', 'list', '--config', cfg, '--kubernetes-version', 'v1.35.0']);
    assert.equal(mixed.code, 3);
    assert.match(mixed.stderr, /^error: can not mix '--config' with arguments \[kubernetes-version\]$/m);
    const j = await runCli(['--output', 'json', 'config', 'images', 'list', '--config', cfg]);
    assert.equal(j.code, 0, j.stderr);
    const events = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; command?: string; data?: Record<string, unknown> });
    assert.deepEqual(events.map((e) => e.type), ['result']);
    assert.equal(events[0]?.command, 'config images list');
    assert.deepEqual(events[0]?.data, { kind: 'Images', apiVersion: 'output.kubeadm.k8s.io/v1alpha3', images: r.stdout.trim().split('\n') });
  });

  it('errors: an unknown -o format; -o yaml with --output json; a bad configuration (exit 3, nothing on stdout)', async (t) => {
    const bad = await runCli(['config', 'images', 'list', '-o', 'wide']);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /-o: invalid value "wide": valid values are text, json, yaml/);
    const both = await runCli(['--output', 'json', 'config', 'images', 'list', '-o', 'yaml']);
    assert.equal(both.code, 3);
    const cfg = path.join(tempDir(t), 'bad.yaml');
    writeFileSync(cfg, 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.20.0\n');
    const old = await runCli(['config', 'images', 'list', '--config', cfg]);
    assert.equal(old.code, 3);
    assert.equal(old.stdout, '');
    assert.match(old.stderr, /unsupported Kubernetes version "v1\.20\.0"/);
  });
});
