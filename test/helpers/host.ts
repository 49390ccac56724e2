/** Fixed host facts so that rendering tests do not depend on the machine. */
import type { HostFacts } from '../../src/effects/host.js';

export const TEST_HOST: HostFacts = {
  hostname: 'cp1',
  defaultAddress: '192.0.2.10',
  criSockets: ['unix:///var/run/containerd/containerd.sock'],
  existingCaDirs: [],
  proxyEnv: [],
  uid: 0,
  swapOn: false,
  cpus: 2,
  memoryMB: 4096,
  ipv4Forward: '1',
  ipv6Forward: '1',
  systemdResolved: false,
};
