/** Host facts read from the (root-mapped) disk: CA directories and whether systemd-resolved runs. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { KNOWN_CRI_SOCKETS, OPTIONAL_CA_DIRS, SYSTEMD_RESOLVED_UPSTREAM, gatherHostFacts } from '../../../src/effects/host.js';
import type { Effects } from '../../../src/effects/types.js';
import { applyDefaults } from '../../../src/config/defaults.js';
import { RealEffects } from '../../../src/effects/real.js';
import { tempDir } from '../../helpers/tmp.js';

describe('host facts under --root', () => {
  it('systemd-resolved counts as running when its upstream resolv.conf exists; CA dirs that exist are listed', async (t) => {
    const root = tempDir(t);
    const none = await gatherHostFacts(new RealEffects(root), {});
    assert.equal(none.systemdResolved, false);
    assert.deepEqual(none.existingCaDirs, []);

    mkdirSync(path.join(root, 'run/systemd/resolve'), { recursive: true });
    writeFileSync(path.join(root, 'run/systemd/resolve/resolv.conf'), 'nameserver 192.0.2.53\n');
    mkdirSync(path.join(root, 'etc/ca-certificates'), { recursive: true });
    const some = await gatherHostFacts(new RealEffects(root), { HTTPS_PROXY: 'http://proxy:3128', unrelated: 'x' });
    assert.equal(some.systemdResolved, true);
    assert.deepEqual(some.existingCaDirs, ['/etc/ca-certificates']);
    assert.deepEqual(some.proxyEnv, [{ name: 'HTTPS_PROXY', value: 'http://proxy:3128' }]);
  });
});

const INIT = { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'InitConfiguration' };
const CLUSTER = { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'ClusterConfiguration' };

describe('host facts when a path may not be read', () => {
  it('every disk probe that fails (EACCES) is taken as absent and listed, never thrown; defaulting warns about each', async () => {
    const probed: string[] = [];
    const real = new RealEffects('');
    const fx: Effects = Object.assign(Object.create(real) as Effects, {
      async stat(p: string) {
        probed.push(p);
        throw Object.assign(new Error(`EACCES: permission denied, stat '${p}'`), { code: 'EACCES' });
      },
      async readFile(p: string) {
        throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES' });
      },
      async listDir(p: string) {
        throw Object.assign(new Error(`EACCES: permission denied, scandir '${p}'`), { code: 'EACCES' });
      },
    });
    const facts = await gatherHostFacts(fx, {});
    assert.deepEqual(facts.criSockets, []);
    assert.deepEqual(facts.existingCaDirs, []);
    assert.equal(facts.systemdResolved, false);
    const all = [...KNOWN_CRI_SOCKETS.map((s) => s.slice('unix://'.length)), ...OPTIONAL_CA_DIRS, SYSTEMD_RESOLVED_UPSTREAM].sort();
    assert.deepEqual([...probed].sort(), all, 'every probe went through the effects');
    assert.deepEqual(facts.unprobed?.map((u) => u.path), all);
    assert.ok(facts.unprobed?.every((u) => u.reason === 'permission denied'));

    const { init, warnings } = applyDefaults(INIT, CLUSTER, facts, 'v1.36.5');
    assert.equal(init.nodeRegistration?.criSocket, 'unix:///var/run/containerd/containerd.sock');
    assert.match(warnings[0] ?? '', /^could not check for a CRI socket at \/var\/run\/containerd\/containerd.sock \(permission denied\), \/var\/run\/crio\/crio.sock \(permission denied\), \/var\/run\/cri-dockerd.sock \(permission denied\); using unix:\/\/\/var\/run\/containerd\/containerd.sock/);
    for (const p of [...OPTIONAL_CA_DIRS, SYSTEMD_RESOLVED_UPSTREAM]) assert.ok(warnings.some((w) => w.startsWith(`could not look at ${p} (permission denied); taken as absent`)), p);
  });

  it('a socket that is found wins over one that could not be checked', async () => {
    const fx: Effects = Object.assign(Object.create(new RealEffects('')) as Effects, {
      async stat(p: string) {
        if (p === '/var/run/crio/crio.sock') return { kind: 'other', mode: 0o755, size: 0 };
        if (p === '/var/run/containerd/containerd.sock') throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        return undefined;
      },
    });
    const facts = await gatherHostFacts(fx, {});
    assert.deepEqual(facts.criSockets, ['unix:///var/run/crio/crio.sock']);
    const { init } = applyDefaults(INIT, CLUSTER, facts, 'v1.36.5');
    assert.equal(init.nodeRegistration?.criSocket, 'unix:///var/run/crio/crio.sock');
  });
});
