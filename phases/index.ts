/**
 * The workflows: init's and reset's phases, in kubeadm's order. The CLI reaches phase files only through these.
 * Phase files must stay light at import time (no heavy modules at the top level) because `kubeboot --help` builds its
 * command tree from these lists.
 */
import type { InitContext, ResetContext } from '../src/node/context.js';
import type { Phase } from '../src/workflow/phase.js';
import { preflight } from './init/preflight.js';
import { certs } from './init/certs.js';
import { kubeconfig } from './init/kubeconfig.js';
import { etcd } from './init/etcd.js';
import { controlPlane } from './init/control-plane.js';
import { kubeletStart } from './init/kubelet-start.js';
import { waitControlPlane } from './init/wait-control-plane.js';
import { uploadConfig } from './init/upload-config.js';
import { uploadCerts } from './init/upload-certs.js';
import { markControlPlane } from './init/mark-control-plane.js';
import { bootstrapToken } from './init/bootstrap-token.js';
import { kubeletFinalize } from './init/kubelet-finalize.js';
import { showJoinCommand } from './init/show-join-command.js';
import { addon } from './init/addon.js';
import { podNetwork } from './init/pod-network.js';
import { waitCluster } from './init/wait-cluster.js';
import { resetPreflight } from './reset/preflight.js';
import { removeEtcdMember } from './reset/remove-etcd-member.js';
import { cleanupNode } from './reset/cleanup-node.js';

export const INIT_PHASES: readonly Phase<InitContext>[] = [
  preflight,
  certs,
  kubeconfig,
  etcd,
  controlPlane,
  podNetwork,
  kubeletStart,
  waitControlPlane,
  uploadConfig,
  uploadCerts,
  markControlPlane,
  bootstrapToken,
  kubeletFinalize,
  addon,
  waitCluster,
  showJoinCommand,
];

export const RESET_PHASES: readonly Phase<ResetContext>[] = [resetPreflight, removeEtcdMember, cleanupNode];
