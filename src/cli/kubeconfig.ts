/**
 * `kubeboot kubeconfig [--file PATH | --merge [PATH]] [--context NAME]`: the admin kubeconfig of this node
 * (/etc/kubernetes/admin.conf, under --root when given) printed, written to a file, or merged into the user's
 * kubeconfig. The work is src/node/kubeconfig-export.ts's; this file turns flags and the environment ($KUBECONFIG,
 * $HOME) into paths and prints the outcome.
 */
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { RealEffects } from '../effects/real.js';
import { ConfigError } from '../errors.js';
import {
  contextNameProblem,
  defaultContextName,
  exportedEntries,
  mergeKubeconfigFile,
  readAdminKubeconfig,
  renderEntries,
  writeKubeconfigFile,
} from '../node/kubeconfig-export.js';
import { Output } from '../workflow/events.js';
import { makeReporter, stdout } from './io.js';
import { flagValue, globalOptions } from './options.js';

/**
 * A path the user gave, absolute (relative to the current directory) and with symlinks followed when it exists, so
 * that a ~/.kube/config that links elsewhere stays a link and the file it points to is the one written. Like
 * --config, it is never mapped under --root.
 */
function userPath(p: string, flag: string): string {
  if (p.trim() === '') throw new ConfigError(`${flag}: empty path: give the path of a kubeconfig file`);
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

/** Where --merge writes without a PATH: the first file of $KUBECONFIG, else ~/.kube/config (kubectl's default). */
function defaultMergePath(): { path: string; from: string } {
  const list = (process.env.KUBECONFIG ?? '').split(delimiter).filter((s) => s !== '');
  if (list[0] !== undefined) return { path: list[0], from: list.length > 1 ? 'the first file of $KUBECONFIG' : '$KUBECONFIG' };
  return { path: join(process.env.HOME || homedir(), '.kube', 'config'), from: 'the default kubeconfig, as $KUBECONFIG is not set' };
}

const quoteList = (parts: readonly string[]) => (parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`);

export async function runKubeconfig(cmd: Command): Promise<void> {
  const g = globalOptions(cmd);
  const file = flagValue(cmd, 'file') as string | undefined;
  const merge = flagValue(cmd, 'merge') as string | true | undefined;
  const contextFlag = flagValue(cmd, 'context') as string | undefined;
  if (file !== undefined && merge !== undefined) {
    throw new ConfigError('--file and --merge cannot be given together: --file writes a kubeconfig of its own, --merge adds to an existing one');
  }
  if (contextFlag !== undefined) {
    const problem = contextNameProblem(contextFlag);
    if (problem) throw new ConfigError(`--context: "${contextFlag}" cannot name a context: ${problem}`, [], { hint: 'for example --context kubeboot-ci' });
  }
  const target =
    file !== undefined
      ? { path: userPath(file, '--file'), from: '--file' }
      : merge === true
        ? (() => {
            const d = defaultMergePath();
            return { path: userPath(d.path, '--merge'), from: d.from };
          })()
        : merge !== undefined
          ? { path: userPath(merge, '--merge'), from: '--merge' }
          : undefined;

  const node = new RealEffects(g.root);
  const admin = await readAdminKubeconfig(node);
  const name = contextFlag ?? defaultContextName(admin);
  const server = admin.view.server;

  if (merge === undefined) {
    // print or --file: admin.conf as it is, or (with --context) its entries renamed, in a kubeconfig of their own
    const text = contextFlag === undefined ? admin.text : renderEntries(await exportedEntries(node, admin, name));
    const context = contextFlag ?? admin.view.currentContext;
    if (file === undefined || target === undefined) {
      if (g.output === 'json') {
        makeReporter(g).emit({ type: 'result', command: 'kubeconfig', data: { action: 'print', source: admin.path, server, context, kubeconfig: text } });
      } else stdout.write(text);
      return;
    }
    const w = await writeKubeconfigFile(new RealEffects(''), target.path, text);
    const reporter = makeReporter(g);
    const out = new Output(reporter);
    out.log(
      'kubeconfig',
      w.status === 'unchanged'
        ? `"${w.path}" already holds this kubeconfig; left as it is (mode 0600)`
        : `Wrote the admin kubeconfig of ${admin.path} to "${w.path}" (mode 0600)`,
    );
    out.log('kubeconfig', `To use it: kubectl --kubeconfig ${w.path} get nodes`);
    out.emit({ type: 'result', command: 'kubeconfig', data: { action: 'file', source: admin.path, server, context, path: w.path, status: w.status, mode: '0600' } });
    reporter.close?.();
    return;
  }

  if (!target) throw new Error('internal: --merge without a target');
  const entries = await exportedEntries(node, admin, name);
  const r = await mergeKubeconfigFile(new RealEffects(''), target.path, entries, { uid: process.getuid?.() });
  const reporter = makeReporter(g);
  const out = new Output(reporter);
  for (const w of r.warnings) out.warn(w);
  const mode = `0${r.mode.toString(8)}`;
  if (r.status === 'unchanged') {
    out.log('kubeconfig', `"${r.path}" (${target.from}) already holds the cluster, user and context "${name}" of ${admin.path}, current; nothing changed`);
  } else {
    out.log('kubeconfig', `Merged the cluster, user and context of ${admin.path} as "${name}" into "${r.path}" (${target.from})${r.created ? `, a new file (mode ${mode})` : ''}`);
    if (r.replaced.length > 0) {
      out.log('kubeconfig', `Replaced the ${quoteList(r.replaced)} named "${name}" that were there: that name is kubeboot's (an earlier 'kubeboot kubeconfig --merge' wrote them); entries of other names are as they were`);
    }
    if (r.previousContext !== name) out.log('kubeconfig', `current-context is now "${name}"${r.previousContext ? ` (it was "${r.previousContext}")` : ''}`);
  }
  const usesDefault = merge === true && !process.env.KUBECONFIG;
  out.log('kubeconfig', `To use it: kubectl ${usesDefault ? '' : `--kubeconfig ${r.path} `}get nodes`);
  out.emit({
    type: 'result',
    command: 'kubeconfig',
    data: {
      action: 'merge',
      source: admin.path,
      server,
      context: name,
      path: r.path,
      status: r.created ? 'created' : r.status,
      mode,
      added: r.added,
      replaced: r.replaced,
      previousContext: r.previousContext === '' ? null : r.previousContext,
    },
  });
  reporter.close?.();
}
