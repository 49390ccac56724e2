/**
 * The configuration a command works with on a node: --config's file, else the configuration init recorded on this
 * node (/etc/kubernetes/kubeboot/config.yaml, under --root when given), else — for the commands that can do without
 * one (certs, reset) — kubeadm's defaults. Flags (--cert-dir, extra args) go over it as they do for init. The
 * recorded configuration is parsed, defaulted and validated like any file.
 */
import type { ConfigFlags } from '../config/load.js';
import type { ClusterSpec } from '../config/spec.js';
import type { HostFacts } from '../effects/host.js';
import type { Effects } from '../effects/types.js';
import { PreflightError } from '../errors.js';
import { LEDGER, RECORDED_CONFIG } from './state.js';

export interface NodeSpec {
  readonly spec: ClusterSpec;
  readonly warnings: readonly string[];
  /** where the configuration came from: a path, or "defaults" */
  readonly source: string;
  readonly fromRecorded: boolean;
}

/** Whether kubeboot set this node up: its recorded configuration and its ledger of written files. */
export async function nodeState(fx: Effects): Promise<{ recorded: boolean; ledger: boolean }> {
  const [r, l] = await Promise.all([fx.stat(RECORDED_CONFIG), fx.stat(LEDGER)]);
  return { recorded: r?.kind === 'file', ledger: l?.kind === 'file' };
}

export interface NodeSpecRequest {
  /** the command, for messages (regenerate, restart, …) */
  readonly command: string;
  /** --config's file, read by the CLI */
  readonly file?: { readonly path: string; readonly text: string } | undefined;
  readonly flags?: ConfigFlags;
  /**
   * 'refuse': a node kubeboot did not set up is refused (exit 2): without --config the recorded configuration must
   * exist; with --config, the recorded configuration or the ledger must (regenerate, restart).
   * 'defaults': without --config and without a recorded configuration, kubeadm's defaults (certs, reset).
   */
  readonly unknownNode: 'refuse' | 'defaults';
}

export async function loadNodeSpec(fx: Effects, host: HostFacts, req: NodeSpecRequest): Promise<NodeSpec> {
  const { command, file, flags = {} } = req;
  const state = await nodeState(fx);
  const where = fx.describe === 'host' ? '' : ` (under ${fx.realPath('/')})`;
  if (req.unknownNode === 'refuse') {
    if (!file && !state.recorded) {
      throw new PreflightError(
        `this node was not set up by kubeboot: ${RECORDED_CONFIG}${where} does not exist${state.ledger ? ` (the ledger ${LEDGER} does, so give the configuration with --config)` : ''}`,
        [],
        { hint: `run 'kubeboot init' first, or 'kubeboot ${command} --config FILE' with the configuration this node was set up with` },
      );
    }
    if (file && !state.recorded && !state.ledger) {
      throw new PreflightError(`this node was not set up by kubeboot: neither ${RECORDED_CONFIG} nor ${LEDGER} exists${where}`, [], {
        hint: `kubeboot ${command} changes a control plane that 'kubeboot init' set up; run init first`,
      });
    }
  }
  const { parseConfigText, buildSpec } = await import('../config/load.js');
  let source: { path: string; text: string } | undefined = file;
  if (!source && state.recorded) {
    const raw = await fx.readFile(RECORDED_CONFIG);
    if (raw) source = { path: RECORDED_CONFIG, text: raw.toString('utf8') };
  }
  if (!source) {
    if (req.unknownNode === 'refuse') throw new PreflightError(`this node was not set up by kubeboot: ${RECORDED_CONFIG}${where} does not exist`);
    // kubeadm's defaults: the host-detection warnings (CRI socket, …) do not matter to these commands
    const built = buildSpec(undefined, flags, host, 'flags');
    return { spec: built.spec, warnings: [], source: 'defaults', fromRecorded: false };
  }
  const parsed = await parseConfigText(source.text, source.path);
  const built = buildSpec(parsed, flags, host, source.path);
  return { spec: built.spec, warnings: [...parsed.warnings, ...built.warnings], source: source.path, fromRecorded: !file };
}
