/**
 * control-plane: the kube-apiserver, kube-controller-manager and kube-scheduler static pod manifests, one sub-phase
 * per component of the component table (src/components.ts). The work is the node layer's (src/node/manifests.ts);
 * this file holds the phase values and their flags. Light at import time.
 */
import type { InitContext } from '../../src/node/context.js';
import { componentRow, type StaticPodComponent } from '../../src/components.js';
import type { Phase } from '../../src/workflow/phase.js';

const COMMON_FLAGS = ['cert-dir', 'config', 'kubernetes-version', 'image-repository', 'patches', 'dry-run'] as const;

/** The flags kubeadm gives each control-plane sub-phase (its name is the component table's). */
const CONTROL_PLANE_PHASES = [
  {
    component: 'kube-apiserver',
    flags: [
      'apiserver-advertise-address',
      'control-plane-endpoint',
      'apiserver-bind-port',
      'apiserver-extra-args',
      'feature-gates',
      'service-cidr',
      'service-dns-domain',
    ],
  },
  { component: 'kube-controller-manager', flags: ['controller-manager-extra-args', 'pod-network-cidr'] },
  { component: 'kube-scheduler', flags: ['scheduler-extra-args'] },
] as const satisfies readonly { component: StaticPodComponent; flags: readonly string[] }[];

function componentPhase(c: (typeof CONTROL_PLANE_PHASES)[number]): Phase<InitContext> {
  return {
    name: componentRow(c.component).initPhase[1],
    short: `Generates the ${c.component} static Pod manifest`,
    flags: [...COMMON_FLAGS, ...c.flags],
    async run(ctx) {
      ctx.out.log('control-plane', `Creating static Pod manifest for "${c.component}"`);
      const { writeStaticPodManifest } = await import('../../src/node/manifests.js');
      await writeStaticPodManifest(ctx, c.component);
    },
  };
}

export const controlPlane: Phase<InitContext> = {
  name: 'control-plane',
  short: 'Generate all static Pod manifest files necessary to establish the control plane',
  long: 'Generate the kube-apiserver, kube-controller-manager and kube-scheduler static Pod manifests in /etc/kubernetes/manifests (mode 0600), applying --patches / patches.directory.',
  flags: [...COMMON_FLAGS, ...new Set(CONTROL_PLANE_PHASES.flatMap((c) => [...c.flags]))],
  phases: CONTROL_PLANE_PHASES.map(componentPhase),
  async run(ctx) {
    ctx.out.log('control-plane', `Using manifest folder "${ctx.spec.paths.manifestsDir}"`);
  },
};
