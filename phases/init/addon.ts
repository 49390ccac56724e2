/**
 * addon (kubeadm's init phase addon): CoreDNS and kube-proxy in kube-system through the API server (admin.conf).
 * `addon all` runs both; dns.disabled / proxy.disabled (or skipping the sub-phase, which sets them) skip one.
 * Light at import time: the node layer is loaded when a sub-phase runs.
 */
import type { InitContext } from '../../src/node/context.js';
import type { Phase } from '../../src/workflow/phase.js';

const COREDNS_FLAGS = ['feature-gates', 'service-dns-domain', 'service-cidr'] as const;
const KUBE_PROXY_FLAGS = ['apiserver-advertise-address', 'control-plane-endpoint', 'apiserver-bind-port', 'pod-network-cidr'] as const;
const COMMON_FLAGS = ['config', 'kubernetes-version', 'image-repository', 'dry-run'] as const;

const coredns: Phase<InitContext> = {
  name: 'coredns',
  short: 'Install the CoreDNS addon to a Kubernetes cluster',
  long: 'Install the CoreDNS addon components via the API server.\nPlease note that although the DNS server is deployed, it will not be scheduled until CNI is installed.',
  flags: [...COMMON_FLAGS, ...COREDNS_FLAGS],
  runIf: (ctx) => !ctx.spec.dns.disabled,
  async run(ctx) {
    const { adminClient, ensureCoreDNS } = await import('../../src/node/addons.js');
    await ensureCoreDNS(ctx, await adminClient(ctx));
  },
};

const kubeProxy: Phase<InitContext> = {
  name: 'kube-proxy',
  short: 'Install the kube-proxy addon to a Kubernetes cluster',
  long: 'Install the kube-proxy addon components via the API server.',
  flags: [...COMMON_FLAGS, ...KUBE_PROXY_FLAGS],
  runIf: (ctx) => !ctx.spec.proxy.disabled,
  async run(ctx) {
    const { adminClient, ensureKubeProxy } = await import('../../src/node/addons.js');
    await ensureKubeProxy(ctx, await adminClient(ctx));
  },
};

export const addon: Phase<InitContext> = {
  name: 'addon',
  short: 'Install required addons for passing conformance tests',
  flags: [...COMMON_FLAGS, ...KUBE_PROXY_FLAGS, ...COREDNS_FLAGS],
  phases: [coredns, kubeProxy],
};
