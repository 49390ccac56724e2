/**
 * The objects of the CoreDNS and kube-proxy addons (kubeadm's phases/addons/dns and phases/addons/proxy), as data,
 * in the order kubeadm creates them. PURE: the parsed templates (templates/addons/), the spec, and what the node
 * layer read (the replicas of an existing CoreDNS Deployment, the *_proxy variables of the environment) come in as
 * arguments; nothing here reads the disk, the environment or the API server.
 */
import { createHash } from 'node:crypto';
import type { ClusterSpec } from '../config/spec.js';
import { corednsImage, kubernetesImage } from './images.js';
import { controlPlaneEndpointURL } from './kubeconfig.js';
import { applyPatches, type AppliedPatch, type PatchFile } from './patches.js';
import { clusterDnsIp } from './kubelet.js';
import { toYaml, toYamlInOrder } from './yaml.js';

/** An API object as data (the node layer's KubeObject has this shape). */
export interface AddonObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
}

/** One object and what to do when it exists already: bring it to these fields, or keep it as it is. */
export interface RenderedAddonObject {
  readonly object: AddonObject;
  readonly existing: 'update' | 'retain';
}

/** templates/addons/, parsed. */
export interface AddonTemplates {
  /** coredns.yaml: ConfigMap, ClusterRole, ClusterRoleBinding, ServiceAccount, Deployment, Service */
  readonly coredns: readonly unknown[];
  /** kube-proxy.yaml: ConfigMap, DaemonSet, ServiceAccount, ClusterRoleBinding, Role, RoleBinding */
  readonly kubeProxy: readonly unknown[];
  /** kube-proxy-kubeconfig.yaml */
  readonly kubeProxyKubeconfig: unknown;
}

export const COREDNS_NAME = 'coredns';
export const KUBE_DNS_SERVICE = 'kube-dns';
export const KUBE_PROXY_NAME = 'kube-proxy';
/** kubeadm's replica count for a new CoreDNS Deployment */
export const COREDNS_DEFAULT_REPLICAS = 2;
/** the annotation kubeadm signs a component config it generated with (not one the user supplied) */
export const COMPONENT_CONFIG_HASH_ANNOTATION = 'kubeadm.kubernetes.io/component-config.hash';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A copy of the template object of this kind and name (a broken template is a packaging error). */
function fromTemplate(docs: readonly unknown[], kind: string, name: string, file: string): Obj {
  const hit = docs.find((d) => isObj(d) && d.kind === kind && isObj(d.metadata) && d.metadata.name === name);
  if (!hit) throw new Error(`internal: template ${file} has no ${kind} ${name}; reinstall kubeboot`);
  return structuredClone(hit) as Obj;
}

function at(o: unknown, ...path: (string | number)[]): Obj {
  let cur: unknown = o;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  if (!isObj(cur)) throw new Error(`internal: addon template has no mapping at ${path.join('.')}; reinstall kubeboot`);
  return cur;
}

function asObject(o: Obj): AddonObject {
  return o as unknown as AddonObject;
}

// ---------- CoreDNS ----------

/**
 * kubeadm's Corefile for a cluster domain: the kubernetes plugin answers for the domain and the reverse zones, the
 * cache does not keep answers (or denials) for the cluster domain itself.
 */
export function corefile(dnsDomain: string): string {
  const lines = [
    '.:53 {',
    '    errors',
    '    health {',
    '       lameduck 5s',
    '    }',
    '    ready',
    `    kubernetes ${dnsDomain} in-addr.arpa ip6.arpa {`,
    '       pods insecure',
    '       fallthrough in-addr.arpa ip6.arpa',
    '       ttl 30',
    '    }',
    '    prometheus :9153',
    '    forward . /etc/resolv.conf {',
    '       max_concurrent 1000',
    '    }',
    ...(dnsDomain === '' ? ['    cache 30'] : ['    cache 30 {', `       disable success ${dnsDomain}`, `       disable denial ${dnsDomain}`, '    }']),
    '    loop',
    '    reload',
    '    loadbalance',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

export interface CoreDNSInputs {
  /** the replicas of the CoreDNS Deployment in the cluster, else COREDNS_DEFAULT_REPLICAS (kubeadm keeps a scaled one) */
  readonly replicas: number;
}

/**
 * CoreDNS's objects in kubeadm's order: the ConfigMap (kept when it exists: kubeadm retains a Corefile it finds), the
 * ClusterRole and its binding, the ServiceAccount, the Deployment and the kube-dns Service (the 10th address of the
 * first service subnet).
 */
export function renderCoreDNS(spec: ClusterSpec, templates: Pick<AddonTemplates, 'coredns'>, inputs: CoreDNSInputs): RenderedAddonObject[] {
  const file = 'templates/addons/coredns.yaml';
  const docs = templates.coredns;
  const configMap = fromTemplate(docs, 'ConfigMap', COREDNS_NAME, file);
  at(configMap, 'data').Corefile = corefile(spec.networking.dnsDomain);
  const deployment = fromTemplate(docs, 'Deployment', COREDNS_NAME, file);
  at(deployment, 'spec').replicas = inputs.replicas;
  at(deployment, 'spec', 'template', 'spec', 'containers', 0).image = corednsImage(spec);
  const service = fromTemplate(docs, 'Service', KUBE_DNS_SERVICE, file);
  at(service, 'spec').clusterIP = clusterDnsIp(spec.networking.serviceSubnet);
  return [
    { object: asObject(configMap), existing: 'retain' },
    { object: asObject(fromTemplate(docs, 'ClusterRole', 'system:coredns', file)), existing: 'update' },
    { object: asObject(fromTemplate(docs, 'ClusterRoleBinding', 'system:coredns', file)), existing: 'update' },
    { object: asObject(fromTemplate(docs, 'ServiceAccount', COREDNS_NAME, file)), existing: 'update' },
    { object: asObject(deployment), existing: 'update' },
    { object: asObject(service), existing: 'update' },
  ];
}

// ---------- kube-proxy ----------

/** kubeconfig.conf of the kube-proxy ConfigMap: the template's text with this server, in kubeadm's key order. */
export function kubeProxyKubeconfig(template: unknown, server: string): string {
  const doc = structuredClone(template) as Obj;
  at(doc, 'clusters', 0, 'cluster').server = server;
  return toYamlInOrder(doc);
}

/** kubeadm's ChecksumForConfigMap: sha256 over the data values in the order of their keys. */
export function configMapChecksum(data: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(data).sort()) h.update(data[k] as string);
  return `sha256:${h.digest('hex')}`;
}

/** Text kubeadm puts under a `|-` block: the final newline is dropped. */
function chomp(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

export interface KubeProxyInputs {
  /** the non-empty *_proxy variables of the environment, sorted by name (host facts): kubeadm passes them on */
  readonly proxyEnv: readonly { readonly name: string; readonly value: string }[];
}

/**
 * kube-proxy's objects in kubeadm's order: the ConfigMap (config.conf, the KubeProxyConfiguration; kubeconfig.conf,
 * the control-plane endpoint with the service account's token; signed with a checksum annotation unless the
 * configuration came from the user), the DaemonSet, the ServiceAccount, the binding to system:node-proxier, and the
 * Role and RoleBinding that let bootstrap tokens read the ConfigMap.
 */
export function renderKubeProxy(spec: ClusterSpec, templates: Pick<AddonTemplates, 'kubeProxy' | 'kubeProxyKubeconfig'>, inputs: KubeProxyInputs): RenderedAddonObject[] {
  const file = 'templates/addons/kube-proxy.yaml';
  const docs = templates.kubeProxy;
  const configMap = fromTemplate(docs, 'ConfigMap', KUBE_PROXY_NAME, file);
  const data: Record<string, string> = {
    'config.conf': chomp(toYaml(spec.kubeProxy.configuration)),
    'kubeconfig.conf': chomp(kubeProxyKubeconfig(templates.kubeProxyKubeconfig, controlPlaneEndpointURL(spec))),
  };
  configMap.data = data;
  if (!spec.kubeProxy.userSupplied) {
    const meta = at(configMap, 'metadata');
    meta.annotations = { ...(isObj(meta.annotations) ? meta.annotations : {}), [COMPONENT_CONFIG_HASH_ANNOTATION]: configMapChecksum(data) };
  }
  const daemonSet = fromTemplate(docs, 'DaemonSet', KUBE_PROXY_NAME, file);
  const container = at(daemonSet, 'spec', 'template', 'spec', 'containers', 0);
  container.image = kubernetesImage(spec, KUBE_PROXY_NAME);
  const env = Array.isArray(container.env) ? (container.env as unknown[]) : [];
  container.env = [...env, ...inputs.proxyEnv.map((e) => ({ name: e.name, value: e.value }))];
  return [
    { object: asObject(configMap), existing: 'update' },
    { object: asObject(daemonSet), existing: 'update' },
    { object: asObject(fromTemplate(docs, 'ServiceAccount', KUBE_PROXY_NAME, file)), existing: 'update' },
    { object: asObject(fromTemplate(docs, 'ClusterRoleBinding', 'kubeadm:node-proxier', file)), existing: 'update' },
    { object: asObject(fromTemplate(docs, 'Role', KUBE_PROXY_NAME, file)), existing: 'update' },
    { object: asObject(fromTemplate(docs, 'RoleBinding', KUBE_PROXY_NAME, file)), existing: 'update' },
  ];
}

// ---------- patches ----------

/** The patch targets of the addons' workloads (kubeadm's patches.CoreDNSDeployment and patches.KubeProxyDaemonSet). */
export type AddonPatchTarget = 'corednsdeployment' | 'kubeproxydaemonset';

/**
 * The user's patches for one addon workload (corednsdeployment: CoreDNS's Deployment; kubeproxydaemonset: kube-proxy's
 * DaemonSet), applied in the patch directory's order with Deployment / DaemonSet merge keys; the other objects are
 * left as they are. A patch that does not apply throws PatchError naming the file.
 */
export function patchAddonWorkload(
  objects: readonly RenderedAddonObject[],
  target: AddonPatchTarget,
  files: readonly PatchFile[],
): { objects: RenderedAddonObject[]; applied: AppliedPatch[] } {
  const kind = target === 'corednsdeployment' ? 'Deployment' : 'DaemonSet';
  const applied: AppliedPatch[] = [];
  const out = objects.map((o) => {
    if (o.object.kind !== kind) return o;
    const r = applyPatches(target, o.object, files);
    applied.push(...r.applied);
    return { ...o, object: r.object as AddonObject };
  });
  return { objects: out, applied };
}
