/**
 * The contexts commands and phases work in. Every command that acts on a node builds one NodeContext (spec, host
 * facts, effects, output, options, the run's slots, and a lazy API client); init's and reset's add their own options.
 * Built once, before the first phase; readonly afterwards (results a later phase needs go in named slots).
 */
import type { ClusterSpec } from '../config/spec.js';
import type { HostFacts } from '../effects/host.js';
import type { Effects } from '../effects/types.js';
import { OperationError } from '../errors.js';
import type { Output } from '../workflow/events.js';
import type { WorkflowContext } from '../workflow/run.js';
import { Slots, slot } from '../workflow/slots.js';
import { openApi, type ApiAccess } from './api.js';
import { adminKubeconfigPaths } from './names.js';

export { WRITTEN_FILES, writeFile, type FileRecord } from '../workflow/files.js';

export interface NodeOptions {
  readonly dryRun: boolean;
  /** --root DIR ('' for the host) */
  readonly root: string;
  readonly verbose: boolean;
  /** --wait-timeout in ms, overriding the config's timeouts */
  readonly waitTimeoutMs: number | undefined;
  /** aborted by the first Ctrl-C / SIGTERM: a wait (which writes nothing) ends at once */
  readonly signal?: AbortSignal;
}

export interface NodeContext<O extends NodeOptions = NodeOptions> extends WorkflowContext {
  readonly spec: ClusterSpec;
  readonly host: HostFacts;
  readonly fx: Effects;
  readonly out: Output;
  readonly options: O;
  readonly slots: Slots;
  /**
   * The API server through admin.conf (super-admin.conf only for the kubeadm:cluster-admins binding), opened on
   * first use. Throws NoAdminKubeconfigError when admin.conf does not exist.
   */
  client(): Promise<ApiAccess>;
}

export interface InitOptions extends NodeOptions {
  /** lowercased names; 'all' ignores every check */
  readonly ignorePreflightErrors: ReadonlySet<string>;
  /** --wait-for targets */
  readonly waitFor: readonly string[];
  /** --upload-certs */
  readonly uploadCerts?: boolean;
  /** --certificate-key (the configuration's certificateKey otherwise) */
  readonly certificateKey?: string;
  readonly skipTokenPrint?: boolean;
  readonly skipCertificateKeyPrint?: boolean;
  /** the bootstrap tokens the previous init on this node recorded (reused for tokens the configuration leaves empty) */
  readonly recordedTokens?: readonly string[];
}

export type InitContext = NodeContext<InitOptions>;

export interface ResetOptions extends NodeOptions {
  /** where the configuration came from ("defaults", the recorded config, --config's path) */
  readonly configSource: string;
}

export type ResetContext = NodeContext<ResetOptions>;

/** admin.conf is missing: the API server cannot be reached as kubeboot does. */
export class NoAdminKubeconfigError extends OperationError {}

/** Builds a context: the client is opened on the first call of client(), once. */
export function nodeContext<O extends NodeOptions>(parts: {
  spec: ClusterSpec;
  host: HostFacts;
  fx: Effects;
  out: Output;
  options: O;
  slots?: Slots;
}): NodeContext<O> {
  let api: Promise<ApiAccess> | undefined;
  return {
    spec: parts.spec,
    host: parts.host,
    fx: parts.fx,
    out: parts.out,
    options: parts.options,
    slots: parts.slots ?? new Slots(),
    client() {
      api ??= openApi(parts.fx, parts.spec).then((a) => {
        if (a) return a;
        const p = adminKubeconfigPaths(parts.spec).admin;
        throw new NoAdminKubeconfigError(`${p} does not exist`, {
          hint: 'kubeboot talks to the API server with admin.conf; run kubeboot init phase kubeconfig admin',
        });
      });
      // a failed open is not cached: the file may appear later in the run (a phase writes it)
      api.catch(() => (api = undefined));
      return api;
    },
  };
}

/** The user's patch directory as init read and checked it before the first phase (the phases use it, not a re-read). */
export const PRELOADED_PATCHES = slot<import('../render/patches.js').LoadedPatches>('preloaded-patches');
