/**
 * kubeconfig files (kubeadm-reference §3), PURE: server URLs from the spec, the file content from its
 * parts, and reading an existing file back. No fs, no env, no clock.
 */
import type { ClusterSpec } from '../config/spec.js';
import { canonicalIp, isIP, joinHostPort, splitHostPort } from '../util/net.js';
import { parseYaml, toYaml } from './yaml.js';

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
    preferences: {},
    users: [{ name: p.user, user: { 'client-certificate-data': b64(p.clientCertPem), 'client-key-data': b64(p.clientKeyPem) } }],
  };
}

export function renderKubeconfig(p: KubeconfigParts): string {
  return toYaml(kubeconfigObject(p));
}

/** What the existing-file check needs from a kubeconfig: the current context's cluster and user. */
export interface KubeconfigView {
  readonly currentContext: string;
  readonly clusterName: string;
  readonly server: string;
  /** embedded CA (decoded), when present */
  readonly caData: string | undefined;
  /** a CA file path (certificate-authority), when present */
  readonly caFile: string | undefined;
  readonly user: string;
  readonly clientCertData: string | undefined;
  readonly clientKeyData: string | undefined;
}

type Named = { name?: unknown; [k: string]: unknown };

function findNamed(list: unknown, name: string, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const item = (list as Named[]).find((x) => x !== null && typeof x === 'object' && x.name === name);
  const inner = item?.[field];
  return inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : undefined;
}

function decoded(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

/** Parses a kubeconfig; returns an error message instead of throwing. */
export function parseKubeconfig(text: string): KubeconfigView | string {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return `it is not valid YAML: ${(err as Error).message.split('\n')[0]}`;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'it is not a kubeconfig (not a YAML mapping)';
  const d = doc as Record<string, unknown>;
  const current = d['current-context'];
  if (typeof current !== 'string' || current === '') return 'it has no current-context';
  const ctx = findNamed(d.contexts, current, 'context');
  if (!ctx) return `failed to find CurrentContext "${current}" in Contexts of the kubeconfig file`;
  const clusterName = typeof ctx.cluster === 'string' ? ctx.cluster : '';
  const cluster = findNamed(d.clusters, clusterName, 'cluster');
  if (!cluster) return `failed to find the cluster "${clusterName}" of CurrentContext "${current}" in Clusters of the kubeconfig file`;
  const user = typeof ctx.user === 'string' ? ctx.user : '';
  const auth = findNamed(d.users, user, 'user');
  return {
    currentContext: current,
    clusterName,
    server: typeof cluster.server === 'string' ? cluster.server : '',
    caData: decoded(cluster['certificate-authority-data']),
    caFile: typeof cluster['certificate-authority'] === 'string' ? (cluster['certificate-authority'] as string) : undefined,
    user,
    clientCertData: decoded(auth?.['client-certificate-data']),
    clientKeyData: decoded(auth?.['client-key-data']),
  };
}
