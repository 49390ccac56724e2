/** The commander tree. `init phase …` and the phase list in `init --help` come from phases/index.ts. */
import { Command, Option } from 'commander';
import type { InitContext } from '../context.js';
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

  program
    .command('version')
    .description('Print the version of kubeboot and the Kubernetes versions it supports')
    .action(async (_o, c: Command) => (await import('./config-cmd.js')).printVersion(c));
  return program;
}
