/**
 * What init does in the API server after the control plane is up (kubeadm's upload-config, upload-certs,
 * mark-control-plane, bootstrap-token and kubelet-finalize), the node layer's: objects from the pure renderer
 * (render/cluster.ts), written through `ensureObject` (created / updated / left alone), with kubeadm's lines. Every
 * call goes through ctx.client(); under --dry-run the effects twin records the writes instead of sending them, and the
 * reads still see the cluster.
 */
import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import type { BootstrapTokenSpec } from '../config/spec.js';
import { OperationError, errorMessage } from '../errors.js';
import type { ApiClient } from '../kube/api.js';
import {
  NAMES,
  KUBE_SYSTEM,
  bootstrapRbacObjects,
  bootstrapTokenSecret,
  certsToTransfer,
  clusterInfoObjects,
  kubeadmCertsObjects,
  kubeadmConfigObjects,
  kubeletConfigObjects,
  markedNode,
  taintText,
} from '../render/cluster.js';
import { slot } from '../workflow/slots.js';
import type { InitContext, NodeContext } from './context.js';
import { OBJECT_TALLY, ensureObject, reportObject, type EnsureOptions, type KubeObject } from './objects.js';
import { adminKubeconfigPaths, kubeletCertDir, kubeletNodeName } from './names.js';

/** The bootstrap tokens this run uses (generated ones included), for show-join-command and the result. */
export const TOKENS = slot<readonly string[]>('bootstrap-tokens');
/** The certificate key upload-certs used (generated when none was given). */
export const CERTIFICATE_KEY = slot<string>('certificate-key');

/** Retries a call while the API server is not answering yet (connection errors, 429, 5xx), up to kubernetesAPICall. */
export async function withApiRetry<T>(ctx: NodeContext, what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = ctx.fx.now().getTime() + ctx.spec.timeouts.kubernetesAPICallMs;
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const msg = errorMessage(err);
      const transient = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|timed out| 429 | 5\d\d /.test(` ${msg} `);
      if (!transient) throw err;
      last = err;
    }
    if (ctx.fx.now().getTime() >= deadline || ctx.options.signal?.aborted) {
      throw new OperationError(`${what}: the API server did not answer within ${Math.round(ctx.spec.timeouts.kubernetesAPICallMs / 1000)}s: ${errorMessage(last)}`);
    }
    await ctx.fx.sleep(500, ctx.options.signal);
  }
}

async function ensureAll(ctx: NodeContext, client: ApiClient, objects: readonly Record<string, unknown>[], opts: EnsureOptions = {}): Promise<void> {
  const tally = ctx.slots.get(OBJECT_TALLY) ?? new Map<string, number>();
  ctx.slots.set(OBJECT_TALLY, tally);
  for (const o of objects) {
    const obj = o as KubeObject;
    const outcome = await withApiRetry(ctx, `${obj.kind} ${obj.metadata.name}`, () => ensureObject(client, obj, opts));
    reportObject(ctx.out, obj, outcome, tally);
  }
}

// ---------- upload-config

export async function uploadKubeadmConfig(ctx: NodeContext): Promise<void> {
  ctx.out.log('upload-config', `Storing the configuration used in ConfigMap "${NAMES.kubeadmConfig}" in the "${KUBE_SYSTEM}" Namespace`);
  const { client } = await ctx.client();
  await ensureAll(ctx, client, kubeadmConfigObjects(ctx.spec));
}

export async function uploadKubeletConfig(ctx: NodeContext): Promise<void> {
  ctx.out.log('kubelet', `Creating a ConfigMap "${NAMES.kubeletConfig}" in namespace ${KUBE_SYSTEM} with the configuration for the kubelets in the cluster`);
  const [{ renderKubeletConfigObject }, { loadKubeletTemplate }, { toYaml }] = await Promise.all([
    import('../render/kubelet.js'),
    import('./templates.js'),
    import('../render/yaml.js'),
  ]);
  // the cluster-wide configuration: no node-local resolvConf, no patches, no instance config
  const doc = renderKubeletConfigObject(ctx.spec, await loadKubeletTemplate(), false).doc;
  const { client } = await ctx.client();
  await ensureAll(ctx, client, kubeletConfigObjects(toYaml(doc), ctx.spec.kubeletConfiguration !== undefined));
}

// ---------- upload-certs

/** AES-256-GCM as kubeadm's EncryptBytes: nonce || ciphertext || tag. */
function encrypt(data: Buffer, key: Buffer): Buffer {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([nonce, c.update(data), c.final(), c.getAuthTag()]);
}

/** A random bootstrap token, [a-z0-9]{6}.[a-z0-9]{16} (kubeadm's GenerateBootstrapToken). */
export function generateToken(): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number) => Array.from({ length: n }, () => chars[randomInt(chars.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

export async function uploadCerts(ctx: InitContext): Promise<void> {
  if (!ctx.options.uploadCerts) {
    ctx.out.log('upload-certs', 'Skipping phase. Please see --upload-certs');
    return;
  }
  ctx.out.log('upload-certs', `Storing the certificates in Secret "${NAMES.kubeadmCerts}" in the "${KUBE_SYSTEM}" Namespace`);
  const keyHex = ctx.options.certificateKey || ctx.spec.certificateKey || randomBytes(32).toString('hex');
  ctx.slots.set(CERTIFICATE_KEY, keyHex);
  const key = Buffer.from(keyHex, 'hex');
  const { client } = await ctx.client();
  // a short-lived token whose Secret owns kubeadm-certs: the token cleaner deletes both after two hours
  const proxy: BootstrapTokenSpec & { token: string } = {
    token: generateToken(),
    description: 'Proxy for managing TTL for the kubeadm-certs secret',
    ttlMs: 2 * 3_600_000,
    expires: undefined,
    usages: [],
    groups: [],
  };
  const tokenSecret = bootstrapTokenSecret(proxy, ctx.fx.now());
  await ensureAll(ctx, client, [tokenSecret]);
  const name = (tokenSecret.metadata as { name: string }).name;
  const got = await withApiRetry(ctx, `Secret ${name}`, () => client.get<{ metadata?: { uid?: string } }>(`/api/v1/namespaces/${KUBE_SYSTEM}/secrets/${name}`, undefined, { absentWhenUnreachable: true }));
  // under --dry-run the token was not created: its uid is unknown, as kubeadm's dry run shows it
  const uid = got.status === 200 ? (got.body?.metadata?.uid ?? '') : '';
  const data: Record<string, string> = {};
  for (const [secretKey, path] of Object.entries(certsToTransfer(ctx.spec))) {
    const bytes = await ctx.fx.readFile(path);
    // a missing file is carried as empty, as kubeadm does
    data[secretKey] = bytes ? encrypt(bytes, key).toString('base64') : '';
  }
  await ensureAll(ctx, client, kubeadmCertsObjects(data, { name, uid }));
  if (!ctx.options.skipCertificateKeyPrint) ctx.out.log('upload-certs', `Using certificate key:\n${keyHex}`);
}

// ---------- mark-control-plane

export async function markControlPlane(ctx: NodeContext): Promise<void> {
  const node = kubeletNodeName(ctx.spec);
  ctx.out.log('mark-control-plane', `Marking the node ${node} as control-plane by adding the labels: [${NAMES.labelControlPlane} ${NAMES.labelExcludeFromLB}]`);
  if (ctx.spec.taints.length > 0) {
    ctx.out.log('mark-control-plane', `Marking the node ${node} as control-plane by adding the taints [${ctx.spec.taints.map(taintText).join(' ')}]`);
  }
  const { client } = await ctx.client();
  const path = `/api/v1/nodes/${encodeURIComponent(node)}`;
  type NodeBody = { metadata?: { labels?: Record<string, string> }; spec?: { taints?: Record<string, unknown>[] } };
  // the kubelet registers the node; like kubeadm, wait until it has its hostname label (a dry run does not wait)
  const registered = await ctx.fx.waitForNode(`the kubelet to register the node ${node}`, async () => {
    const deadline = ctx.fx.now().getTime() + ctx.spec.timeouts.kubernetesAPICallMs;
    let last = 'not read yet';
    for (;;) {
      let r;
      try {
        r = await client.get<NodeBody>(path, undefined, { absentWhenUnreachable: true });
      } catch (err) {
        r = undefined;
        last = errorMessage(err);
      }
      if (r?.status === 200 && r.body?.metadata?.labels?.[NAMES.labelHostname] !== undefined) return r.body;
      if (r) last = r.status === 404 ? `the node "${node}" is not registered yet` : r.status === 200 ? `the node "${node}" has no ${NAMES.labelHostname} label yet` : `HTTP ${r.status}`;
      if (ctx.fx.now().getTime() >= deadline || ctx.options.signal?.aborted) {
        throw new OperationError(`error marking the node ${node} as control-plane: ${last}`, {
          hint: `the kubelet registers the node with kubelet.conf; check 'kubectl get nodes' and the kubelet's log`,
        });
      }
      await ctx.fx.sleep(500, ctx.options.signal);
    }
  });
  if (!registered) return;
  const want = markedNode({ labels: registered.metadata?.labels ?? {}, taints: registered.spec?.taints ?? [] }, ctx.spec.taints.map((t) => ({ ...t })));
  const tally = ctx.slots.get(OBJECT_TALLY) ?? new Map<string, number>();
  ctx.slots.set(OBJECT_TALLY, tally);
  const ref = { kind: 'Node', metadata: { name: node } };
  if (!want) {
    reportObject(ctx.out, ref, 'unchanged', tally);
    return;
  }
  const p = await withApiRetry(ctx, `Node ${node}`, () => client.patch(path, { metadata: { labels: want.labels }, spec: { taints: want.taints } }, 'strategic'));
  if (p.status !== 200) throw new OperationError(`error patching Node "${node}" with ${client.label}: ${p.status} ${p.text.slice(0, 200)}`);
  reportObject(ctx.out, ref, 'patched', tally);
}

// ---------- bootstrap-token

/**
 * The tokens of this run: the configured ones; a token of '' takes the one the previous init on this node recorded
 * when its Secret still exists (so that init run again converges), else a new random one.
 */
async function effectiveTokens(ctx: InitContext, client: ApiClient): Promise<(BootstrapTokenSpec & { token: string })[]> {
  const previous = ctx.options.recordedTokens ?? [];
  const out: (BootstrapTokenSpec & { token: string })[] = [];
  for (const [i, t] of ctx.spec.bootstrapTokens.entries()) {
    if (t.token !== '') {
      out.push(t);
      continue;
    }
    const prev = previous[i];
    if (prev) {
      const id = prev.split('.')[0] as string;
      const r = await client.get(`/api/v1/namespaces/${KUBE_SYSTEM}/secrets/bootstrap-token-${id}`, undefined, { absentWhenUnreachable: true }).catch(() => undefined);
      if (r?.status === 200) {
        out.push({ ...t, token: prev });
        continue;
      }
    }
    out.push({ ...t, token: generateToken() });
  }
  return out;
}

export async function bootstrapToken(ctx: InitContext): Promise<void> {
  const { client } = await ctx.client();
  const tokens = await withApiRetry(ctx, 'reading the bootstrap tokens', () => effectiveTokens(ctx, client));
  ctx.slots.set(TOKENS, tokens.map((t) => t.token));
  if (!ctx.options.skipTokenPrint) {
    if (tokens.length === 1) ctx.out.log('bootstrap-token', `Using token: ${tokens[0]?.token}`);
    else if (tokens.length > 1) ctx.out.log('bootstrap-token', `Using tokens: [${tokens.map((t) => t.token).join(' ')}]`);
  }
  ctx.out.log('bootstrap-token', 'Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles');
  const now = ctx.fx.now();
  for (const t of tokens) {
    // a TTL's expiration moves with every run: an existing token that differs only there is left as it is
    await ensureAll(ctx, client, [bootstrapTokenSecret(t, now)], { ignore: [['data', 'expiration']] });
  }
  // kubeadm's line before each rule (the get-nodes ClusterRole and its binding share one)
  const lines: Record<string, string> = {
    [`ClusterRole/${NAMES.getNodes}`]: 'Configured RBAC rules to allow Node Bootstrap tokens to get nodes',
    [`ClusterRoleBinding/${NAMES.kubeletBootstrap}`]: 'Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to get long term certificate credentials',
    [`ClusterRoleBinding/${NAMES.autoApproveBootstrap}`]: 'Configured RBAC rules to allow the csrapprover controller automatically approve CSRs from a Node Bootstrap Token',
    [`ClusterRoleBinding/${NAMES.autoApproveRotation}`]: 'Configured RBAC rules to allow certificate rotation for all node client certificates in the cluster',
    [`ClusterRoleBinding/${NAMES.apiserverKubeletClient}`]: 'Configured RBAC rules to allow the API server kubelet client certificate to access the kubelet API',
  };
  for (const o of bootstrapRbacObjects()) {
    const line = lines[`${String(o.kind)}/${(o.metadata as { name: string }).name}`];
    if (line) ctx.out.log('bootstrap-token', line);
    await ensureAll(ctx, client, [o]);
  }
  // cluster-info: admin.conf's cluster and CA, readable anonymously
  ctx.out.log('bootstrap-token', `Creating the "${NAMES.clusterInfo}" ConfigMap in the "kube-public" namespace`);
  const { parseKubeconfig } = await import('../kube/kubeconfig.js');
  const adminPath = adminKubeconfigPaths(ctx.spec).admin;
  const view = parseKubeconfig(((await ctx.fx.readFile(adminPath)) ?? Buffer.from('')).toString('utf8'));
  if (typeof view === 'string') throw new OperationError(`cannot read ${adminPath}: ${view}`);
  const caPem = view.caData ?? (view.caFile ? (await ctx.fx.readFile(view.caFile))?.toString('utf8') : undefined);
  if (!caPem) throw new OperationError(`${adminPath} has no certificate authority to publish in cluster-info`);
  await ensureAll(ctx, client, clusterInfoObjects(view.server, caPem));
}

// ---------- kubelet-finalize

/**
 * enable-client-cert-rotation: when the kubelet keeps a rotatable client certificate (pki/kubelet-client-current.pem,
 * or its --cert-dir), kubelet.conf points at that file instead of the embedded certificate, and the kubelet restarts.
 */
export async function enableClientCertRotation(ctx: InitContext): Promise<void> {
  const pem = `${kubeletCertDir(ctx.spec)}/kubelet-client-current.pem`;
  if (!(await ctx.fx.stat(pem))) return;
  const path = `${ctx.spec.paths.kubernetesDir}/kubelet.conf`;
  ctx.out.log('kubelet-finalize', `Updating "${path}" to point to a rotatable kubelet client certificate and key`);
  const [{ parseYaml, toYaml }, { parseKubeconfig }, { writeFile }, { kubeletService }] = await Promise.all([
    import('../render/yaml.js'),
    import('../kube/kubeconfig.js'),
    import('../workflow/files.js'),
    import('./kubelet.js'),
  ]);
  const text = (await ctx.fx.readFile(path))?.toString('utf8');
  if (text === undefined) throw new OperationError(`could not load "${path}": it does not exist`);
  const view = parseKubeconfig(text);
  if (typeof view === 'string') throw new OperationError(`could not load "${path}": ${view}`);
  const doc = parseYaml(text) as { users?: { name?: string; user?: Record<string, unknown> }[] };
  const user = doc.users?.find((u) => u.name === view.user)?.user;
  if (!user) throw new OperationError(`the file "${path}" does not contain authentication for user "${view.user}"`);
  delete user['client-certificate-data'];
  delete user['client-key-data'];
  user['client-certificate'] = pem;
  user['client-key'] = pem;
  const mode = (await ctx.fx.stat(path))?.mode ?? 0o600;
  const status = await writeFile(ctx, path, toYaml(doc), mode);
  if (status === 'written') await kubeletService(ctx, 'restart', 'kubelet-finalize');
}

// ---------- show-join-command

/** kubeadm's discovery hash of a CA: sha256 of its SubjectPublicKeyInfo. */
export async function caPublicKeyPin(caPem: string): Promise<string> {
  const { X509Certificate, createHash } = await import('node:crypto');
  const x = new X509Certificate(caPem);
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

export interface JoinCommand {
  /** host:port of the control plane (admin.conf's server without https://) */
  readonly endpoint: string;
  readonly token: string;
  readonly caCertHashes: readonly string[];
  readonly certificateKey: string | undefined;
  readonly worker: string;
  readonly controlPlane: string;
}

/** kubeadm's join commands (the nodes join with kubeadm: kubeboot's cluster is kubeadm's). */
export async function joinCommands(ctx: InitContext, token: string): Promise<JoinCommand> {
  const { parseKubeconfig } = await import('../kube/kubeconfig.js');
  const adminPath = adminKubeconfigPaths(ctx.spec).admin;
  const view = parseKubeconfig(((await ctx.fx.readFile(adminPath)) ?? Buffer.from('')).toString('utf8'));
  if (typeof view === 'string') throw new OperationError(`failed to load kubeconfig ${adminPath}: ${view}`);
  const caPem = view.caData ?? (view.caFile ? (await ctx.fx.readFile(view.caFile))?.toString('utf8') : undefined);
  if (!caPem) throw new OperationError(`no CA certificates found in kubeconfig ${adminPath}`);
  const certs = caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const pins = await Promise.all(certs.map((c) => caPublicKeyPin(c)));
  const endpoint = view.server.replace('https://', '');
  const shownToken = ctx.options.skipTokenPrint ? '<value withheld>' : token;
  const key = ctx.slots.get(CERTIFICATE_KEY);
  const shownKey = ctx.options.skipCertificateKeyPrint ? '<value withheld>' : key;
  const base = `kubeadm join ${endpoint} --token ${shownToken} \\\n\t${pins.map((h) => `--discovery-token-ca-cert-hash ${h} `).join('')}`;
  return {
    endpoint,
    token,
    caCertHashes: pins,
    certificateKey: key,
    worker: base,
    controlPlane: `${base}\\\n\t--control-plane ${shownKey ? `--certificate-key ${shownKey}` : ''}`,
  };
}

/** kubeadm's closing text of init (the join commands included). */
export function initDoneText(adminPath: string, join: JoinCommand, opts: { controlPlaneEndpoint: string; uploadCerts: boolean }): string {
  const lines = [
    'Your Kubernetes control-plane has initialized successfully!',
    '',
    'To start using your cluster, you need to run the following as a regular user:',
    '',
    '  mkdir -p $HOME/.kube',
    `  sudo cp -i ${adminPath} $HOME/.kube/config`,
    '  sudo chown $(id -u):$(id -g) $HOME/.kube/config',
    '',
    'Alternatively, if you are the root user, you can run:',
    '',
    '  export KUBECONFIG=/etc/kubernetes/admin.conf',
    '',
    'You should now deploy a pod network to the cluster.',
    'Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:',
    '  https://kubernetes.io/docs/concepts/cluster-administration/addons/',
    '',
  ];
  if (opts.controlPlaneEndpoint !== '') {
    if (opts.uploadCerts) {
      lines.push(
        'You can now join any number of control-plane nodes running the following command on each as root:',
        '',
        `  ${join.controlPlane}`,
        '',
        'Please note that the certificate-key gives access to cluster sensitive data, keep it secret!',
        'As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use',
        '"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.',
        '',
      );
    } else {
      lines.push(
        'You can now join any number of control-plane nodes by copying certificate authorities',
        'and service account keys on each node and then running the following as root:',
        '',
        `  ${join.controlPlane}`,
        '',
      );
    }
  }
  lines.push('Then you can join any number of worker nodes by running the following on each as root:', '', join.worker);
  return `${lines.join('\n')}\n`;
}

/** The join commands this run shows, for init's JSON result. */
export const JOIN = slot<readonly JoinCommand[]>('join-commands');

/** show-join-command: the closing text for each token (the tokens of this run, else the configuration's). */
export async function showJoinCommand(ctx: InitContext): Promise<void> {
  const tokens = ctx.slots.get(TOKENS) ?? ctx.spec.bootstrapTokens.map((t) => t.token).filter((t) => t !== '');
  const adminPath = adminKubeconfigPaths(ctx.spec).admin;
  const joins: JoinCommand[] = [];
  for (const token of tokens) {
    const join = await joinCommands(ctx, token);
    joins.push(join);
    // kubeadm's text starts with an empty line (one before each token's text)
    ctx.out.log('', `\n${initDoneText(adminPath, join, { controlPlaneEndpoint: ctx.spec.controlPlaneEndpoint, uploadCerts: ctx.options.uploadCerts === true }).replace(/\n$/, '')}`);
  }
  ctx.slots.set(JOIN, joins);
}
