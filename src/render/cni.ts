/**
 * The one-node pod network (issue 12): a CNI network configuration list for the standard reference plugins — a
 * Linux bridge with host-local IPAM over the cluster's pod subnet(s), and portmap for hostPort — PURE: pod subnets →
 * JSON text, same input same bytes. What the node must have (the plugins) and where it goes (the runtime's
 * configuration directory) are the node layer's (node/cni.ts).
 */

/** kubeboot's file in the runtime's CNI configuration directory (a low number: the runtime takes the first by name). */
export const CNI_CONF_FILE = '10-kubeboot-bridge.conflist';
/** the network's name (what the runtime logs) and the Linux bridge it makes on the node */
export const CNI_NETWORK_NAME = 'kubeboot';
export const CNI_BRIDGE = 'kubeboot0';
/** the plugin binaries the configuration uses; loopback is the runtime's own (containerd sets up lo with it) */
export const CNI_PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'] as const;
/** the CNI spec version written: 1.0.0, which the plugins since v1.0 and containerd since 1.7 speak */
export const CNI_VERSION = '1.0.0';

/** The pod network's kinds (the flag's and the configuration field's values). */
export const POD_NETWORKS = ['bridge'] as const;
export type PodNetwork = (typeof POD_NETWORKS)[number];

/**
 * The conflist for the pod subnet(s) (podSubnet, comma-separated for dual-stack): one host-local range set per
 * subnet, a default route per address family through the bridge (isGateway), and masquerading of traffic that leaves
 * the pod subnet (ipMasq) so that pods reach the outside through the node's address.
 */
export function bridgeConflist(podSubnet: string): string {
  const subnets = podSubnet
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (subnets.length === 0) throw new Error('internal: the pod network needs a pod subnet');
  const routes = [...new Set(subnets.map((s) => (s.includes(':') ? '::/0' : '0.0.0.0/0')))].map((dst) => ({ dst }));
  const conf = {
    cniVersion: CNI_VERSION,
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: CNI_BRIDGE,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: subnets.map((subnet) => [{ subnet }]),
          routes,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(conf, null, 2)}\n`;
}
