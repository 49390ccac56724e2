/**
 * kubeconfig files (kubeadm-reference §3), PURE: server URLs from the spec and the file content from its parts.
 * Reading one back is src/kube/kubeconfig.ts's. No fs, no env, no clock.
 */
import type { ClusterSpec } from '../config/spec.js';
import { canonicalIp, isIP, joinHostPort, splitHostPort } from '../util/net.js';
import { toYaml } from './yaml.js';

type EndpointSpec = Pick<ClusterSpec, 'advertiseAddress' | 'bindPort' | 'controlPlaneEndpoint'>;

function hostText(host: string): string {
  return isIP(host) ? canonicalIp(host) : host;
}

/** https://<advertiseAddress>:<bindPort>, IPv6 in brackets. */
export function localEndpointURL(spec: EndpointSpec): string {
  return `https://${joinHostPort(hostText(spec.advertiseAddress), spec.bindPort)}`;
}

/** controlPlaneEndpoint (its port, or bindPort when it has none); the local endpoint when unset. */
export function controlPlaneEndpointURL(spec: EndpointSpec): string {
  if (spec.controlPlaneEndpoint === '') return localEndpointURL(spec);
  const hp = splitHostPort(spec.controlPlaneEndpoint);
  if (!hp) throw new Error(`error parsing cluster controlPlaneEndpoint "${spec.controlPlaneEndpoint}"`);
  return `https://${joinHostPort(hostText(hp.host), hp.port ?? spec.bindPort)}`;
}

/** kubeadm's warning when controlPlaneEndpoint carries a port other than bindPort. */
export function controlPlaneEndpointPortWarning(spec: EndpointSpec): string | undefined {
  if (spec.controlPlaneEndpoint === '') return undefined;
  const hp = splitHostPort(spec.controlPlaneEndpoint);
  if (hp?.port !== undefined && hp.port !== spec.bindPort) {
    return '[endpoint] WARNING: port specified in controlPlaneEndpoint overrides bindPort in the controlplane address';
  }
  return undefined;
}

export interface KubeconfigParts {
  readonly clusterName: string;
  readonly server: string;
  /** the user name (the client certificate's CN) */
  readonly user: string;
  readonly caCertPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

export function contextName(user: string, clusterName: string): string {
  return `${user}@${clusterName}`;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** The kubeconfig as client-go writes it: one cluster, one user, one context that is current. */
export function kubeconfigObject(p: KubeconfigParts): Record<string, unknown> {
  const ctxName = contextName(p.user, p.clusterName);
  return {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(p.caCertPem), server: p.server }, name: p.clusterName }],
    contexts: [{ context: { cluster: p.clusterName, user: p.user }, name: ctxName }],
    'current-context': ctxName,
    kind: 'Config',
    users: [{ name: p.user, user: { 'client-certificate-data': b64(p.clientCertPem), 'client-key-data': b64(p.clientKeyPem) } }],
  };
}

export function renderKubeconfig(p: KubeconfigParts): string {
  return toYaml(kubeconfigObject(p));
}
