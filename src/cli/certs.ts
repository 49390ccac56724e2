/** `kubeboot certs check-expiration` and `kubeboot certs renew <name>|all [--restart]`. */
import type { Command } from 'commander';
import { gatherHostFacts } from '../effects/host.js';
import { RealEffects } from '../effects/real.js';
import { ConfigError, OperationError } from '../errors.js';
import { checkExpiration, expirationJson, expirationTables, itemCertPath } from '../pki/expiration.js';
import { loadNodeSpec, type NodeSpec } from '../node/spec.js';
import { CONTROL_PLANE_COMPONENTS } from '../components.js';
import { andList, componentsFor, renewItems, RENEW_NAMES } from '../pki/items.js';
import { renewItem, type RenewOutcome } from '../pki/renew.js';
import { toYaml } from '../render/yaml.js';
import { recordFiles } from '../node/state.js';
import { Output } from '../workflow/events.js';
import { readConfigFile } from './init.js';
import { makeReporter, stderr, stdout } from './io.js';
import { flagValue, globalOptions, type GlobalOptions } from './options.js';
import { interruptSignal } from './signals.js';

interface CommonOpts {
  config?: string;
  certDir?: string;
}

async function lifecycleSpec(g: GlobalOptions, o: CommonOpts, fx: RealEffects): Promise<NodeSpec> {
  if (o.certDir !== undefined && !o.certDir.startsWith('/')) {
    throw new ConfigError(`--cert-dir: "${o.certDir}" is not an absolute path`, [], { hint: 'give the directory of the PKI, e.g. /etc/kubernetes/pki' });
  }
  const file = o.config !== undefined ? await readConfigFile(o.config) : undefined;
  const host = await gatherHostFacts(fx);
  void g;
  return loadNodeSpec(fx, host, { command: 'certs', file, flags: o.certDir !== undefined ? { 'cert-dir': o.certDir } : {}, unknownNode: 'defaults' });
}

function sourceText(ls: NodeSpec): string {
  if (ls.source === 'defaults') return 'kubeadm\'s default configuration (no --config, and no configuration recorded by kubeboot init on this node)';
  return ls.fromRecorded ? `what kubeboot init recorded in ${ls.source}` : `the configuration file ${ls.source}`;
}

export async function runCheckExpiration(cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as CommonOpts & { o?: string };
  const format = flagValue(cmd, 'o') as string | undefined;
  if (g.output === 'json' && format !== undefined && format !== 'json') {
    // --output json promises JSON lines and nothing else on stdout
    throw new ConfigError(`-o ${format} cannot be combined with --output json: use one of them`, [], {
      hint: "-o json|yaml prints kubeadm's CertificateExpirationInfo document; --output json prints kubeboot's JSON events",
    });
  }
  const fx = new RealEffects(g.root);
  const ls = await lifecycleSpec(g, o, fx);
  const report = await checkExpiration(fx, ls.spec, fx.now());
  const warnings = [...ls.warnings, ...report.warnings];
  if (format === 'json' || format === 'yaml') {
    // kubeadm's document on stdout, nothing else; warnings on stderr
    for (const w of warnings) stderr.write(`[check-expiration] WARNING: ${w}\n`);
    stdout.write(format === 'json' ? expirationJson(report.info) : toYaml(report.info));
  } else if (g.output === 'json') {
    const reporter = makeReporter(g);
    const out = new Output(reporter);
    out.log('check-expiration', `Reading the configuration from ${sourceText(ls)}`);
    for (const w of warnings) out.warn(`[check-expiration] WARNING: ${w}`);
    out.emit({ type: 'result', command: 'certs check-expiration', data: { ...report.info } });
    reporter.close?.();
  } else {
    // kubeadm prints where the configuration came from only when it did not come from --config
    if (o.config === undefined) stdout.write(`[check-expiration] Reading the configuration from ${sourceText(ls)}\n\n`);
    stdout.write(expirationTables(report.info));
    for (const w of warnings) stderr.write(`[check-expiration] WARNING: ${w}\n`);
  }
  // the whole report is out; a file that is there but unreadable is not "missing": the check failed (kubeadm stops
  // at the first such file with an error)
  if (report.unreadable.length > 0) {
    const n = report.unreadable.length;
    throw new OperationError(`${n} certificate file${n === 1 ? '' : 's'} could not be read, so ${n === 1 ? 'its' : 'their'} expiration is unknown`, {
      issues: report.unreadable,
      hint: 'restore the file from a backup, or move it aside and run the init phase that writes it (kubeboot init phase certs <name> or kubeboot init phase kubeconfig <name>, with the configuration the node was set up with)',
    });
  }
}

/** The message after a renewal: which components read the renewed files. */
export function restartAdvice(names: readonly string[], all: boolean): string[] {
  const components = componentsFor(names);
  if (names.length === 0) return [];
  if (components.length === 0) return [`No control-plane component reads the renewed file${names.length === 1 ? '' : 's'} (${names.join(', ')}); nothing needs a restart.`];
  // kubeadm's order in this message: kube-apiserver, kube-controller-manager, kube-scheduler and etcd
  const listed = [...CONTROL_PLANE_COMPONENTS, 'etcd'].filter((c) => (components as string[]).includes(c));
  const lines = [
    `${all ? 'Done renewing certificates. ' : ''}You must restart the ${andList(listed)}, so that ${listed.length === 1 ? 'it uses' : 'they can use'} the new certificates.`,
  ];
  return lines;
}

export async function runRenew(name: string, cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.opts() as CommonOpts & { restart?: boolean; waitTimeout?: string };
  const timeoutMs = flagValue(cmd, 'wait-timeout') as number | undefined;
  if (timeoutMs !== undefined && !o.restart) throw new ConfigError('--wait-timeout is only meaningful with --restart');
  const fx = new RealEffects(g.root);
  const ls = await lifecycleSpec(g, o, fx);
  const spec = ls.spec;
  const available = renewItems(spec);
  const all = name === 'all';
  const items = all ? available : available.filter((i) => i.name === name);
  if (items.length === 0) {
    throw new ConfigError(
      RENEW_NAMES.includes(name)
        ? `${name} cannot be renewed on this node: etcd is external in ${ls.source}, so kubeboot has no etcd certificates`
        : `unknown certificate "${name}": valid are ${RENEW_NAMES.join(', ')}, all`,
    );
  }
  const reporter = makeReporter(g);
  const out = new Output(reporter);
  for (const w of ls.warnings) out.warn(w);
  out.log('renew', `Reading the configuration from ${sourceText(ls)}`);
  const written: { path: string; mode: number; by: string }[] = [];
  const outcomes: RenewOutcome[] = [];
  const now = fx.now();
  // the new keys of the items that exist are generated in parallel
  const { KeyPool } = await import('../pki/keys.js');
  const keys = new KeyPool(spec.encryptionAlgorithm);
  const present = await Promise.all(items.map(async (i) => ((await fx.stat(itemCertPath(spec, i))) ? i.name : undefined)));
  keys.prestart(present.filter((n): n is string => n !== undefined));
  try {
    for (const item of items) {
      outcomes.push(await renewItem({ fx, spec, out, keys, onFile: (path, mode) => written.push({ path, mode, by: 'certs renew' }) }, item, now));
    }
  } finally {
    if (written.length > 0) await recordFiles(fx, written);
  }
  const renewed = outcomes.filter((x) => x.status === 'renewed').map((x) => x.name);
  const components = componentsFor(renewed);
  const advice = restartAdvice(renewed, all);
  let restarted: string[] = [];
  if (o.restart && components.length > 0) {
    out.log('', '');
    out.log('renew', `Restarting ${andList(components)} so that ${components.length === 1 ? 'it uses' : 'they use'} the new certificates`);
    const { restartComponents } = await import('../node/swap.js');
    const restartFiles: { path: string; mode: number; by: string }[] = [];
    try {
      const [{ kubeletHealthzUrl }, { commandContext }] = await Promise.all([import('../node/kubelet.js'), import('./regenerate.js')]);
      const results = await restartComponents({
        kubeletHealthz: await kubeletHealthzUrl(commandContext(spec, await gatherHostFacts(fx), fx, out, g)),
        fx,
        spec,
        out,
        components,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        signal: interruptSignal(),
        onFile: (path, mode, status) => {
          if (status === 'written') restartFiles.push({ path, mode, by: 'certs renew --restart' });
        },
      });
      restarted = results.map((r) => r.component);
      for (const r of results) out.log('renew', `${r.component} restarted: ${r.swap.confirmation}`);
    } finally {
      if (restartFiles.length > 0) await recordFiles(fx, restartFiles);
    }
  } else if (advice.length > 0) {
    out.log('', '');
    for (const line of advice) out.log('', line);
    if (components.length > 0) {
      out.log(
        '',
        `To do that now: kubeboot certs renew ${name} --restart (or ${components.map((c) => `kubeboot restart ${c}`).join('; ')})`,
      );
    }
  }
  out.emit({
    type: 'result',
    command: `certs renew ${name}`,
    data: {
      configuration: ls.source,
      renewed: outcomes.filter((x) => x.status === 'renewed').map((x) => ({ name: x.name, files: x.files, notAfter: x.notAfter })),
      missing: outcomes.filter((x) => x.status === 'missing').map((x) => x.name),
      external: outcomes.filter((x) => x.status === 'external').map((x) => x.name),
      restartNeeded: components,
      restarted,
    },
  });
  reporter.close?.();
}
