/**
 * What the kubeconfig phase does with each row of the kubeconfig table (kubeadm-reference §3 and
 * deltas §5): a fresh client certificate signed by ca, embedded with the CA in a kubeconfig rendered by
 * src/render/kubeconfig.ts; an existing file is reused, warned about (other server URL) or refused
 * (other CA), never overwritten.
 */
import { writeFile } from '../workflow/files.js';
import type { PkiEnv } from './env.js';
import { OperationError } from '../errors.js';
import { controlPlaneEndpointPortWarning, renderKubeconfig } from '../render/kubeconfig.js';
import { parseKubeconfig } from '../kube/kubeconfig.js';
import { keyPool, loadCA, pkiStart, reportReused, type LoadedCA } from './certs.js';
import { goTime, validityProblem } from './inspect.js';
import { privateKeyPem } from './keys.js';
import { encodePem } from './pem.js';
import { kubeconfigServer, kubeconfigValidity, planKubeconfigCert } from './plan.js';
import { issueCertificate } from './sign.js';
import { KUBECONFIG_TABLE, kubeconfigUser, type KubeconfigRow } from './table.js';

const MODE_KUBECONFIG = 0o600;

export function kubeconfigDir(ctx: PkiEnv): string {
  return ctx.spec.paths.kubernetesDir;
}

export function kubeconfigPath(ctx: PkiEnv, row: KubeconfigRow): string {
  return `${kubeconfigDir(ctx)}/${row.file}`;
}

const poolName = (row: KubeconfigRow) => `kubeconfig/${row.name}`;

/** The parent phase: announce the folder, warn about a port override, start the keys of absent files. */
export async function prepareKubeconfigs(ctx: PkiEnv): Promise<void> {
  ctx.out.log('kubeconfig', `Using kubeconfig folder "${kubeconfigDir(ctx)}"`);
  const w = controlPlaneEndpointPortWarning(ctx.spec);
  if (w) ctx.out.warn(w);
  const caKey = await ctx.fx.stat(`${ctx.spec.paths.certificatesDir}/ca.key`);
  if (!caKey) return;
  const absent = await Promise.all(KUBECONFIG_TABLE.map(async (r) => ((await ctx.fx.stat(kubeconfigPath(ctx, r))) ? undefined : poolName(r))));
  keyPool(ctx).prestart(absent.filter((n): n is string => n !== undefined));
}

async function requireCA(ctx: PkiEnv): Promise<LoadedCA> {
  const ca = await loadCA(ctx, 'ca');
  if (!ca) {
    throw new OperationError(
      `couldn't create a kubeconfig; the CA files couldn't be loaded: "${ctx.spec.paths.certificatesDir}/ca.crt" does not exist`,
      { hint: 'run `kubeboot init phase certs ca` first (or `kubeboot init phase certs all`)' },
    );
  }
  return ca;
}

/** One kubeconfig sub-phase. */
export async function ensureKubeconfig(ctx: PkiEnv, row: KubeconfigRow): Promise<void> {
  const spec = ctx.spec;
  const path = kubeconfigPath(ctx, row);
  const start = pkiStart(ctx);
  const ca = await requireCA(ctx);
  // kubeadm embeds the CA re-encoded from the parsed certificate (the first one in ca.crt)
  const caPem = encodePem('CERTIFICATE', ca.cert.der);
  const server = kubeconfigServer(row, spec);
  const existing = await ctx.fx.readFile(path);

  if (existing) {
    const view = parseKubeconfig(existing.toString('utf8'));
    if (typeof view === 'string') {
      throw new OperationError(`failed to load kubeconfig file "${path}": ${view}`, {
        hint: `fix or move "${path}" away so that kubeboot can write a new one`,
      });
    }
    let current = view.caData;
    if (current === undefined && view.caFile !== undefined) current = (await ctx.fx.readFile(view.caFile))?.toString('utf8');
    if ((current ?? '').trim() !== caPem.trim()) {
      throw new OperationError(`a kubeconfig file "${path}" exists already but has got the wrong CA cert`, {
        hint: `its cluster "${view.clusterName}" trusts another CA than "${ca.crtPath}"; move "${path}" away and run \`kubeboot init phase kubeconfig ${row.name}\` to write one for this cluster`,
      });
    }
    if (view.server !== server) {
      ctx.out.warn(`a kubeconfig file "${path}" exists already but has an unexpected API Server URL: expected: ${server}, got: ${view.server}`);
    }
    ctx.out.log('kubeconfig', ca.key ? `Using existing kubeconfig file: "${path}"` : `External CA mode: Using user provided ${row.file}`);
    await reportReused(ctx, [path]);
    return;
  }

  if (!ca.key) {
    throw new OperationError(
      `invalid or incomplete external CA: the kubeconfig file "${path}" does not exist and cannot be made without the CA key "${ca.keyPath}"`,
      { hint: `with an external CA, provide "${path}" with a client certificate signed by it; or put the CA key at "${ca.keyPath}"` },
    );
  }
  const problem = validityProblem(ca.cert, start);
  if (problem) {
    ctx.out.warn(
      `could not validate bounds for certificate ca: the certificate ${problem === 'expired' ? 'has expired' : 'is not valid yet'}: NotBefore: ${goTime(ca.cert.notBefore)}, NotAfter: ${goTime(ca.cert.notAfter)}`,
    );
  }
  const plan = planKubeconfigCert(row, spec);
  const kp = await keyPool(ctx).take(poolName(row));
  const cert = await issueCertificate({
    plan,
    validity: kubeconfigValidity(plan, start, ca.cert.notBefore),
    publicKey: kp.publicKey,
    signer: { caCertDer: ca.cert.der, caKey: ca.key },
  });
  const content = renderKubeconfig({
    clusterName: spec.clusterName,
    server,
    user: kubeconfigUser(row, spec),
    caCertPem: caPem,
    clientCertPem: cert.pem,
    clientKeyPem: privateKeyPem(kp.privateKey),
  });
  ctx.out.log('kubeconfig', `Writing "${row.file}" kubeconfig file`);
  await writeFile(ctx, path, content, MODE_KUBECONFIG);
}
