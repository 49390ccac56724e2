/**
 * preflight: kubeadm's init checks, each named so that it can be ignored by name
 * (--ignore-preflight-errors=Name,… or all). All failures are reported together. Under --dry-run they are
 * shown as warnings and the run goes on. Under --root, checks about the real host's kernel, users and
 * binaries are skipped (the tree under --root is not that host); ports and files are still checked.
 */
import { CONTROL_PLANE_COMPONENTS, STATIC_POD_COMPONENTS, manifestPath, type StaticPodComponent } from '../../src/components.js';
import type { InitContext } from '../../src/node/context.js';
import { PreflightError } from '../../src/errors.js';
import type { Phase } from '../../src/workflow/phase.js';

export interface CheckResult {
  readonly warnings: string[];
  readonly errors: string[];
  /** not a problem: a condition kubeboot itself caused (its own manifest, its own component's port) */
  readonly infos?: string[];
}

export interface Check {
  readonly name: string;
  /** runs only against the real host (skipped under --root) */
  readonly hostOnly?: boolean;
  run(ctx: InitContext): Promise<CheckResult>;
}

const ok = (): CheckResult => ({ warnings: [], errors: [] });
const err = (msg: string): CheckResult => ({ warnings: [], errors: [msg] });
const warn = (msg: string): CheckResult => ({ warnings: [msg], errors: [] });
const info = (msg: string): CheckResult => ({ warnings: [], errors: [], infos: [msg] });

/**
 * What a previous kubeboot run on this node set up, from its ledger (/etc/kubernetes/kubeboot/files.json): the
 * components whose static Pod manifest kubeboot wrote, and whether it wrote the kubelet's config.yaml. Running init
 * again with the same configuration must converge, so these components' manifests, ports and (for etcd) data
 * directory are not preflight errors but info lines saying that they are kubeboot's own.
 */
export interface Ownership {
  readonly components: ReadonlySet<string>;
  readonly kubelet: boolean;
}

export const NO_OWNERSHIP: Ownership = { components: new Set(), kubelet: false };

export async function kubebootOwnership(ctx: InitContext): Promise<Ownership> {
  const { readLedger } = await import('../../src/node/state.js');
  // a ledger that cannot be read stops the run here, before anything is written: every write records itself in it
  const files = (await readLedger(ctx.fx)).files;
  const components = new Set(STATIC_POD_COMPONENTS.filter((m) => files[manifestPath(ctx.spec, m)] !== undefined));
  return { components, kubelet: files[`${ctx.spec.paths.kubeletDir}/config.yaml`] !== undefined };
}

const OWNED = 'owned by kubeboot';

function pathLabel(prefix: string, path: string): string {
  return `${prefix}-${path.replace(/\//g, '-')}`;
}

/**
 * Who would be using a port if it is kubeboot's: the component (its binary's name) and its health endpoint. A busy
 * port counts as kubeboot's only when the ledger says kubeboot set the component up AND the port itself shows it: the
 * process listening on it is that component's binary, or the component's health endpoint answers. Anything else is
 * the error it would be on a fresh node.
 */
export interface PortOwner {
  /** how the message names it: "kube-apiserver", "the kubelet" */
  readonly name: string;
  /** the binary's name (argv[0]'s base name) */
  readonly binary: string;
  /** where the component answers when it runs (HTTPS is not verified, as kubeadm's checks) */
  readonly health?: { readonly url: string; readonly insecure: boolean } | undefined;
}

async function answersHealth(ctx: InitContext, health: PortOwner['health']): Promise<boolean> {
  if (!health) return false;
  try {
    const r = await ctx.fx.http({ url: health.url, insecure: health.insecure, timeoutMs: 2000 });
    return r.status === 200;
  } catch {
    return false;
  }
}

function portCheck(port: number, owner?: PortOwner): Check {
  return {
    name: `Port-${port}`,
    run: async (ctx) => {
      if (await ctx.fx.portFree(port)) return ok();
      const proc = await ctx.fx.listeningProcess(port).catch(() => undefined);
      const procName = proc?.command ? proc.command.slice(proc.command.lastIndexOf('/') + 1) : undefined;
      if (owner && (procName === owner.binary || (await answersHealth(ctx, owner.health)))) {
        return info(`Port ${port} is in use by ${owner.name}, ${OWNED}`);
      }
      return err(`Port ${port} is in use${proc ? ` (by ${procName || 'a process'}, pid ${proc.pid})` : ''}`);
    },
  };
}

/** The kubelet's serving port: KubeletConfiguration.port, else 10250. */
export function kubeletPort(kc: Readonly<Record<string, unknown>> | undefined): number {
  const p = kc?.port;
  return typeof p === 'number' && Number.isInteger(p) && p > 0 ? p : 10250;
}

/** The image tag of a manifest on disk (its first container's). */
async function manifestImageTag(ctx: InitContext, component: StaticPodComponent): Promise<string | undefined> {
  const text = (await ctx.fx.readFile(manifestPath(ctx.spec, component)))?.toString('utf8');
  const m = text === undefined ? null : /^\s*image:\s*["']?([^\s"']+)["']?\s*$/m.exec(text);
  const image = m?.[1];
  return image && image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : undefined;
}

/**
 * Refuses to go back to an older version than the manifest on disk runs: a re-run with an older kubernetesVersion (or
 * etcd imageTag) would replace a newer control plane with an older one, which Kubernetes does not support (etcd cannot
 * read data a newer etcd wrote).
 */
function downgradeCheck(name: string, component: 'kube-apiserver' | 'etcd'): Check {
  return {
    name,
    run: async (ctx) => {
      const [current, { compareVersions }] = await Promise.all([manifestImageTag(ctx, component), import('../../src/versions.js')]);
      const wanted = component === 'etcd' ? ctx.spec.etcd.local?.imageTag : ctx.spec.kubernetesVersion.replace(/\+/g, '_');
      if (current === undefined || wanted === undefined) return ok();
      const cmp = compareVersions(wanted, current);
      if (cmp === undefined || cmp >= 0) return ok();
      const what = component === 'etcd' ? `etcd from ${current} to ${wanted}` : `the control plane from Kubernetes ${current} to ${wanted}`;
      return err(
        `refusing to downgrade ${what}: ${manifestPath(ctx.spec, component)} runs ${current}; ${component === 'etcd' ? 'etcd cannot read data a newer etcd wrote' : 'Kubernetes does not support downgrades'}. Set ${component === 'etcd' ? 'etcd.local.imageTag' : 'kubernetesVersion'} to ${current} or newer`,
      );
    },
  };
}

/** kubeadm's order of the FileAvailable checks. */
const MANIFEST_CHECK_ORDER = [...CONTROL_PLANE_COMPONENTS, 'etcd'] as const;

/** The TCP ports each component's pod will serve and its health endpoint: the component table read from the command init renders. */
export type ServedPorts = Readonly<Partial<Record<StaticPodComponent, { readonly ports: readonly number[]; readonly health: PortOwner['health'] }>>>;

export async function servedPorts(ctx: InitContext): Promise<ServedPorts> {
  const [{ componentCommand, staticPodComponents }, { commandFlags, componentRow }] = await Promise.all([
    import('../../src/render/manifests.js'),
    import('../../src/components.js'),
  ]);
  return Object.fromEntries(
    staticPodComponents(ctx.spec).map((c) => {
      const flags = commandFlags(componentCommand(ctx.spec, c));
      const row = componentRow(c);
      return [c, { ports: row.servedPorts(flags), health: row.health(flags, ctx.spec.advertiseAddress) }];
    }),
  );
}

/** The kubelet's healthz from the configuration's KubeletConfiguration (kubelet defaults otherwise). */
function kubeletHealth(kc: Readonly<Record<string, unknown>> | undefined): PortOwner['health'] {
  const host = typeof kc?.healthzBindAddress === 'string' && kc.healthzBindAddress !== '' ? kc.healthzBindAddress : '127.0.0.1';
  const port = typeof kc?.healthzPort === 'number' ? kc.healthzPort : 10248;
  if (port === 0) return undefined;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`, insecure: false };
}

/** The ordered check list for `init` (reference §10, with the 1.33+ binary list). */
export function initChecks(ctx: InitContext, owned: Ownership = NO_OWNERSHIP, served: ServedPorts = {}): Check[] {
  const s = ctx.spec;
  const mine = (component: StaticPodComponent): PortOwner | undefined =>
    owned.components.has(component) ? { name: component, binary: component, health: served[component]?.health } : undefined;
  const checks: Check[] = [
    {
      name: 'NumCPU',
      hostOnly: true,
      run: async (c) => (c.host.cpus < 2 ? err(`the number of available CPUs ${c.host.cpus} is less than the required 2`) : ok()),
    },
    {
      name: 'Mem',
      hostOnly: true,
      run: async (c) =>
        c.host.memoryMB < 1700 ? err(`the system RAM (${c.host.memoryMB} MB) is less than the minimum 1700 MB`) : ok(),
    },
    // kubeadm's order: the API server, the scheduler, the controller manager
    ...(['kube-apiserver', 'kube-scheduler', 'kube-controller-manager'] as const).flatMap((c) => (served[c]?.ports ?? []).map((port) => portCheck(port, mine(c)))),
    ...MANIFEST_CHECK_ORDER.map((m): Check => {
      const path = manifestPath(s, m);
      return {
        name: pathLabel('FileAvailable', path),
        run: async (c) => {
          if (!(await c.fx.stat(path))) return ok();
          return owned.components.has(m) ? info(`${path} already exists, ${OWNED} (kubeboot wrote it)`) : err(`${path} already exists`);
        },
      };
    }),
    {
      name: 'Swap',
      hostOnly: true,
      run: async (c) =>
        c.host.swapOn
          ? warn(
              'swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap. Please refer to https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, or disable swap on the node',
            )
          : ok(),
    },
    ...s.version.requiredBinaries.map((b): Check => ({
      name: `FileExisting-${b}`,
      hostOnly: true,
      run: async (c) => ((await c.fx.which(b)) ? ok() : err(`${b} not found in system path`)),
    })),
    ...s.version.optionalBinaries.map((b): Check => ({
      name: `FileExisting-${b}`,
      hostOnly: true,
      run: async (c) => ((await c.fx.which(b)) ? ok() : warn(`${b} not found in system path`)),
    })),
    portCheck(kubeletPort(s.kubeletConfiguration), owned.kubelet ? { name: 'the kubelet', binary: 'kubelet', health: kubeletHealth(s.kubeletConfiguration) } : undefined),
  ];
  const families = new Set<number>();
  for (const cidr of [...s.networking.serviceSubnet.split(','), ...s.networking.podSubnet.split(',')]) {
    if (cidr.includes(':')) families.add(6);
    else if (cidr.includes('.')) families.add(4);
  }
  families.add(s.advertiseAddress.includes(':') ? 6 : 4);
  if (families.has(4)) {
    checks.push({
      name: pathLabel('FileContent', '/proc/sys/net/ipv4/ip_forward'),
      hostOnly: true,
      run: async (c) => (c.host.ipv4Forward === '1' ? ok() : err('/proc/sys/net/ipv4/ip_forward contents are not set to 1')),
    });
  }
  if (families.has(6)) {
    checks.push({
      name: pathLabel('FileContent', '/proc/sys/net/ipv6/conf/default/forwarding'),
      hostOnly: true,
      run: async (c) =>
        c.host.ipv6Forward === '1' ? ok() : err('/proc/sys/net/ipv6/conf/default/forwarding contents are not set to 1'),
    });
  }
  const local = s.etcd.local;
  if (local) {
    checks.push(...(served.etcd?.ports ?? []).map((p) => portCheck(p, mine('etcd'))), {
      name: pathLabel('DirAvailable', local.dataDir),
      run: async (c) => {
        let names: string[] | undefined;
        try {
          names = await c.fx.listDir(local.dataDir);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          return err(`unable to check if ${local.dataDir} is empty: ${code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
        }
        if (!names || names.length === 0) return ok();
        return owned.components.has('etcd')
          ? info(`${local.dataDir} is not empty: it holds the data of the etcd whose manifest kubeboot wrote, ${OWNED}`)
          : err(`${local.dataDir} is not empty`);
      },
    });
  }
  // kubeboot's own: init run again must not downgrade a running control plane (kubeadm refuses to downgrade etcd)
  checks.push(downgradeCheck('KubernetesVersionDowngrade', 'kube-apiserver'), ...(s.etcd.local ? [downgradeCheck('EtcdVersionDowngrade', 'etcd')] : []));
  checks.push({
    // kubeboot's own: two files in the static pod path that define one pod (an editor's `x.yaml~` beside `x.yaml`)
    // would stop the control-plane phase after the PKI was written; found here, before anything is
    name: 'StaticPodPathConflicts',
    run: async (c) => {
      const [{ checkStaticPodPath }, { readStaticPodPath }] = await Promise.all([import('../../src/render/hygiene.js'), import('../../src/node/manifests.js')]);
      const dir = s.paths.manifestsDir;
      const entries = await readStaticPodPath(c.fx, dir);
      // the pods kubeboot is about to write, by name (their contents do not matter here)
      const ours = MANIFEST_CHECK_ORDER.filter((m) => m !== 'etcd' || s.etcd.local).map((m) => ({
        path: manifestPath(s, m),
        content: `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${m}\n  namespace: kube-system\n`,
      }));
      const { conflicts } = checkStaticPodPath(dir, entries, ours, s.paths.tmpDir);
      return conflicts.length > 0 ? err(conflicts.join('; ')) : ok();
    },
  });
  if (s.podNetwork !== undefined) {
    // kubeboot's own: the one-node pod network's plugins and the runtime's CNI directory, checked before any write
    checks.push({
      name: 'PodNetwork',
      run: async (c) => {
        const { cniPaths, podNetworkProblems } = await import('../../src/node/cni.js');
        const problems = await podNetworkProblems(c, await cniPaths(c));
        return { warnings: [], errors: problems };
      },
    });
  }
  const ext = s.etcd.external;
  if (ext) {
    for (const f of [ext.caFile, ext.certFile, ext.keyFile].filter((x) => x !== '')) {
      checks.push({
        name: 'ExternalEtcdClientCertificates',
        run: async (c) => ((await c.fx.stat(f)) ? ok() : err(`${f} doesn't exist`)),
      });
    }
  }
  return checks;
}

export interface PreflightOutcome {
  readonly warnings: string[];
  readonly errors: string[];
  readonly infos: string[];
  /** the errors as data */
  readonly failed: { name: string; message: string }[];
}

export async function runChecks(ctx: InitContext, checks: readonly Check[]): Promise<PreflightOutcome> {
  const ignore = ctx.options.ignorePreflightErrors;
  const underRoot = ctx.options.root !== '';
  const warnings: string[] = [];
  const errors: string[] = [];
  const infos: string[] = [];
  const failed: { name: string; message: string }[] = [];
  // A check that cannot look (permission denied, …) is a failure of that check, not a crash of preflight.
  const safeRun = async (c: Check): Promise<CheckResult> => {
    try {
      return await c.run(ctx);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return err(`unable to run the check: ${code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
    }
  };
  const results = await Promise.all(
    checks.map(async (c) => (underRoot && c.hostOnly ? undefined : { c, r: await safeRun(c) })),
  );
  for (const item of results) {
    if (!item) continue;
    const { c, r } = item;
    const ignored = ignore.has('all') || ignore.has(c.name.toLowerCase());
    for (const i of r.infos ?? []) infos.push(`[INFO ${c.name}]: ${i}`);
    for (const w of [...r.warnings, ...(ignored ? r.errors : [])]) warnings.push(`[WARNING ${c.name}]: ${w}`);
    if (!ignored) {
      for (const e of r.errors) {
        errors.push(`[ERROR ${c.name}]: ${e}`);
        failed.push({ name: c.name, message: e });
      }
    }
  }
  return { warnings, errors, infos, failed };
}

export const preflight: Phase<InitContext> = {
  name: 'preflight',
  short: 'Run pre-flight checks',
  long: 'Run pre-flight checks for kubeboot init: ports, existing manifests, the etcd data directory, swap, required binaries and privileges. Each check can be ignored by name with --ignore-preflight-errors.',
  flags: ['config', 'ignore-preflight-errors', 'dry-run'],
  async run(ctx) {
    ctx.out.log('preflight', 'Running pre-flight checks');
    const privileged: Check[] = [
      {
        name: 'IsPrivilegedUser',
        run: async (c) => (c.host.uid === 0 ? ok() : err('user is not running as root')),
      },
    ];
    // kubeadm runs the root check alone and first; it is moot when nothing is written to the host.
    const needsRoot = ctx.options.root === '' && !ctx.options.dryRun;
    const none: PreflightOutcome = { warnings: [], errors: [], infos: [], failed: [] };
    const first = needsRoot ? await runChecks(ctx, privileged) : none;
    const rest = first.errors.length > 0 ? none : await runChecks(ctx, initChecks(ctx, await kubebootOwnership(ctx), await servedPorts(ctx)));
    const warnings = [...first.warnings, ...rest.warnings];
    const errors = [...first.errors, ...rest.errors];
    for (const i of rest.infos) ctx.out.log('preflight', i);
    for (const w of warnings) ctx.out.warn(w);
    if (errors.length > 0) {
      if (ctx.options.dryRun) {
        for (const e of errors) ctx.out.warn(`${e} (dry-run: not fatal)`);
      } else {
        throw new PreflightError('[preflight] Some fatal errors occurred', errors, {
          hint: "If you know what you are doing, you can make a check non-fatal with '--ignore-preflight-errors=...'",
          checks: [...first.failed, ...rest.failed],
        });
      }
    }
    ctx.out.log(
      'preflight',
      'Skipping image pull: kubeboot does not pull images; the kubelet pulls them when it starts the static pods',
    );
  },
};
