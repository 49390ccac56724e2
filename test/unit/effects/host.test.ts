/** Host facts read from the (root-mapped) disk: CA directories and whether systemd-resolved runs. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { gatherHostFacts } from '../../../src/effects/host.js';
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
