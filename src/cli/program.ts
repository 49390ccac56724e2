/** The commander tree. `init phase …` and the phase list in `init --help` come from phases/index.ts. */
import { Command, Option } from 'commander';
import type { InitContext } from '../node/context.js';
import type { Phase } from '../workflow/phase.js';
import { FLAGS, INIT_FLAGS, type FlagDef } from './flags.js';

export const KUBEBOOT_VERSION = '0.1.0';

function addFlag(cmd: Command, def: FlagDef): void {
  const long = `--${def.name}`;
  const flags = def.kind === 'boolean' ? long : `${long} <${def.placeholder ?? 'value'}>`;
  const opt = new Option(def.short ? `-${def.short}, ${flags}` : flags, def.description);
  if (def.defaultText) opt.default(undefined, def.defaultText);
  cmd.addOption(opt);
}

export function phaseListText(tree: readonly Phase<InitContext>[]): string {
  const lines: string[] = [];
  const walk = (ps: readonly Phase<InitContext>[], depth: number) => {
    for (const p of ps) {
      if (p.hidden) continue;
      const name = depth === 0 ? p.name : `${'  '.repeat(depth)}/${p.name}`;
      lines.push(`${name.padEnd(32)} ${p.short}`);
      if (p.phases) walk(p.phases, depth + 1);
    }
  };
  walk(tree, 0);
  return `\nThe "init" command executes the following phases:\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`;
}

/**
 * Commander lets an ancestor (`init`, which declares the same flags) consume options typed after
 * `init phase …`; hand the ones this phase command also declares back to it, so that cmd.opts() sees them.
 */
function reclaimPhaseOptions(cmd: Command): Command {
  for (let p = cmd.parent; p; p = p.parent) {
    for (const opt of p.options) {
      const key = opt.attributeName();
      if (p.getOptionValueSource(key) !== 'cli' || cmd.getOptionValueSource(key) === 'cli') continue;
      if (cmd.options.some((o) => o.attributeName() === key)) cmd.setOptionValueWithSource(key, p.getOptionValue(key), 'cli');
    }
  }
  return cmd;
}

function addPhaseCommands(parent: Command, phases: readonly Phase<InitContext>[], prefix: string, onRun: (cmd: Command, filter: string) => Promise<void>): void {
  for (const p of phases) {
    if (p.hidden) continue;
    const path = prefix ? `${prefix}/${p.name}` : p.name;
    const cmd = new Command(p.name).description(p.long ?? p.short);
    const flagNames = p.flags ?? [];
    const attachFlags = (c: Command) => {
      for (const f of flagNames) {
        const def = FLAGS[f];
        if (def) addFlag(c, def);
      }
    };
    if (p.phases && p.phases.length > 0) {
      const all = new Command('all').description(`Run all ${p.name} phases`);
      attachFlags(all);
      all.action(async (_o, c: Command) => onRun(reclaimPhaseOptions(c), path));
      cmd.addCommand(all);
      addPhaseCommands(cmd, p.phases, path, onRun);
    } else {
      attachFlags(cmd);
      cmd.action(async (_o, c: Command) => onRun(reclaimPhaseOptions(c), path));
    }
    parent.addCommand(cmd);
  }
}

export async function buildProgram(): Promise<Command> {
  const { INIT_PHASES } = await import('../../phases/index.js');
  const program = new Command('kubeboot')
    .description('A kubeadm-style control-plane bootstrapper: PKI, kubeconfigs, static pod manifests, kubelet start, and a wait that explains failures.')
    .version(KUBEBOOT_VERSION, '--version', 'print the kubeboot version')
    .option('--root <DIR>', 'write every file under DIR (paths inside files stay host paths; needs no root privileges)')
    .addOption(new Option('--output <FORMAT>', 'output format').choices(['text', 'json']).default('text'))
    .option('-v, --verbose', 'say more: phase timings, every file, stack traces on errors')
    .showHelpAfterError(false)
    .enablePositionalOptions(false);

  const runInit = async (cmd: Command, filter: string | undefined) => {
    const { runInitCommand } = await import('./init.js');
    await runInitCommand(cmd, filter);
  };

  const init = new Command('init').description('Run this command in order to set up the Kubernetes control plane');
  for (const f of INIT_FLAGS) addFlag(init, FLAGS[f] as FlagDef);
  init.addHelpText('after', phaseListText(INIT_PHASES));
  init.action(async (_o, c: Command) => runInit(c, undefined));
  const phase = new Command('phase').description('Use this command to invoke single phase of the init workflow');
  addPhaseCommands(phase, INIT_PHASES, '', runInit);
  init.addCommand(phase);
  program.addCommand(init);

  const config = new Command('config').description('Print, validate and migrate kubeadm configuration files');
  const print = new Command('print').description('Print configuration');
  print
    .command('init-defaults')
    .description('Print default init configuration, that can be used for \'kubeboot init\'')
    .option('--kubernetes-version <VERSION>', 'the Kubernetes version the defaults are for')
    .action(async (_o, c: Command) => (await import('./config-cmd.js')).printInitDefaults(c));
  config.addCommand(print);
  config
    .command('validate')
    .description('Read a file containing the kubeadm configuration API and report any validation problems')
    .requiredOption('--config <FILE>', 'path to a kubeadm configuration file')
    .action(async (_o, c: Command) => (await import('./config-cmd.js')).validateConfig(c));
  config
    .command('migrate')
    .description('Read an older version of the kubeadm configuration API types from a file, and output the similar config object for the newer version')
    .requiredOption('--old-config <FILE>', 'path to the kubeadm config file that is using an old API version')
    .option('--new-config <FILE>', 'path to the resulting equivalent kubeadm config file (default: standard output); never overwrites an existing file')
    .action(async (_o, c: Command) => (await import('./config-cmd.js')).migrateConfig(c));
  program.addCommand(config);

  // regenerate / restart one component (src/cli/regenerate.ts, src/cli/restart.ts; loaded when they run)
  const args = 'NAME=VALUE,…';
  const componentsText = 'etcd, kube-apiserver, kube-controller-manager or kube-scheduler';
  program
    .command('regenerate')
    .description('Re-render one static Pod manifest from the configuration (recorded at init, or --config) and apply it safely: diff, backup, atomic write, wait for a new Ready pod, rollback on failure')
    .argument('<component>', componentsText)
    .option('--config <FILE>', 'a kubeadm configuration file (default: the configuration init recorded in /etc/kubernetes/kubeboot/config.yaml)')
    .option('--extra-args <' + args + '>', 'flags of the component, merged over its extraArgs (same name replaces)')
    .option('--apiserver-extra-args <' + args + '>', 'kubeadm\'s name of --extra-args for kube-apiserver')
    .option('--controller-manager-extra-args <' + args + '>', 'kubeadm\'s name of --extra-args for kube-controller-manager')
    .option('--scheduler-extra-args <' + args + '>', 'kubeadm\'s name of --extra-args for kube-scheduler')
    .option('--dry-run', 'print the diff and what would be done; change nothing')
    .option('--wait-timeout <DURATION>', 'how long to wait for the new pod (default: timeouts.controlPlaneComponentHealthCheck, 4m0s)')
    .option('--no-rollback', 'keep the new manifest when its pod is not Ready in time')
    .action(async (component: string, _o, c: Command) => (await import('./regenerate.js')).runRegenerate(component, c));
  program
    .command('restart')
    .description('Make the kubelet recreate one static pod without a configuration change (e.g. after certificate renewal) and wait for its new container to be Ready')
    .argument('<component>', componentsText)
    .option('--config <FILE>', 'a kubeadm configuration file (default: the configuration init recorded in /etc/kubernetes/kubeboot/config.yaml)')
    .option('--dry-run', 'print what would be done; change nothing')
    .option('--wait-timeout <DURATION>', 'how long to wait for the new pod (default: timeouts.controlPlaneComponentHealthCheck, 4m0s)')
    .option('--no-rollback', 'keep the new manifest when its pod is not Ready in time')
    .action(async (component: string, _o, c: Command) => (await import('./restart.js')).runRestart(component, c));

  // certificate lifecycle and reset (src/cli/certs.ts, src/cli/reset.ts; loaded when they run)
  const { RENEW_NAMES, renewItems } = await import('../pki/items.js');
  const renewLong = new Map(renewItems().map((i) => [i.name, i.longName]));
  const certs = new Command('certs').description('Commands related to handling kubernetes certificates');
  const certFlags = (c: Command) =>
    c
      .option('--config <FILE>', 'a kubeadm configuration file (default: the configuration init recorded in /etc/kubernetes/kubeboot/config.yaml, else kubeadm\'s defaults)')
      .option('--cert-dir <DIR>', 'the path where the certificates are stored (default: certificatesDir of the configuration, /etc/kubernetes/pki)');
  certFlags(
    certs
      .command('check-expiration')
      .description('Check certificates expiration for a Kubernetes cluster: the leaf and kubeconfig client certificates, then the CAs')
      .option('-o <FORMAT>', 'output format: text (kubeadm\'s tables), json or yaml (a CertificateExpirationInfo, output.kubeadm.k8s.io/v1alpha3)'),
  ).action(async (_o, c: Command) => (await import('./certs.js')).runCheckExpiration(c));
  const renew = new Command('renew').description('Renew certificates for a Kubernetes cluster (new key, same subject, SANs and usages; CAs and kubelet.conf are never renewed)');
  for (const n of [...RENEW_NAMES, 'all']) {
    certFlags(
      renew
        .command(n)
        .description(n === 'all' ? 'Renew all available certificates' : `Renew the ${renewLong.get(n) ?? n}`)
        .option('--restart', 'then restart the components that use the renewed files (kubeboot restart\'s path) and wait for them')
        .option('--wait-timeout <DURATION>', 'with --restart: how long to wait for each component (default: timeouts.controlPlaneComponentHealthCheck, 4m0s)'),
    ).action(async (_o, c: Command) => (await import('./certs.js')).runRenew(n, c));
  }
  certs.addCommand(renew);
  program.addCommand(certs);

  program
    .command('reset')
    .description('Performs a best effort revert of changes made to this host by \'kubeboot init\': removes only the files kubeboot wrote (its ledger)')
    .option('-f, --force', 'reset the node without prompting for confirmation')
    .option('--dry-run', 'print what would be removed; change nothing')
    .option('--config <FILE>', 'a kubeadm configuration file (default: the configuration init recorded, else kubeadm\'s defaults)')
    .option('--cert-dir <DIR>', 'the directory where the certificates are stored (where files kubeboot did not create are looked for)')
    .option('--wait-timeout <DURATION>', 'how long to wait for the control-plane pods to stop (default: timeouts.controlPlaneComponentHealthCheck, 4m0s)')
    .action(async (_o, c: Command) => (await import('./reset.js')).runReset(c));

  program
    .command('version')
    .description('Print the version of kubeboot and the Kubernetes versions it supports')
    .action(async (_o, c: Command) => (await import('./config-cmd.js')).printVersion(c));
  return program;
}
