/**
 * The node's mount table as reset needs it: what is mounted under a directory (the kubelet's, /var/lib/kubelet), in
 * the order to unmount it, and the unmounting itself (`umount`, through the effects).
 *
 * kubeadm's reset (cmd/kubeadm/app/cmd/phases/reset/unmount_linux.go) reads /proc/mounts and unmounts every mount
 * point that starts with "<kubelet dir>/" — the trailing "/" keeps the directory's own mount, if it is one — in the
 * table's order. kubeboot takes the same set, but unmounts the deepest first (a mount with another inside it cannot
 * be unmounted before it), and for one path mounted twice, the later mount first.
 */
import type { Effects } from '../effects/types.js';

export const PROC_MOUNTS = '/proc/mounts';

export interface MountEntry {
  readonly source: string;
  readonly mountPoint: string;
  readonly fsType: string;
  /** its line in the table (later lines were mounted later) */
  readonly index: number;
}

/** /proc/mounts escapes space, tab, newline and backslash as \040, \011, \012 and \134. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/mounts (fstab format: source, mount point, type, options, dump, pass). */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 3 || f[1] === undefined || f[1] === '') continue;
    out.push({ source: unescapeMountField(f[0] ?? ''), mountPoint: unescapeMountField(f[1]), fsType: f[2] ?? '', index: out.length });
  }
  return out;
}

function depth(p: string): number {
  return p.split('/').filter((c) => c !== '').length;
}

/**
 * The mounts strictly under `dir` (never `dir` itself), deepest first; for equal depth the later-mounted first, so a
 * path mounted twice is unmounted top to bottom.
 */
export function mountsUnder(table: readonly MountEntry[], dir: string): MountEntry[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return table
    .filter((m) => m.mountPoint.startsWith(prefix) && m.mountPoint.length > prefix.length)
    .sort((a, b) => depth(b.mountPoint) - depth(a.mountPoint) || b.index - a.index);
}

/** The node's mount table (read through the effects); throws when it cannot be read. */
export async function readMounts(fx: Effects): Promise<MountEntry[]> {
  const raw = await fx.readFile(PROC_MOUNTS);
  if (raw === undefined) throw new Error(`${PROC_MOUNTS} does not exist (no /proc?)`);
  return parseMounts(raw.toString('utf8'));
}

/** `umount <mount point>`; undefined when it worked, else why not. Never throws. */
export async function unmount(fx: Effects, mountPoint: string, timeoutMs = 30_000): Promise<string | undefined> {
  try {
    const r = await fx.exec('umount', [mountPoint], { timeoutMs });
    if (r.exitCode === 0) return undefined;
    const line = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).find((l) => l !== '');
    return `'umount ${mountPoint}' failed (exit ${r.exitCode}${line ? `: ${line}` : ''})`;
  } catch (err) {
    return `'umount ${mountPoint}' did not run (${(err as Error).message})`;
  }
}
