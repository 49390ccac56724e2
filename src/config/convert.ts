/** v1beta3 → v1beta4, as kubeadm's conversion does it (maps become name-sorted lists, timeouts move). */
import type { Arg, ClusterV1beta3, ClusterV1beta4, InitV1beta3, InitV1beta4 } from './schema.js';
import { API_V1BETA4 } from './api.js';

export function mapToArgs(m: Readonly<Record<string, string>> | undefined): Arg[] | undefined {
  if (m === undefined) return undefined;
  return Object.keys(m)
    .sort()
    .map((name) => ({ name, value: m[name] as string }));
}

export function convertInitV1beta3(v3: InitV1beta3): InitV1beta4 {
  const { nodeRegistration, ...rest } = v3;
  const out: InitV1beta4 = { ...rest, apiVersion: API_V1BETA4 };
  if (nodeRegistration) {
    const { kubeletExtraArgs, ...nr } = nodeRegistration;
    out.nodeRegistration = { ...nr, ...(kubeletExtraArgs ? { kubeletExtraArgs: mapToArgs(kubeletExtraArgs) } : {}) };
  }
  return out;
}

export interface ConvertedCluster {
  cluster: ClusterV1beta4;
  /** v1beta3 apiServer.timeoutForControlPlane, which moves to InitConfiguration.timeouts */
  timeoutForControlPlane: string | undefined;
}

export function convertClusterV1beta3(v3: ClusterV1beta3): ConvertedCluster {
  const { apiServer, controllerManager, scheduler, etcd, ...rest } = v3;
  const out: ClusterV1beta4 = { ...rest, apiVersion: API_V1BETA4 };
  let timeoutForControlPlane: string | undefined;
  if (apiServer) {
    const { extraArgs, timeoutForControlPlane: t, ...a } = apiServer;
    timeoutForControlPlane = t;
    out.apiServer = { ...a, ...(extraArgs ? { extraArgs: mapToArgs(extraArgs) } : {}) };
  }
  if (controllerManager) {
    const { extraArgs, ...c } = controllerManager;
    out.controllerManager = { ...c, ...(extraArgs ? { extraArgs: mapToArgs(extraArgs) } : {}) };
  }
  if (scheduler) {
    const { extraArgs, ...c } = scheduler;
    out.scheduler = { ...c, ...(extraArgs ? { extraArgs: mapToArgs(extraArgs) } : {}) };
  }
  if (etcd) {
    out.etcd = {};
    if (etcd.local) {
      const { extraArgs, ...l } = etcd.local;
      out.etcd.local = { ...l, ...(extraArgs ? { extraArgs: mapToArgs(extraArgs) } : {}) };
    }
    if (etcd.external) out.etcd.external = { ...etcd.external };
  }
  return { cluster: out, timeoutForControlPlane };
}
