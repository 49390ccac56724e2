/** Turns commander's parsed options into typed values; every error names the flag. */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { ConfigFlags } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { allowedWithConfig, parseArgsFlag, parseGatesFlag } from './flags.js';

export interface GlobalOptions {
  root: string;
  output: 'text' | 'json';
  verbose: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { root?: string; output?: string; verbose?: boolean };
  const output = o.output ?? 'text';
  if (output !== 'text' && output !== 'json') {
    throw new ConfigError(`--output: invalid value "${output}": valid values are text, json`);
  }
  return { root: o.root === undefined ? '' : checkRoot(o.root), output, verbose: Boolean(o.verbose) };
}

/**
 * --root must name a directory (made when missing). An empty value would mean "the host" — `--root "$ROOT"` with
 * ROOT unset would then write into the real /etc/kubernetes — so it is refused. (A stat of the user's path, like
 * reading --config: cli/ may look at the paths the user typed.)
 */
function checkRoot(root: string): string {
  if (root.trim() === '') {
    throw new ConfigError('--root: empty path: give the directory to write under (made when missing), or leave --root out to work on this host', [], {
      hint: 'in a script, check that the variable you pass to --root is set',
    });
  }
  let st: import('node:fs').Stats | undefined;
  try {
    st = statSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`--root: cannot use "${root}": ${(err as Error).message}`);
  }
  if (st && !st.isDirectory()) throw new ConfigError(`--root: "${root}" is not a directory`);
  return root;
}

/** Names of the flags the user actually typed on this command. */
export function givenFlags(cmd: Command): string[] {
  const out: string[] = [];
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    if (cmd.getOptionValueSource(key) === 'cli') out.push(opt.long?.replace(/^--/, '') ?? key);
  }
  return out;
}

export function checkConfigMixing(cmd: Command): void {
  const given = givenFlags(cmd);
  if (!given.includes('config')) return;
  const bad = given.filter((n) => n !== 'config' && !allowedWithConfig(n));
  if (bad.length > 0) {
    throw new ConfigError(`can not mix '--config' with arguments [${bad.join(' ')}]`, [], {
      hint: 'put these values into the configuration file instead (see kubeboot config print init-defaults)',
    });
  }
}

function list(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const arr = Array.isArray(v) ? v : [v];
  return arr.flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

export function configFlags(cmd: Command): ConfigFlags {
  const o = cmd.opts() as Record<string, unknown>;
  const f: ConfigFlags = {};
  const s = (k: string) => (o[k] === undefined ? undefined : String(o[k]));
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  };
  if (o.apiserverAdvertiseAddress !== undefined) f.advertiseAddress = s('apiserverAdvertiseAddress');
  if (o.apiserverBindPort !== undefined) {
    const n = Number(o.apiserverBindPort);
    if (!Number.isInteger(n)) throw new ConfigError(`--apiserver-bind-port: "${String(o.apiserverBindPort)}" is not a port number (1-65535)`);
    f.bindPort = n;
  }
  if (o.nodeName !== undefined) f.nodeName = s('nodeName');
  if (o.criSocket !== undefined) f.criSocket = s('criSocket');
  if (o.certDir !== undefined) f.certDir = s('certDir');
  if (o.apiserverCertExtraSans !== undefined) f.certSANs = list(o.apiserverCertExtraSans);
  if (o.controlPlaneEndpoint !== undefined) f.controlPlaneEndpoint = s('controlPlaneEndpoint');
  if (o.kubernetesVersion !== undefined) f.kubernetesVersion = s('kubernetesVersion');
  if (o.podNetworkCidr !== undefined) f.podSubnet = s('podNetworkCidr');
  if (o.serviceCidr !== undefined) f.serviceSubnet = s('serviceCidr');
  if (o.serviceDnsDomain !== undefined) f.dnsDomain = s('serviceDnsDomain');
  if (o.imageRepository !== undefined) f.imageRepository = s('imageRepository');
  if (o.featureGates !== undefined) f.featureGates = wrap(() => parseGatesFlag(String(o.featureGates)));
  if (o.patches !== undefined) f.patches = s('patches');
  if (o.skipPhases !== undefined) f.skipPhases = list(o.skipPhases);
  if (o.ignorePreflightErrors !== undefined) f.ignorePreflightErrors = list(o.ignorePreflightErrors);
  if (o.apiserverExtraArgs !== undefined) f.apiserverExtraArgs = wrap(() => parseArgsFlag('apiserver-extra-args', String(o.apiserverExtraArgs)));
  if (o.controllerManagerExtraArgs !== undefined) {
    f.controllerManagerExtraArgs = wrap(() => parseArgsFlag('controller-manager-extra-args', String(o.controllerManagerExtraArgs)));
  }
  if (o.schedulerExtraArgs !== undefined) f.schedulerExtraArgs = wrap(() => parseArgsFlag('scheduler-extra-args', String(o.schedulerExtraArgs)));
  return f;
}

export function waitOptions(cmd: Command): { waitFor: string[]; waitTimeoutMs: number | undefined } {
  const o = cmd.opts() as { waitFor?: unknown; waitTimeout?: string };
  const waitFor = list(o.waitFor) ?? ['all'];
  const valid = ['all', 'kubelet', 'components', 'mirror-pods'];
  const bad = waitFor.filter((w) => !valid.includes(w));
  if (bad.length > 0) throw new ConfigError(`--wait-for: unknown target(s) ${bad.join(', ')}: valid are ${valid.join(', ')}`);
  let waitTimeoutMs: number | undefined;
  if (o.waitTimeout !== undefined) {
    waitTimeoutMs = parseDuration(o.waitTimeout);
    if (waitTimeoutMs === undefined || waitTimeoutMs <= 0) {
      throw new ConfigError(`--wait-timeout: "${o.waitTimeout}" is not a positive duration (e.g. 4m0s, 90s)`);
    }
  }
  return { waitFor, waitTimeoutMs };
}
