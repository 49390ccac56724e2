/**
 * wait-control-plane (reference §5, deltas §4; visible, as in kubeadm 1.34+): waits in parallel for what --wait-for
 * selects (default all): the kubelet's healthz, the components' health endpoints (addresses and ports parsed from
 * the generated manifests, plus etcd's /health), and the four mirror pods Ready in kube-system (read with admin.conf
 * after making sure the ClusterRoleBinding kubeadm:cluster-admins exists). It explains changes while it waits and,
 * on timeout, which target failed, with what, and what to run next (exit 4). Under --dry-run it only says what it
 * would wait for. Light at import time: the engine is loaded when the phase runs.
 */
import { CONTROL_PLANE_COMPONENTS, manifestPath, type StaticPodComponent } from '../../src/components.js';
import type { InitContext } from '../../src/node/context.js';
import { OperationError } from '../../src/errors.js';
import type { Phase } from '../../src/workflow/phase.js';

export const waitControlPlane: Phase<InitContext> = {
  name: 'wait-control-plane',
  short: 'Wait for the control plane to start',
  long: 'Wait in parallel for the kubelet\'s /healthz, the control-plane components\' health endpoints (from the generated manifests) and their mirror pods in kube-system (Ready). Explains restarts and failures while waiting; on timeout, says which target failed and what to run next (exit 4). --wait-for selects targets, --wait-timeout overrides the timeouts.',
  flags: ['config', 'dry-run', 'wait-for', 'wait-timeout'],
  async run(ctx) {
    const [{ componentEndpoint, manifestCommand }, { waitForControlPlane, diagnose }, { kubeletHealthzEndpoint }, { joinHostPort }, { formatDuration }, { kubeletConfigInForce, KUBELET_STARTED }, { mirrorPodOf, adminKubeconfigPaths }, { NoAdminKubeconfigError }] =
      await Promise.all([
        import('../../src/kube/endpoints.js'),
        import('../../src/kube/control-plane-wait.js'),
        import('../../src/render/kubelet.js'),
        import('../../src/util/net.js'),
        import('../../src/util/duration.js'),
        import('../../src/node/kubelet.js'),
        import('../../src/node/names.js'),
        import('../../src/node/context.js'),
      ]);
    const spec = ctx.spec;
    // the control plane's targets named in --wait-for; none named (only 'all', or only the cluster's targets
    // node/dns/workloads, which need the control plane first): all three
    const named = ctx.options.waitFor.filter((t) => t === 'kubelet' || t === 'components' || t === 'mirror-pods');
    const sel = new Set(named.length === 0 ? ['all'] : named);
    const wants = (t: string) => sel.has('all') || sel.has(t);
    const override = ctx.options.waitTimeoutMs;
    const kubeletTimeout = override ?? spec.timeouts.kubeletHealthCheckMs;
    const cpTimeout = override ?? spec.timeouts.controlPlaneComponentHealthCheckMs;
    const localEtcd = spec.etcd.local !== undefined;
    const names: StaticPodComponent[] = [...(localEtcd ? (['etcd'] as const) : []), ...CONTROL_PLANE_COMPONENTS];

    // the kubelet's healthz, from the kubelet configuration
    let kubeletUrl: string | undefined;
    if (wants('kubelet')) {
      const hz = kubeletHealthzEndpoint((await kubeletConfigInForce(ctx)) as Record<string, unknown>);
      kubeletUrl = hz.port === 0 ? undefined : `http://${joinHostPort(hz.host, hz.port)}/healthz`;
    }

    // the components, from the generated manifests
    const endpoints: import('../../src/kube/endpoints.js').ComponentEndpoint[] = [];
    if (wants('components')) {
      for (const name of [...CONTROL_PLANE_COMPONENTS, ...(localEtcd ? (['etcd'] as const) : [])]) {
        const path = manifestPath(spec, name);
        const text = (await ctx.fx.readFile(path))?.toString('utf8');
        if (text === undefined) {
          throw new OperationError(`cannot check ${name}: its static pod manifest ${path} does not exist`, {
            hint: 'run the etcd and control-plane phases first (kubeboot init phase control-plane all), or leave "components" out of --wait-for',
          });
        }
        endpoints.push(componentEndpoint(name, manifestCommand(text, path), spec.advertiseAddress));
      }
    }

    const podNames = names.map((n) => mirrorPodOf(spec, n));
    const { admin: adminPath, superAdmin: superAdminPath } = adminKubeconfigPaths(spec);

    // what is waited for, said in a dry run (the effects twin does not wait: nothing it changed can start)
    const tag = 'dryrun';
    ctx.out.action(tag, { would: 'Would wait for the control plane (not done under --dry-run):' });
    if (wants('kubelet')) ctx.out.action(tag, { would: `Would wait up to ${formatDuration(kubeletTimeout)} for a healthy kubelet at ${kubeletUrl ?? '(healthzPort 0: no check)'}` });
    for (const ep of endpoints) ctx.out.action(tag, { would: `Would wait up to ${formatDuration(cpTimeout)} for ${ep.name} at ${ep.url}` });
    if (wants('mirror-pods')) {
      ctx.out.action(tag, { would: `Would ensure the ClusterRoleBinding kubeadm:cluster-admins exists (with ${adminPath}, else ${superAdminPath})` });
      ctx.out.action(tag, { would: `Would wait up to ${formatDuration(cpTimeout)} for the mirror pods ${podNames.join(', ')} in kube-system to be Ready` });
    }
    const sink = {
      log: (t: string, message: string) => ctx.out.log(t, message),
      event: (e: { target: string; status: 'waiting' | 'progress' | 'ready' | 'failed'; message: string; data?: Record<string, unknown> }) =>
        ctx.out.emit({ type: 'wait', ...e }),
    };
    const signal = ctx.options.signal;
    // a kubelet this run did not start gets a short grace to show that one runs already (a kubelet started earlier, or
    // the one that watches --root's files); otherwise the wait ends at once instead of after its timeout
    const ks = ctx.slots.get(KUBELET_STARTED);
    const notStarted = ks?.started ? undefined : (ks?.reason ?? 'the kubelet-start phase did not run in this init');
    const waited = await ctx.fx.waitForNode('the control plane (the kubelet, the components and their mirror pods)', async () => {
      // the API server, with admin.conf (super-admin.conf only to create the cluster-admins binding)
      let mirrorPods;
      if (wants('mirror-pods')) {
        let api;
        try {
          api = await ctx.client();
        } catch (err) {
          if (!(err instanceof NoAdminKubeconfigError)) throw err;
          throw new OperationError(`cannot wait for the mirror pods: ${adminPath} does not exist`, {
            hint: 'run the kubeconfig phase first (kubeboot init phase kubeconfig all), or leave "mirror-pods" out of --wait-for',
          });
        }
        mirrorPods = {
          podNames,
          componentOf: Object.fromEntries(names.map((n, i) => [podNames[i] as string, n])),
          admin: api.client,
          superAdmin: api.superAdmin,
          timeoutMs: cpTimeout,
        };
      }
      const plan = {
        manifestsDir: spec.paths.manifestsDir,
        criSocket: spec.criSocket,
        ...(wants('kubelet') ? { kubelet: { url: kubeletUrl, timeoutMs: kubeletTimeout, ...(notStarted !== undefined ? { notStarted } : {}) } } : {}),
        ...(wants('components') ? { components: { endpoints, timeoutMs: cpTimeout } } : {}),
        ...(mirrorPods ? { mirrorPods } : {}),
      };
      return { plan, report: await waitForControlPlane(ctx.fx, plan, sink, signal) };
    });
    if (!waited) {
      ctx.out.emit({
        type: 'wait',
        target: 'wait-control-plane',
        status: 'waiting',
        message: 'dry-run: the wait is not performed',
        data: { dryRun: true, kubelet: kubeletUrl ?? null, components: endpoints.map((e) => ({ name: e.name, url: e.url })), mirrorPods: wants('mirror-pods') ? podNames : [] },
      });
      return;
    }
    // a wait writes nothing: the first Ctrl-C / SIGTERM ends it at once (exit 130), not after the timeout
    if (signal?.aborted) {
      const { InterruptError } = await import('../../src/errors.js');
      throw new InterruptError(String(signal.reason ?? 'SIGINT'));
    }
    if (!waited.report.ok) throw await diagnose(ctx.fx, waited.report, waited.plan, sink);
  },
};
