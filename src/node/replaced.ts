/**
 * Files kubeboot replaces although it did not write them. kubeadm's kubelet-start overwrites
 * /var/lib/kubelet/config.yaml, instance-config.yaml and kubeadm-flags.env whatever is there, and with preflight
 * errors ignored its control-plane phase overwrites a manifest that was there; kubeboot writes them too, but a file
 * that is neither in kubeboot's ledger nor byte-identical to what it writes is somebody else's: a copy is kept
 * first, under
 *   /etc/kubernetes/tmp/kubeboot-replaced-<YYYY-MM-DD-HH-MM-SS>/<host path>
 * with the file's mode, the run says so, and `kubeboot reset` puts the copy back once it has removed its own file.
 */
import type { ClusterSpec } from '../config/spec.js';
import type { Effects } from '../effects/types.js';
import { readLedger } from './state.js';
import { freeTimestampedDir } from '../util/tmpdirs.js';
import type { Output } from '../workflow/events.js';
import { slot, type Slots } from '../workflow/slots.js';

export const REPLACED_DIR_PREFIX = 'kubeboot-replaced-';

/** One run's keeper: the copies of one run go to one directory, made when the first copy is needed. */
export class ReplacedFiles {
  private dir: string | undefined;

  constructor(
    private readonly fx: Effects,
    private readonly tmpDir: string,
    /** host paths kubeboot wrote before (its ledger) */
    private readonly known: ReadonlySet<string>,
  ) {}

  /**
   * Before `path` is written with `content`: when a file is there that kubeboot did not write and that differs,
   * copies it aside and returns the copy's host path; otherwise undefined.
   */
  async keep(path: string, content: string | Buffer): Promise<string | undefined> {
    if (this.known.has(path)) return undefined;
    const [current, st] = await Promise.all([this.fx.readFile(path), this.fx.stat(path)]);
    if (!current || !st || st.kind !== 'file') return undefined;
    if (current.equals(Buffer.isBuffer(content) ? content : Buffer.from(content))) return undefined;
    const dir = await this.directory();
    const copy = `${dir}${path}`;
    await this.fx.mkdir(copy.slice(0, copy.lastIndexOf('/')), 0o700);
    await this.fx.writeFileAtomic(copy, current, st.mode & 0o777);
    return copy;
  }

  private async directory(): Promise<string> {
    if (this.dir) return this.dir;
    const d = await freeTimestampedDir(this.fx, this.tmpDir, REPLACED_DIR_PREFIX, this.fx.now());
    await this.fx.mkdir(d, 0o700);
    this.dir = d;
    return d;
  }
}

const KEEPER = slot<ReplacedFiles>('replaced-files');

/**
 * For a phase about to write `path`: keeps a copy of a file there that kubeboot did not write (one directory per run;
 * the ledger as it was at the first call says what is kubeboot's) and warns, naming both.
 */
export async function keepBeforeReplacing(
  ctx: { readonly fx: Effects; readonly spec: ClusterSpec; readonly slots: Slots; readonly out: Output },
  tag: string,
  path: string,
  content: string | Buffer,
): Promise<void> {
  let keeper = ctx.slots.get(KEEPER);
  if (!keeper) {
    keeper = new ReplacedFiles(ctx.fx, ctx.spec.paths.tmpDir, new Set(Object.keys((await readLedger(ctx.fx)).files)));
    ctx.slots.set(KEEPER, keeper);
  }
  const copy = await keeper.keep(path, content);
  if (copy) ctx.out.warn(`[${tag}] "${path}" was not written by kubeboot: it is replaced, and the previous file is kept as "${copy}" ('kubeboot reset' puts it back)`);
}

export interface KeptCopy {
  /** where the file was (and goes back to) */
  readonly path: string;
  /** the copy under a kubeboot-replaced-* directory */
  readonly copy: string;
  readonly mode: number;
}

/** Every copy kept under tmpDir/kubeboot-replaced-*, oldest directory first. */
export async function keptCopies(fx: Effects, tmpDir: string): Promise<KeptCopy[]> {
  const dirs = ((await fx.listDir(tmpDir).catch(() => undefined)) ?? []).filter((n) => n.startsWith(REPLACED_DIR_PREFIX)).sort();
  const out: KeptCopy[] = [];
  const walk = async (root: string, rel: string): Promise<void> => {
    for (const n of ((await fx.listDir(`${root}${rel}`).catch(() => undefined)) ?? []).sort()) {
      const st = await fx.stat(`${root}${rel}/${n}`);
      if (st?.kind === 'dir') await walk(root, `${rel}/${n}`);
      else if (st?.kind === 'file') out.push({ path: `${rel}/${n}`, copy: `${root}${rel}/${n}`, mode: st.mode & 0o777 });
    }
  };
  for (const d of dirs) await walk(`${tmpDir}/${d}`, '');
  return out;
}
