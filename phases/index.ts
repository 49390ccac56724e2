/**
 * The init workflow, in kubeadm's order. Phase files must stay light at import time (no heavy modules at
 * the top level) because `kubeboot --help` builds its command tree from this list.
 */
import type { InitContext } from '../src/context.js';
import type { Phase } from '../src/workflow/phase.js';
import { preflight } from './preflight.js';
// @imports:pki
// @imports:manifests
// @imports:kubelet

export const INIT_PHASES: readonly Phase<InitContext>[] = [
  preflight,
  // @phases:pki
  // @phases:manifests
  // @phases:kubelet
];
