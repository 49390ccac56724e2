/**
 * etcd: the local etcd static pod manifest (sub-phase `local`). With external etcd the sub-phase is skipped
 * with kubeadm's message. The work is the node layer's (src/node/manifests.ts). Light at import time.
 */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

const ETCD_FLAGS = ['cert-dir', 'config', 'dry-run', 'image-repository', 'patches'] as const;

export const etcd: Phase<InitContext> = {
  name: 'etcd',
  short: 'Generate static Pod manifest file for local etcd',
  long: 'Generate the static Pod manifest for a local, single-node etcd in /etc/kubernetes/manifests (mode 0600), applying --patches / patches.directory. Skipped with external etcd.',
  flags: [...ETCD_FLAGS],
  phases: [
    {
      name: 'local',
      short: 'Generate the static Pod manifest file for a local, single-node local etcd instance',
      flags: [...ETCD_FLAGS],
      runIf(ctx) {
        if (ctx.spec.etcd.local) return true;
        // kubeadm logs this at -v 1 only
        if (ctx.options.verbose) ctx.out.log('etcd', 'External etcd mode. Skipping the creation of a manifest for local etcd');
        return false;
      },
      async run(ctx) {
        ctx.out.log('etcd', `Creating static Pod manifest for local etcd in "${ctx.spec.paths.manifestsDir}"`);
        const { ensureEtcdDataDir, writeStaticPodManifest } = await import('../../src/node/manifests.js');
        await ensureEtcdDataDir(ctx);
        await writeStaticPodManifest(ctx, 'etcd');
      },
    },
  ],
};
