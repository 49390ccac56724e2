/** The commander tree. `init phase …` and the phase list in `init --help` come from phases/index.ts. */
import { Command, Option } from 'commander';
import type { Phase } from '../workflow/phase.js';
import { COMPONENT_TABLE, STATIC_POD_COMPONENTS } from '../components.js';
import { INIT_FLAGS, flagDef, type FlagDef } from '../config/flags.js';
import { parseFlagOrConfigError } from './options.js';

export const KUBEBOOT_VERSION = '0.1.0';

function addFlag(cmd: Command, def: FlagDef, description?: string, required = false): void {
  const long = def.shortOnly ? `-${def.name}` : def.kind === 'negated' ? `--no-${def.name}` : `--${def.name}`;
  const value = def.optionalValue ? `[${def.placeholder ?? 'value'}]` : `<${def.placeholder ?? 'value'}>`;
  const flags = def.kind === 'boolean' || def.kind === 'negated' ? long : `${long} ${value}`;
  const opt = new Option(def.short ? `-${def.short}, ${flags}` : flags, description ?? def.description);
  if (def.defaultText) opt.default(undefined, def.defaultText);
  // a path is checked as commander reads it, whoever reads the option later: `--root --dry-run` never runs
  if (def.kind === 'path') opt.argParser((v: string) => parseFlagOrConfigError(def, v) as string);
  if (required) opt.makeOptionMandatory();
  cmd.addOption(opt);
}

/** Adds the flag table's options to a command; a command may word a flag's help for itself. */
function addFlags(cmd: Command, names: readonly string[], help: Readonly<Record<string, string>> = {}, required: readonly string[] = []): Command {
  for (const n of names) addFlag(cmd, flagDef(n), help[n], required.includes(n));
  return cmd;
}

export function phaseListText<C>(tree: readonly Phase<C>[], command = 'init'): string {
  const lines: string[] = [];
  const walk = (ps: readonly Phase<C>[], depth: number) => {
    for (const p of ps) {
      if (p.hidden) continue;
      const name = depth === 0 ? p.name : `${'  '.repeat(depth)}/${p.name}`;
      lines.push(`${name.padEnd(32)} ${p.short}`);
      if (p.phases) walk(p.phases, depth + 1);
    }
  };
  walk(tree, 0);
  return `\nThe "${command}" command executes the following phases:\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`;
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

function addPhaseCommands<C>(parent: Command, phases: readonly Phase<C>[], prefix: string, onRun: (cmd: Command, filter: string) => Promise<void>): void {
  for (const p of phases) {
    if (p.hidden) continue;
    const path = prefix ? `${prefix}/${p.name}` : p.name;
    const cmd = new Command(p.name).description(p.long ?? p.short);
    const flagNames = p.flags ?? [];
    const attachFlags = (c: Command) => {
      addFlags(c, flagNames);
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
  const { INIT_PHASES, RESET_PHASES } = await import('../../phases/index.js');
  const program = new Command('kubeboot')
    .description('A kubeadm-style control-plane bootstrapper: PKI, kubeconfigs, static pod manifests, kubelet start, and a wait that explains failures.')
    .version(KUBEBOOT_VERSION, '--version', 'print the kubeboot version');
  addFlag(program, flagDef('root'));
  program
    .addOption(new Option('--output <FORMAT>', 'output format').choices(['text', 'json']).default('text'))
    .option('-v, --verbose', 'say more: phase timings, every file, stack traces on errors')
    .showHelpAfterError(false)
    .enablePositionalOptions(false);

  const runInit = async (cmd: Command, filter: string | undefined) => {
    const { runInitCommand } = await import('./init.js');
    await runInitCommand(cmd, filter);
  };

  const init = new Command('init').description('Run this command in order to set up the Kubernetes control plane');
  addFlags(init, INIT_FLAGS);
  init.addHelpText('after', phaseListText(INIT_PHASES));
  init.action(async (_o, c: Command) => runInit(c, undefined));
  const phase = new Command('phase').description('Use this command to invoke single phase of the init workflow');
  addPhaseCommands(phase, INIT_PHASES, '', runInit);
  init.addCommand(phase);
  program.addCommand(init);

  const config = new Command('config').description('Print, validate and migrate kubeadm configuration files');
  const print = new Command('print').description('Print configuration');
  addFlags(print.command('init-defaults').description("Print default init configuration, that can be used for 'kubeboot init'"), ['kubernetes-version'], {
    'kubernetes-version': 'the Kubernetes version the defaults are for',
  }).action(async (_o, c: Command) => (await import('./config-cmd.js')).printInitDefaults(c));
  config.addCommand(print);
  addFlags(config.command('validate').description('Read a file containing the kubeadm configuration API and report any validation problems'), ['config'], {}, ['config']).action(
    async (_o, c: Command) => (await import('./config-cmd.js')).validateConfig(c),
  );
  addFlags(
    config
      .command('migrate')
      .description('Read an older version of the kubeadm configuration API types from a file, and output the similar config object for the newer version'),
    ['old-config', 'new-config'],
    {},
    ['old-config'],
  ).action(async (_o, c: Command) => (await import('./config-cmd.js')).migrateConfig(c));
  const images = new Command('images').description('Interact with container images used by kubeboot');
  addFlags(
    images
      .command('list')
      .description('Print a list of images kubeboot will use. The configuration file is used in case any images or image repositories are customized'),
    ['config', 'kubernetes-version', 'image-repository', 'feature-gates', 'o'],
    { o: "output format: text (one image per line), json or yaml (kubeadm's Images document, output.kubeadm.k8s.io/v1alpha3)" },
  ).action(async (_o, c: Command) => (await import('./config-cmd.js')).listImages(c));
  config.addCommand(images);
  program.addCommand(config);

  // regenerate / restart one component (src/cli/regenerate.ts, src/cli/restart.ts; loaded when they run)
  const componentsText = `${STATIC_POD_COMPONENTS.slice(0, -1).join(', ')} or ${STATIC_POD_COMPONENTS[STATIC_POD_COMPONENTS.length - 1]}`;
  const recorded = 'a kubeadm configuration file (default: the configuration init recorded in /etc/kubernetes/kubeboot/config.yaml)';
  const podWait = 'how long to wait for the new pod (default: timeouts.controlPlaneComponentHealthCheck, 4m0s)';
  addFlags(
    program
      .command('regenerate')
      .description('Re-render one static Pod manifest from the configuration (recorded at init, or --config) and apply it safely: diff, backup, atomic write, wait for a new Ready pod, rollback on failure')
      .argument('<component>', componentsText),
    ['config', 'extra-args', ...COMPONENT_TABLE.flatMap((r) => (r.extraArgsFlag ? [r.extraArgsFlag] : [])), 'dry-run', 'wait-timeout', 'rollback'],
    {
      config: recorded,
      ...Object.fromEntries(COMPONENT_TABLE.flatMap((r) => (r.extraArgsFlag ? [[r.extraArgsFlag, `kubeadm's name of --extra-args for ${r.name}`]] : []))),
      'dry-run': 'print the diff and what would be done; change nothing',
      'wait-timeout': podWait,
    },
  ).action(async (component: string, _o, c: Command) => (await import('./regenerate.js')).runRegenerate(component, c));
  addFlags(
    program
      .command('restart')
      .description('Make the kubelet recreate one static pod without a configuration change (e.g. after certificate renewal) and wait for its new container to be Ready')
      .argument('<component>', componentsText),
    ['config', 'dry-run', 'wait-timeout', 'rollback'],
    { config: recorded, 'dry-run': 'print what would be done; change nothing', 'wait-timeout': podWait },
  ).action(async (component: string, _o, c: Command) => (await import('./restart.js')).runRestart(component, c));

  // certificate lifecycle and reset (src/cli/certs.ts, src/cli/reset.ts; loaded when they run)
  const { RENEW_NAMES, renewItems } = await import('../pki/items.js');
  const renewLong = new Map(renewItems().map((i) => [i.name, i.longName]));
  const certs = new Command('certs').description('Commands related to handling kubernetes certificates');
  const certHelp = {
    config: "a kubeadm configuration file (default: the configuration init recorded in /etc/kubernetes/kubeboot/config.yaml, else kubeadm's defaults)",
    'cert-dir': 'the path where the certificates are stored (default: certificatesDir of the configuration, /etc/kubernetes/pki)',
    'wait-timeout': 'with --restart: how long to wait for each component (default: timeouts.controlPlaneComponentHealthCheck, 4m0s)',
  };
  addFlags(
    certs.command('check-expiration').description('Check certificates expiration for a Kubernetes cluster: the leaf and kubeconfig client certificates, then the CAs'),
    ['o', 'config', 'cert-dir'],
    certHelp,
  ).action(async (_o, c: Command) => (await import('./certs.js')).runCheckExpiration(c));
  const renew = new Command('renew').description('Renew certificates for a Kubernetes cluster (new key, same subject, SANs and usages; CAs and kubelet.conf are never renewed)');
  for (const n of [...RENEW_NAMES, 'all']) {
    addFlags(renew.command(n).description(n === 'all' ? 'Renew all available certificates' : `Renew the ${renewLong.get(n) ?? n}`), ['restart', 'wait-timeout', 'config', 'cert-dir'], certHelp).action(
      async (_o, c: Command) => (await import('./certs.js')).runRenew(n, c),
    );
  }
  certs.addCommand(renew);
  program.addCommand(certs);

  const runReset = async (c: Command, filter: string | undefined) => (await import('./reset.js')).runReset(c, filter);
  const reset = addFlags(
    program.command('reset').description("Performs a best effort revert of changes made to this host by 'kubeboot init': removes only the files kubeboot wrote (its ledger)"),
    ['force', 'dry-run', 'config', 'cert-dir', 'wait-timeout', 'skip-phases'],
    {
      'dry-run': 'print what would be removed; change nothing',
      config: "a kubeadm configuration file (default: the configuration init recorded, else kubeadm's defaults)",
      'cert-dir': 'the directory where the certificates are stored (where files kubeboot did not create are looked for)',
      'wait-timeout': 'how long to wait for the control-plane pods to stop (default: timeouts.controlPlaneComponentHealthCheck, 4m0s)',
    },
  );
  reset.addHelpText('after', phaseListText(RESET_PHASES, 'reset'));
  reset.action(async (_o, c: Command) => runReset(c, undefined));
  const resetPhase = new Command('phase').description('Use this command to invoke single phase of the reset workflow');
  addPhaseCommands(resetPhase, RESET_PHASES, '', runReset);
  reset.addCommand(resetPhase);

  // the admin kubeconfig and the node's health (src/cli/kubeconfig.ts, src/cli/status.ts; loaded when they run)
  addFlags(
    program
      .command('kubeconfig')
      .description(
        'Print the admin kubeconfig of this node (/etc/kubernetes/admin.conf), write it to a file (--file), or merge its cluster, user and context into your kubeconfig as kubeboot-<clusterName> (--merge)',
      ),
    ['file', 'merge', 'context'],
  ).action(async (_o, c: Command) => (await import('./kubeconfig.js')).runKubeconfig(c));
  addFlags(
    program
      .command('status')
      .description(
        'Check the control plane on this node: the kubelet, each component\'s health endpoint, the API server, the mirror pods, the node, CoreDNS, versions and the nearest certificate expiry. Exit 0 healthy, 1 not healthy, 2 not set up by kubeboot',
      ),
    ['o', 'config'],
    {
      o: 'output format: text (one line per check), json or yaml (the status document)',
      config: 'a kubeadm configuration file (default: the configuration init recorded in /etc/kubernetes/kubeboot/config.yaml; give it when init did not finish)',
    },
  ).action(async (_o, c: Command) => (await import('./status.js')).runStatus(c));

  program
    .command('version')
    .description('Print the version of kubeboot and the Kubernetes versions it supports')
    .action(async (_o, c: Command) => (await import('./config-cmd.js')).printVersion(c));
  return program;
}
