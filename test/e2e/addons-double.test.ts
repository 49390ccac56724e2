/**
 * The BUILT CLI's addon phase against the kubelet + API server test double: a whole init creates CoreDNS and
 * kube-proxy (kubectl reads them with admin.conf), a re-run leaves every object as it is, a changed configuration
 * updates what it changes, and a dry run against the live API server says what it would do and writes nothing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';
import { arrange, type Arrangement } from '../double/harness.js';

const execFileP = promisify(execFile);

function show(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function cli(a: Arrangement, args: readonly string[], config = a.config): Promise<CliResult> {
  return runCli([...args, '--root', a.root, '--config', config], { env: cleanEnv(a.env), timeoutMs: 120_000 });
}

/** The object events of a JSON run, as "status Kind namespace/name". */
function objectEvents(r: CliResult): string[] {
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; status?: string; kind?: string; namespace?: string; name?: string })
    .filter((e) => e.type === 'object')
    .map((e) => `${e.status} ${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`);
}

async function kubectl(a: Arrangement, ...args: string[]): Promise<string> {
  const { stdout } = await execFileP('kubectl', ['--kubeconfig', path.join(a.root, 'etc/kubernetes/admin.conf'), ...args], { timeout: 30_000 });
  return stdout;
}

describe('the addon phase against the test double', () => {
  it('init creates the addons; a re-run changes nothing; a new image repository updates the Deployment and the DaemonSet; a dry run writes nothing', async (t) => {
    if (!requireTools(t, 'etcd', 'kubectl', 'openssl')) return;
    const a = await arrange();
    t.after(() => a.dispose());

    const first = await cli(a, ['init', '--wait-timeout', '60s']);
    assert.equal(first.code, 0, show(first));
    assert.match(first.stdout, /^\[addons\] Applied essential addon: CoreDNS\n\[addons\] Applied essential addon: kube-proxy$/m);

    // what kubectl sees with admin.conf
    const dep = JSON.parse(await kubectl(a, '-n', 'kube-system', 'get', 'deployment', 'coredns', '-o', 'json')) as Record<string, any>;
    assert.equal(dep.spec.replicas, 2);
    assert.equal(dep.spec.template.spec.containers[0].image, 'registry.k8s.io/coredns/coredns:v1.14.2');
    const svc = JSON.parse(await kubectl(a, '-n', 'kube-system', 'get', 'service', 'kube-dns', '-o', 'json')) as Record<string, any>;
    assert.equal(svc.spec.clusterIP, '10.96.0.10');
    const cm = JSON.parse(await kubectl(a, '-n', 'kube-system', 'get', 'configmap', 'kube-proxy', '-o', 'json')) as Record<string, any>;
    assert.match(cm.data['kubeconfig.conf'], new RegExp(`server: https://127\\.0\\.0\\.1:${a.ports.apiserver}$`, 'm'));
    assert.match(cm.metadata.annotations['kubeadm.kubernetes.io/component-config.hash'], /^sha256:[0-9a-f]{64}$/);
    assert.equal(JSON.parse(await kubectl(a, 'get', 'clusterrole', 'system:coredns', '-o', 'json')).metadata.name, 'system:coredns');

    // the same configuration again: every object as it was
    const again = await cli(a, ['init', '--wait-timeout', '60s', '--output', 'json']);
    assert.equal(again.code, 0, show(again));
    const outcomes = objectEvents(again);
    // init's 17 objects before the addons (the node's marks included) and the addons' 12
    assert.equal(outcomes.length, 29, outcomes.join('\n'));
    assert.equal(outcomes.filter((o) => / (kube-system\/(coredns|kube-dns|kube-proxy)|system:coredns|kubeadm:node-proxier)$/.test(o)).length, 12, outcomes.join('\n'));
    assert.deepEqual(outcomes.filter((o) => !o.startsWith('unchanged ')), ['retained ConfigMap kube-system/coredns']);

    // another image repository: CoreDNS's Deployment and kube-proxy's DaemonSet follow, the rest stays
    const changed = path.join(a.dir, 'changed.yaml');
    writeFileSync(changed, readFileSync(a.config, 'utf8').replace('kind: ClusterConfiguration\n', 'kind: ClusterConfiguration\nimageRepository: registry.example.com/k8s\n'));
    const dry = await cli(a, ['init', 'phase', 'addon', 'all', '--dry-run'], changed);
    assert.equal(dry.code, 0, show(dry));
    assert.match(dry.stdout, /^\[dryrun\] Would update Deployment kube-system\/coredns$/m);
    // the object as it would be sent, with the new image
    assert.match(dry.stdout, /^\[dryrun\] Would send: PUT https:\/\/\S+\/apis\/apps\/v1\/namespaces\/kube-system\/deployments\/coredns with object:\n(\t.*\n)*\t +image: registry\.example\.com\/k8s\/coredns:v1\.14\.2$/m);
    assert.match(dry.stdout, /^\[dryrun\] Would leave unchanged ServiceAccount kube-system\/coredns$/m);
    assert.match(dry.stdout, /^\[addons\] Would apply essential addon: kube-proxy$/m);
    const untouched = JSON.parse(await kubectl(a, '-n', 'kube-system', 'get', 'deployment', 'coredns', '-o', 'json')) as Record<string, any>;
    assert.equal(untouched.metadata.resourceVersion, dep.metadata.resourceVersion, 'the dry run sent no write');

    const update = await cli(a, ['init', 'phase', 'addon', 'all', '--output', 'json'], changed);
    assert.equal(update.code, 0, show(update));
    assert.deepEqual(objectEvents(update).filter((o) => !o.startsWith('unchanged ')), [
      'retained ConfigMap kube-system/coredns',
      'updated Deployment kube-system/coredns',
      'updated DaemonSet kube-system/kube-proxy',
    ]);
    const after = JSON.parse(await kubectl(a, '-n', 'kube-system', 'get', 'daemonset', 'kube-proxy', '-o', 'json')) as Record<string, any>;
    assert.equal(after.spec.template.spec.containers[0].image, 'registry.example.com/k8s/kube-proxy:v1.36.5');
  });
});
