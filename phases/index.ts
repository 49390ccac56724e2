/**
 * The init workflow, in kubeadm's order. Phase files must stay light at import time (no heavy modules at
 * the top level) because `kubeboot --help` builds its command tree from this list.
 */
import type { InitContext } from '../src/context.js';
import type { Phase } from '../src/workflow/phase.js';
import { preflight } from './preflight.js';
import { certs } from './certs.js';
import { kubeconfig } from './kubeconfig.js';
import { etcd } from './etcd.js';
import { controlPlane } from './control-plane.js';
import { kubeletStart } from './kubelet-start.js';
import { waitControlPlane } from './wait-control-plane.js';

export const INIT_PHASES: readonly Phase<InitContext>[] = [
  preflight,
  certs,
  kubeconfig,
  etcd,
  controlPlane,
  kubeletStart,
  waitControlPlane,
];
