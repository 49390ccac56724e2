/**
 * The addon phase's work (kubeadm's phases/addons): CoreDNS and kube-proxy objects in kube-system, each created,
 * brought to what the configuration says, kept (CoreDNS's Corefile, as kubeadm keeps it) or left alone when equal —
 * through ensureObject, with every outcome reported and tallied for the run's summary. Under --dry-run the effects
 * twin records the writes; the objects are printed instead.
 */
import { OperationError } from '../errors.js';
import { statusMessage, type ApiClient } from '../kube/api.js';
import {
  COREDNS_DEFAULT_REPLICAS,
  COREDNS_NAME,
  patchAddonWorkload,
  renderCoreDNS,
  renderKubeProxy,
  type AddonPatchTarget,
  type AddonTemplates,
  type RenderedAddonObject,
} from '../render/addons.js';
import { PatchError } from '../render/patches.js';
import type { NodeContext } from './context.js';
import { OBJECT_TALLY, collectionPath, describeObject, ensureObject, reportObject, type KubeObject, type ObjectOutcome } from './objects.js';
import { loadAddonTemplates } from './templates.js';

export const ADDONS_TAG = 'addons';
const KUBE_SYSTEM = 'kube-system';
/** the label kubeadm finds the CoreDNS Deployment by (its replicas and its image tag) */
const KUBE_DNS_SELECTOR = 'k8s-app=kube-dns';

/**
 * The API client for the addons: admin.conf, after making sure the kubeadm:cluster-admins ClusterRoleBinding exists
 * (created with super-admin.conf when admin.conf is refused), as kubeadm's init does before its first API call.
 */
export async function adminClient(ctx: NodeContext): Promise<ApiClient> {
  const api = await ctx.client();
  let r;
  try {
    r = await api.ensureClusterAdmins(ADMIN_BOOTSTRAP_TIMEOUT_MS);
  } catch (err) {
    // no API server answers (the first call of the phase): say what the addons need
    const code = (err as { code?: string }).code;
    throw new OperationError(`could not bootstrap the admin user in file ${api.client.label}: the API server at ${api.client.creds.server} does not answer (${code ?? (err as Error).message})`, {
      cause: err,
      hint: 'the addons are created through a running API server: run them after the control plane is up (kubeboot init, or kubeboot init phase wait-control-plane first), or leave them out with --skip-phases addon',
    });
  }
  if (!r.ok) throw new OperationError(`could not bootstrap the admin user in file ${api.client.label}: ${r.error}`);
  return api.client;
}

const ADMIN_BOOTSTRAP_TIMEOUT_MS = 10_000;

/** The run's object tally (created in the run's slots on first use). */
function tally(ctx: NodeContext): Map<string, number> {
  let t = ctx.slots.get(OBJECT_TALLY);
  if (!t) {
    t = new Map();
    ctx.slots.set(OBJECT_TALLY, t);
  }
  return t;
}

const WOULD: Readonly<Record<ObjectOutcome, string>> = {
  created: 'Would create',
  updated: 'Would update',
  unchanged: 'Would leave unchanged',
  retained: 'Would keep the existing',
};

/** Ensures the objects in order; reports each outcome (in a dry run, what would happen to each). */
async function ensureAll(ctx: NodeContext, client: ApiClient, objects: readonly RenderedAddonObject[]): Promise<Map<KubeObject, ObjectOutcome>> {
  const outcomes = new Map<KubeObject, ObjectOutcome>();
  for (const { object, existing } of objects) {
    const obj = object as KubeObject;
    const outcome = await ensureObject(client, obj, { existing });
    outcomes.set(obj, outcome);
    reportObject(ctx.out, obj, outcome, tally(ctx));
    // the object itself is printed with the run's other requests at the end ("Would send: POST … with object:")
    ctx.out.action('dryrun', { would: `${WOULD[outcome]} ${describeObject(obj)}` });
  }
  return outcomes;
}

interface ListBody {
  readonly items?: readonly { readonly metadata?: { readonly name?: string }; readonly spec?: { readonly replicas?: number } }[];
}

/**
 * kubeadm's deployedDNSReplicas: the replicas of the one CoreDNS Deployment (label k8s-app=kube-dns) in kube-system,
 * so that a re-run keeps a scaled CoreDNS; 2 when there is none; an error when there are several.
 */
export async function corednsReplicas(client: ApiClient): Promise<number> {
  const path = `${collectionPath('apps/v1', 'Deployment', KUBE_SYSTEM)}?labelSelector=${encodeURIComponent(KUBE_DNS_SELECTOR)}`;
  const r = await client.get<ListBody>(path, undefined, { absentWhenUnreachable: true });
  if (r.status === 404) return COREDNS_DEFAULT_REPLICAS;
  if (r.status !== 200) throw new OperationError(`couldn't retrieve DNS addon deployments with ${client.label}: ${r.status} ${statusMessage(r)}`);
  const items = r.body?.items ?? [];
  if (items.length === 0) return COREDNS_DEFAULT_REPLICAS;
  if (items.length > 1) {
    throw new OperationError(`multiple DNS addon deployments found: ${items.map((i) => i.metadata?.name ?? '?').join(', ')}`, {
      hint: `keep one Deployment labelled ${KUBE_DNS_SELECTOR} in ${KUBE_SYSTEM}`,
    });
  }
  return items[0]?.spec?.replicas ?? COREDNS_DEFAULT_REPLICAS;
}

/** The Corefile of the coredns ConfigMap in the cluster (undefined when there is no such ConfigMap). */
async function existingCorefile(client: ApiClient): Promise<string | undefined> {
  const path = `${collectionPath('v1', 'ConfigMap', KUBE_SYSTEM)}/${COREDNS_NAME}`;
  const r = await client.get<{ data?: Record<string, string> }>(path, undefined, { absentWhenUnreachable: true });
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new OperationError(`unable to fetch the CoreDNS ConfigMap with ${client.label}: ${r.status} ${statusMessage(r)}`);
  const corefile = r.body?.data?.Corefile;
  if (corefile === undefined) {
    throw new OperationError(`unable to find the CoreDNS Corefile data in ConfigMap ${KUBE_SYSTEM}/${COREDNS_NAME}`, {
      hint: `put a Corefile key back into the ConfigMap, or delete it (kubectl -n ${KUBE_SYSTEM} delete configmap ${COREDNS_NAME}) so that kubeboot creates it`,
    });
  }
  return corefile;
}

/**
 * The user's patches (patches.directory) for an addon's workload, applied with kubeadm's messages; kube-proxy's
 * DaemonSet takes patches from the minor whose kubeadm has that target (1.37), earlier ones ignore them as kubeadm does.
 */
async function withPatches(ctx: NodeContext, objects: RenderedAddonObject[], target: AddonPatchTarget, what: string): Promise<RenderedAddonObject[]> {
  if (ctx.spec.patchesDirectory === '') return objects;
  const { loadPatches } = await import('./manifests.js');
  const files = ((await loadPatches(ctx))?.files ?? []).filter((f) => f.target === target);
  if (files.length === 0) return objects;
  if (target === 'kubeproxydaemonset' && !ctx.spec.version.kubeProxyDaemonSetPatches) {
    ctx.out.log('patches', `Ignoring the patches for target "${target}": kubeadm ${ctx.spec.version.minor} does not patch kube-proxy's DaemonSet (kubeadm 1.37 does)`);
    return objects;
  }
  try {
    const r = patchAddonWorkload(objects, target, files);
    for (const a of r.applied) ctx.out.log('patches', `Applied patch of type "${a.type}" to target "${target}"`);
    return r.objects;
  } catch (err) {
    if (err instanceof PatchError) throw new OperationError(`could not apply patches to the ${what}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The CoreDNS addon: ConfigMap (an existing Corefile is kept), RBAC, ServiceAccount, Deployment, kube-dns Service. */
export async function ensureCoreDNS(ctx: NodeContext, client: ApiClient, templates?: AddonTemplates): Promise<void> {
  const replicas = await corednsReplicas(client);
  const current = await existingCorefile(client);
  const objects = await withPatches(ctx, renderCoreDNS(ctx.spec, templates ?? (await loadAddonTemplates()), { replicas }), 'corednsdeployment', 'CoreDNS Deployment');
  await ensureAll(ctx, client, objects);
  const wanted = ((objects[0]?.object as { data?: { Corefile?: string } }).data?.Corefile ?? '') as string;
  if (current !== undefined && current !== wanted) {
    ctx.out.warn(
      `[addons] WARNING: kept the existing Corefile of ConfigMap ${KUBE_SYSTEM}/${COREDNS_NAME}, which differs from the one for this configuration (cluster domain "${ctx.spec.networking.dnsDomain}"), as kubeadm keeps a Corefile it finds; to get the new one, delete the ConfigMap and run the addon phase again (kubectl -n ${KUBE_SYSTEM} delete configmap ${COREDNS_NAME} && kubeboot init phase addon coredns)`,
    );
  }
  ctx.out.action(ADDONS_TAG, { doing: 'Applied essential addon: CoreDNS', would: 'Would apply essential addon: CoreDNS' });
}

/** The kube-proxy addon: ConfigMap (the KubeProxyConfiguration and a kubeconfig), DaemonSet, ServiceAccount, RBAC. */
export async function ensureKubeProxy(ctx: NodeContext, client: ApiClient, templates?: AddonTemplates): Promise<void> {
  const rendered = renderKubeProxy(ctx.spec, templates ?? (await loadAddonTemplates()), { proxyEnv: ctx.host.proxyEnv });
  const objects = await withPatches(ctx, rendered, 'kubeproxydaemonset', 'kube-proxy DaemonSet');
  await ensureAll(ctx, client, objects);
  ctx.out.action(ADDONS_TAG, { doing: 'Applied essential addon: kube-proxy', would: 'Would apply essential addon: kube-proxy' });
}
