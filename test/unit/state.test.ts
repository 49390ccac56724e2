import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSpec } from '../../src/config/load.js';
import { parseYamlDocuments } from '../../src/render/yaml.js';
import { LEDGER, RECORDED_CONFIG, forgetFiles, readLedger, recordConfig, recordFiles } from '../../src/node/state.js';
import { FakeEffects } from '../helpers/fake-effects.js';
import { TEST_HOST } from '../helpers/host.js';

describe('kubeboot state', () => {
  it('the ledger keeps the first writer, sorts paths, and forgets removed files', async () => {
    const fx = new FakeEffects();
    await recordFiles(fx, [{ path: '/etc/kubernetes/pki/ca.key', mode: 0o600, by: 'certs/ca' }]);
    await recordFiles(fx, [
      { path: '/etc/kubernetes/admin.conf', mode: 0o600, by: 'kubeconfig/admin' },
      { path: '/etc/kubernetes/pki/ca.key', mode: 0o600, by: 'certs/renew' },
    ]);
    const l = await readLedger(fx);
    assert.deepEqual(Object.keys(l.files), ['/etc/kubernetes/admin.conf', '/etc/kubernetes/pki/ca.key']);
    assert.equal(l.files['/etc/kubernetes/pki/ca.key']?.by, 'certs/ca');
    assert.equal(fx.files.get(LEDGER)?.mode, 0o600);
    assert.equal(fx.dirs.get('/etc/kubernetes/kubeboot'), 0o700);
    await forgetFiles(fx, ['/etc/kubernetes/admin.conf']);
    assert.deepEqual(Object.keys((await readLedger(fx)).files), ['/etc/kubernetes/pki/ca.key']);
  });
  it('a file that is not a ledger is an error that names it', async () => {
    const fx = new FakeEffects();
    fx.files.set(LEDGER, { data: Buffer.from('{"x":1}'), mode: 0o600 });
    await assert.rejects(readLedger(fx), /\/etc\/kubernetes\/kubeboot\/files.json is not a kubeboot file ledger/);
  });
  it('the recorded config is the defaulted v1beta4 documents, deterministic, 0600', async () => {
    const fx = new FakeEffects();
    const { spec } = buildSpec(undefined, { 'pod-network-cidr': '10.244.0.0/16' }, TEST_HOST, 'flags');
    assert.equal(await recordConfig(fx, spec), 'written');
    assert.equal(await recordConfig(fx, spec), 'unchanged');
    const f = fx.files.get(RECORDED_CONFIG);
    assert.equal(f?.mode, 0o600);
    const docs = parseYamlDocuments(f?.data.toString() ?? '') as { kind: string; networking?: { podSubnet: string } }[];
    assert.deepEqual(docs.map((d) => d.kind), ['InitConfiguration', 'ClusterConfiguration']);
    assert.equal(docs[1]?.networking?.podSubnet, '10.244.0.0/16');
  });
});
