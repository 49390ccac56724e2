/**
 * The init workflow, in kubeadm's order. Phase files must stay light at import time (no heavy modules at
 * the top level) because `kubeboot --help` builds its command tree from this list.
 */
import type { InitContext } from '../src/node/context.js';
import type { Phase } from '../src/workflow/phase.js';
import { preflight } from './init/preflight.js';
import { certs } from './init/certs.js';
import { kubeconfig } from './init/kubeconfig.js';
import { etcd } from './init/etcd.js';
import { controlPlane } from './init/control-plane.js';
import { kubeletStart } from './init/kubelet-start.js';
import { waitControlPlane } from './init/wait-control-plane.js';

export const INIT_PHASES: readonly Phase<InitContext>[] = [
  preflight,
  certs,
  kubeconfig,
  etcd,
  controlPlane,
  kubeletStart,
  waitControlPlane,
];
