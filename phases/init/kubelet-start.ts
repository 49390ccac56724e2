/**
 * kubelet-start (reference §6, deltas §6): writes /var/lib/kubelet/kubeadm-flags.env, instance-config.yaml and
 * config.yaml, then restarts the kubelet through systemctl (src/node/kubelet.ts). It runs after control-plane, so the
 * manifests exist when the kubelet starts. Light at import time.
 */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

export const kubeletStart: Phase<InitContext> = {
  name: 'kubelet-start',
  short: 'Write kubelet settings and (re)start the kubelet',
  long: 'Write /var/lib/kubelet/kubeadm-flags.env, instance-config.yaml and config.yaml (the KubeletConfiguration: kubeadm defaults, the config file\'s KubeletConfiguration, then kubeletconfiguration patches), then restart the kubelet with systemctl. Without systemd this is a warning saying what to run.',
  flags: ['config', 'cri-socket', 'node-name', 'patches', 'dry-run'],
  async run(ctx) {
    const { writeKubeletFiles, kubeletService, KUBELET_STARTED } = await import('../../src/node/kubelet.js');
    await writeKubeletFiles(ctx, 'kubelet-start');
    const started = await kubeletService(ctx, 'restart', 'kubelet-start');
    ctx.slots.set(
      KUBELET_STARTED,
      started
        ? { started }
        : { started, reason: ctx.options.root !== '' ? `the files were written under --root "${ctx.options.root}"` : 'systemctl did not start it (see the warning above)' },
    );
  },
};
