/**
 * wait-control-plane (reference §5, deltas §4; visible, as in kubeadm 1.34+): waits in parallel for what --wait-for
 * selects (default all): the kubelet's healthz, the components' health endpoints (addresses and ports parsed from
 * the generated manifests, plus etcd's /health), and the four mirror pods Ready in kube-system (read with admin.conf
 * after making sure the ClusterRoleBinding kubeadm:cluster-admins exists). It explains changes while it waits and,
 * on timeout, which target failed, with what, and what to run next (exit 4). Under --dry-run it only says what it
 * would wait for. Light at import time: the engine is loaded when the phase runs.
 */
import type { InitContext } from '../../src/node/context.js';
import { OperationError } from '../../src/errors.js';
import type { Phase } from '../../src/workflow/phase.js';
import { KUBELET_CONFIG } from './kubelet-start.js';

const COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

async function readText(ctx: InitContext, path: string): Promise<string | undefined> {
  return (await ctx.fx.readFile(path))?.toString('utf8');
}

/** The KubeletConfiguration in force: this run's, else the file on disk, else what kubelet-start would write. */
async function kubeletConfig(ctx: InitContext): Promise<Readonly<Record<string, unknown>>> {
  const fromRun = ctx.slots.get(KUBELET_CONFIG);
  if (fromRun) return fromRun;
  const path = `${ctx.spec.paths.kubeletDir}/config.yaml`;
  const text = await readText(ctx, path);
  const { parseYaml } = await import('../../src/render/yaml.js');
  if (text !== undefined) {
    const doc = parseYaml(text);
    if (doc && typeof doc === 'object' && !Array.isArray(doc)) return doc as Record<string, unknown>;
    ctx.out.warn(`${path} is not a YAML mapping; using the kubelet configuration kubeboot would write`);
  }
  const [{ renderKubeletFiles }, { loadKubeletTemplate }] = await Promise.all([import('../../src/render/kubelet.js'), import('../../src/node/templates.js')]);
  return renderKubeletFiles({ spec: ctx.spec, hostname: ctx.host.hostname, systemdResolved: ctx.host.systemdResolved, template: await loadKubeletTemplate() }).configObject;
}

export const waitControlPlane: Phase<InitContext> = {
  name: 'wait-control-plane',
  short: 'Wait for the control plane to start',
  long: 'Wait in parallel for the kubelet\'s /healthz, the control-plane components\' health endpoints (from the generated manifests) and their mirror pods in kube-system (Ready). Explains restarts and failures while waiting; on timeout, says which target failed and what to run next (exit 4). --wait-for selects targets, --wait-timeout overrides the timeouts.',
  flags: ['config', 'dry-run', 'wait-for', 'wait-timeout'],
  async run(ctx) {
    const [{ componentEndpoint, manifestCommand }, { waitForControlPlane, diagnose }, { kubeletHealthzEndpoint }, { joinHostPort }, { formatDuration }] =
      await Promise.all([
        import('../../src/kube/endpoints.js'),
        import('../../src/kube/control-plane-wait.js'),
        import('../../src/render/kubelet.js'),
        import('../../src/util/net.js'),
        import('../../src/util/duration.js'),
      ]);
    const spec = ctx.spec;
    const sel = new Set(ctx.options.waitFor.length === 0 ? ['all'] : ctx.options.waitFor);
    const wants = (t: string) => sel.has('all') || sel.has(t);
    const override = ctx.options.waitTimeoutMs;
    const kubeletTimeout = override ?? spec.timeouts.kubeletHealthCheckMs;
    const cpTimeout = override ?? spec.timeouts.controlPlaneComponentHealthCheckMs;
    const localEtcd = spec.etcd.local !== undefined;
    const names: string[] = [...(localEtcd ? ['etcd'] : []), ...COMPONENTS];

    // the kubelet's healthz, from the kubelet configuration
    let kubeletUrl: string | undefined;
    if (wants('kubelet')) {
      const hz = kubeletHealthzEndpoint(await kubeletConfig(ctx) as Record<string, unknown>);
      kubeletUrl = hz.port === 0 ? undefined : `http://${joinHostPort(hz.host, hz.port)}/healthz`;
    }

    // the components, from the generated manifests
    const endpoints = [];
    if (wants('components')) {
      for (const name of [...COMPONENTS, ...(localEtcd ? (['etcd'] as const) : [])]) {
        const path = `${spec.paths.manifestsDir}/${name}.yaml`;
        const text = await readText(ctx, path);
        if (text === undefined) {
          throw new OperationError(`cannot check ${name}: its static pod manifest ${path} does not exist`, {
            hint: 'run the etcd and control-plane phases first (kubeboot init phase control-plane all), or leave "components" out of --wait-for',
          });
        }
        endpoints.push(componentEndpoint(name, manifestCommand(text, path), spec.advertiseAddress));
      }
    }

    const node = (await import('../../src/node/rollout.js')).kubeletNodeName(ctx.spec);
    const podNames = names.map((n) => `${n}-${node}`);
    const adminPath = `${spec.paths.kubernetesDir}/admin.conf`;
    const superAdminPath = `${spec.paths.kubernetesDir}/super-admin.conf`;

    if (ctx.options.dryRun) {
      const tag = 'dryrun';
      ctx.out.log(tag, 'Would wait for the control plane (not done under --dry-run):');
      if (wants('kubelet')) ctx.out.log(tag, `Would wait up to ${formatDuration(kubeletTimeout)} for a healthy kubelet at ${kubeletUrl ?? '(healthzPort 0: no check)'}`);
      for (const ep of endpoints) ctx.out.log(tag, `Would wait up to ${formatDuration(cpTimeout)} for ${ep.name} at ${ep.url}`);
      if (wants('mirror-pods')) {
        ctx.out.log(tag, `Would ensure the ClusterRoleBinding kubeadm:cluster-admins exists (with ${adminPath}, else ${superAdminPath})`);
        ctx.out.log(tag, `Would wait up to ${formatDuration(cpTimeout)} for the mirror pods ${podNames.join(', ')} in kube-system to be Ready`);
      }
      ctx.out.emit({
        type: 'wait',
        target: 'wait-control-plane',
        status: 'waiting',
        message: 'dry-run: the wait is not performed',
        data: { dryRun: true, kubelet: kubeletUrl ?? null, components: endpoints.map((e) => ({ name: e.name, url: e.url })), mirrorPods: wants('mirror-pods') ? podNames : [] },
      });
      return;
    }

    // the API server, with admin.conf (super-admin.conf only to create the cluster-admins binding)
    let mirrorPods;
    if (wants('mirror-pods')) {
      const [{ parseKubeconfig }, { ApiClient }] = await Promise.all([import('../../src/kube/kubeconfig.js'), import('../../src/kube/api.js')]);
      const read = (p: string) => readText(ctx, p);
      const load = async (path: string) => {
        const text = await readText(ctx, path);
        return text === undefined ? undefined : parseKubeconfig(text, path, read);
      };
      let admin;
      try {
        admin = await load(adminPath);
      } catch (err) {
        throw new OperationError(`cannot read ${adminPath}: ${(err as Error).message}`);
      }
      if (!admin) {
        throw new OperationError(`cannot wait for the mirror pods: ${adminPath} does not exist`, {
          hint: 'run the kubeconfig phase first (kubeboot init phase kubeconfig all), or leave "mirror-pods" out of --wait-for',
        });
      }
      const adminClient = new ApiClient(ctx.fx, admin, adminPath);
      let superClient: InstanceType<typeof ApiClient> | undefined | null = null;
      mirrorPods = {
        podNames,
        componentOf: Object.fromEntries(names.map((n, i) => [podNames[i] as string, n])),
        admin: adminClient,
        superAdmin: async () => {
          if (superClient === null) {
            const c = await load(superAdminPath);
            superClient = c ? new ApiClient(ctx.fx, c, superAdminPath) : undefined;
          }
          return superClient;
        },
        timeoutMs: cpTimeout,
      };
    }

    const plan = {
      manifestsDir: spec.paths.manifestsDir,
      criSocket: spec.criSocket,
      ...(wants('kubelet') ? { kubelet: { url: kubeletUrl, timeoutMs: kubeletTimeout } } : {}),
      ...(wants('components') ? { components: { endpoints, timeoutMs: cpTimeout } } : {}),
      ...(mirrorPods ? { mirrorPods } : {}),
    };
    const sink = {
      log: (tag: string, message: string) => ctx.out.log(tag, message),
      event: (e: { target: string; status: 'waiting' | 'progress' | 'ready' | 'failed'; message: string; data?: Record<string, unknown> }) =>
        ctx.out.emit({ type: 'wait', ...e }),
    };
    const signal = ctx.options.signal;
    const report = await waitForControlPlane(ctx.fx, plan, sink, signal);
    // a wait writes nothing: the first Ctrl-C / SIGTERM ends it at once (exit 130), not after the timeout
    if (signal?.aborted) {
      const { InterruptError } = await import('../../src/errors.js');
      throw new InterruptError(String(signal.reason ?? 'SIGINT'));
    }
    if (!report.ok) throw await diagnose(ctx.fx, report, plan, sink);
  },
};
