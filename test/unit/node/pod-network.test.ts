/**
 * kubeboot's one-node pod network and single-node option (issue 12): the conflist (render/cni.ts), where the
 * runtime looks (crictl info), the checks before anything is written (node/cni.ts, preflight's PodNetwork), the
 * write through the ledger, the configuration (--pod-network / --single-node / a KubebootConfiguration document),
 * and reset's removal of the bridge and address reservations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSpec, defaultPodSubnet, parseConfigText } from '../../../src/config/load.js';
import { ConfigError, PreflightError } from '../../../src/errors.js';
import { CNI_CONF_FILE, bridgeConflist } from '../../../src/render/cni.js';
import { cniPaths, cniPathsFromCriInfo, podNetworkProblems, writePodNetwork } from '../../../src/node/cni.js';
import { LEDGER, readLedger } from '../../../src/node/state.js';
import { testContext } from '../../helpers/context.js';
import { TEST_HOST } from '../../helpers/host.js';

const PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'];
const CONF = `/etc/cni/net.d/${CNI_CONF_FILE}`;

describe('the bridge conflist', () => {
  it('one host-local range and default route per family, the bridge kubeboot0, portmap; same input same bytes', () => {
    const v4 = JSON.parse(bridgeConflist('10.244.0.0/16'));
    assert.equal(v4.cniVersion, '1.0.0');
    assert.equal(v4.name, 'kubeboot');
    assert.deepEqual(v4.plugins.map((p: { type: string }) => p.type), ['bridge', 'portmap']);
    assert.equal(v4.plugins[0].bridge, 'kubeboot0');
    assert.deepEqual(v4.plugins[0].ipam, { type: 'host-local', ranges: [[{ subnet: '10.244.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] });
    const dual = JSON.parse(bridgeConflist('10.244.0.0/16, fd00:10:244::/56'));
    assert.deepEqual(dual.plugins[0].ipam.ranges, [[{ subnet: '10.244.0.0/16' }], [{ subnet: 'fd00:10:244::/56' }]]);
    assert.deepEqual(dual.plugins[0].ipam.routes, [{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
    assert.equal(bridgeConflist('10.244.0.0/16'), bridgeConflist('10.244.0.0/16'));
    assert.throws(() => bridgeConflist(' , '), /needs a pod subnet/);
  });
});

describe("where the runtime looks for CNI plugins (crictl info)", () => {
  it('containerd 2.x binDirs, containerd 1.7 binDir, the default conf dir, and nothing from what is not its JSON', () => {
    assert.deepEqual(cniPathsFromCriInfo(JSON.stringify({ config: { cni: { binDirs: ['/usr/lib/cni', '/opt/cni/bin'], confDir: '/etc/cni/net.d' } } })), {
      binDirs: ['/usr/lib/cni', '/opt/cni/bin'],
      confDir: '/etc/cni/net.d',
    });
    assert.deepEqual(cniPathsFromCriInfo(JSON.stringify({ config: { cni: { binDir: '/opt/cni/bin' } } })), { binDirs: ['/opt/cni/bin'], confDir: '/etc/cni/net.d' });
    assert.equal(cniPathsFromCriInfo('not json'), undefined);
    assert.equal(cniPathsFromCriInfo('{"config":{}}'), undefined);
  });

  it("asks the runtime through crictl; without crictl, containerd's defaults and says so", async () => {
    const { ctx, fx } = testContext({ 'pod-network': 'bridge' });
    assert.match((await cniPaths(ctx)).source, /crictl is not on PATH/);
    fx.onPath.add('crictl');
    fx.exec_.crictl = (args) => {
      assert.deepEqual(args.slice(-1), ['info']);
      return { exitCode: 0, stdout: JSON.stringify({ config: { cni: { binDirs: ['/usr/lib/cni'], confDir: '/etc/cni/net.d' } } }), stderr: '' };
    };
    const p = await cniPaths(ctx);
    assert.deepEqual(p.binDirs, ['/usr/lib/cni']);
    assert.match(p.source, /crictl info/);
  });
});

describe('the checks before the pod network is written', () => {
  const withPlugins = (fx: { files: Map<string, { data: Buffer; mode: number }> }, dir: string, names = PLUGINS) => {
    for (const n of names) fx.files.set(`${dir}/${n}`, { data: Buffer.from('ELF'), mode: 0o755 });
  };

  it('missing plugins are named with the directories searched; found in /usr/lib/cni only, the hint says how to point the runtime there', async () => {
    const { ctx, fx } = testContext({ 'pod-network': 'bridge' });
    const paths = { binDirs: ['/opt/cni/bin'], confDir: '/etc/cni/net.d', source: 'test' };
    withPlugins(fx, '/opt/cni/bin', ['bridge', 'loopback']);
    let problems = await podNetworkProblems(ctx, paths);
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /the CNI plugins host-local, portmap are not in \/opt\/cni\/bin/);
    assert.match(problems[0] as string, /apt-get install containernetworking-plugins/);
    withPlugins(fx, '/usr/lib/cni');
    problems = await podNetworkProblems(ctx, paths);
    assert.match(problems[0] as string, /they are in \/usr\/lib\/cni .*add \/usr\/lib\/cni to the runtime's CNI plugin directories/);
    withPlugins(fx, '/opt/cni/bin');
    assert.deepEqual(await podNetworkProblems(ctx, paths), []);
  });

  it("a CNI configuration kubeboot did not write is refused (even at kubeboot's own file name); kubeboot's own is not", async () => {
    const { ctx, fx } = testContext({ 'pod-network': 'bridge' });
    const paths = { binDirs: ['/opt/cni/bin'], confDir: '/etc/cni/net.d', source: 'test' };
    withPlugins(fx, '/opt/cni/bin');
    fx.files.set('/etc/cni/net.d/10-flannel.conflist', { data: Buffer.from('{}'), mode: 0o644 });
    fx.files.set('/etc/cni/net.d/.hidden.conf', { data: Buffer.from('{}'), mode: 0o644 });
    fx.files.set('/etc/cni/net.d/README', { data: Buffer.from('x'), mode: 0o644 });
    let problems = await podNetworkProblems(ctx, paths);
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /already holds a CNI configuration kubeboot did not write \(10-flannel\.conflist\)/);
    fx.files.delete('/etc/cni/net.d/10-flannel.conflist');
    fx.files.set(CONF, { data: Buffer.from('{}'), mode: 0o644 });
    assert.match((await podNetworkProblems(ctx, paths))[0] as string, new RegExp(CNI_CONF_FILE.replace(/\./g, '\\.')));
    fx.files.set(LEDGER, { data: Buffer.from(JSON.stringify({ kind: 'KubebootFileLedger', version: 1, files: { [CONF]: { mode: '0644', by: 'init' } } })), mode: 0o600 });
    assert.deepEqual(await podNetworkProblems(ctx, paths), []);
  });

  it('writes the conflist 0644 into the runtime directory, recorded in the ledger; a second run leaves it unchanged', async () => {
    const { ctx, fx, events } = testContext({ 'pod-network': 'bridge' });
    withPlugins(fx, '/opt/cni/bin');
    const { LedgerTrackingEffects } = await import('../../../src/node/state.js');
    const tracked = { ...ctx, fx: new LedgerTrackingEffects(fx, () => 'init') };
    await writePodNetwork(tracked);
    const f = fx.files.get(CONF);
    assert.ok(f, 'the conflist is written');
    assert.equal(f.mode, 0o644);
    assert.equal(f.data.toString(), bridgeConflist('10.244.0.0/16'));
    assert.ok((await readLedger(fx)).files[CONF], 'the ledger lists it, so that reset removes it');
    const logs = events.events.filter((e) => e.type === 'log').map((e) => (e as { message: string }).message);
    assert.ok(logs.some((l) => /a bridge "kubeboot0" with host-local addresses from 10\.244\.0\.0\/16/.test(l)), logs.join('\n'));
    const before = fx.writes.length;
    await writePodNetwork(tracked);
    assert.equal(fx.writes.filter((w) => w === CONF).length, 1, 'not written again');
    assert.ok(fx.writes.length >= before);
  });

  it('refuses before writing anything when a plugin is missing (a PreflightError naming PodNetwork)', async () => {
    const { ctx, fx } = testContext({ 'pod-network': 'bridge' });
    await assert.rejects(writePodNetwork(ctx), (err: PreflightError) => err instanceof PreflightError && /pod network cannot be set up/.test(err.message) && /^\[ERROR PodNetwork\]: the CNI plugins bridge, host-local, portmap, loopback are not in/.test(err.failures[0] ?? ''));
    assert.equal(fx.files.get(CONF), undefined);
  });
});

describe('configuration: --pod-network, --single-node and the KubebootConfiguration document', () => {
  it('a pod network defaults the pod subnet (kind’s ranges, by the service subnet’s families); a given one is kept', () => {
    assert.equal(defaultPodSubnet(undefined), '10.244.0.0/16');
    assert.equal(defaultPodSubnet('fd00:10:96::/112'), 'fd00:10:244::/56');
    assert.equal(defaultPodSubnet('10.96.0.0/12,fd00:10:96::/112'), '10.244.0.0/16,fd00:10:244::/56');
    assert.equal(defaultPodSubnet('fd00:10:96::/112,10.96.0.0/12'), 'fd00:10:244::/56,10.244.0.0/16');
    const a = buildSpec(undefined, { 'pod-network': 'bridge' }, TEST_HOST, 'flags').spec;
    assert.equal(a.podNetwork, 'bridge');
    assert.equal(a.networking.podSubnet, '10.244.0.0/16');
    assert.equal(a.documents.cluster.networking?.podSubnet, '10.244.0.0/16', 'recorded and uploaded as the cluster configuration says it');
    const b = buildSpec(undefined, { 'pod-network': 'bridge', 'pod-network-cidr': '10.32.0.0/16' }, TEST_HOST, 'flags').spec;
    assert.equal(b.networking.podSubnet, '10.32.0.0/16');
    const none = buildSpec(undefined, {}, TEST_HOST, 'flags').spec;
    assert.equal(none.podNetwork, undefined);
    assert.equal(none.networking.podSubnet, '');
    assert.equal(none.documents.kubeboot, undefined, 'nothing of kubeboot’s own is recorded when nothing is set');
  });

  it('--single-node drops only the control-plane taint', () => {
    assert.deepEqual(buildSpec(undefined, {}, TEST_HOST, 'flags').spec.taints.map((t) => t.key), ['node-role.kubernetes.io/control-plane']);
    assert.deepEqual(buildSpec(undefined, { 'single-node': true }, TEST_HOST, 'flags').spec.taints, []);
  });

  it('a KubebootConfiguration document beside kubeadm’s; a flag overrides it; its problems name the field and the valid values', async () => {
    const yaml = (extra: string) => `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
networking:
  podSubnet: 10.40.0.0/16
  serviceSubnet: 10.96.0.0/12
---
apiVersion: kubeboot.io/v1alpha1
kind: KubebootConfiguration
${extra}`;
    const p = await parseConfigText(yaml('podNetwork: bridge\nsingleNode: true\n'), 'c.yaml');
    const s = buildSpec(p, {}, TEST_HOST, 'c.yaml').spec;
    assert.equal(s.podNetwork, 'bridge');
    assert.equal(s.singleNode, true);
    assert.deepEqual(s.taints, []);
    assert.equal(s.networking.podSubnet, '10.40.0.0/16');
    assert.deepEqual(s.documents.kubeboot, { apiVersion: 'kubeboot.io/v1alpha1', kind: 'KubebootConfiguration', podNetwork: 'bridge', singleNode: true });
    assert.equal(buildSpec(p, { 'single-node': false }, TEST_HOST, 'c.yaml').spec.singleNode, false);

    const bad = await parseConfigText(yaml('podNetwork: flannel\nsingleNod: true\n'), 'c.yaml');
    assert.throws(
      () => buildSpec(bad, {}, TEST_HOST, 'c.yaml'),
      (err: ConfigError) => {
        const text = err.issues.join('\n');
        return err instanceof ConfigError && /KubebootConfiguration\.podNetwork/.test(text) && /bridge/.test(text) && /KubebootConfiguration.*singleNod/.test(text);
      },
    );
  });

  it('the recorded configuration carries the document, and reads back the same', async () => {
    const { renderRecordedConfig } = await import('../../../src/node/state.js');
    const s = buildSpec(undefined, { 'pod-network': 'bridge', 'single-node': true }, TEST_HOST, 'flags').spec;
    const text = renderRecordedConfig(s);
    assert.match(text, /kind: KubebootConfiguration\npodNetwork: bridge\nsingleNode: true/);
    const again = buildSpec(await parseConfigText(text, 'recorded'), {}, TEST_HOST, 'recorded').spec;
    assert.equal(again.podNetwork, 'bridge');
    assert.equal(again.singleNode, true);
    assert.equal(renderRecordedConfig(again), text);
  });
});
