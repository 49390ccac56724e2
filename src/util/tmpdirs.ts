/** kubeboot's timestamped directories under /etc/kubernetes/tmp (manifest backups, copies of replaced files). */
import type { Effects } from '../effects/types.js';

/** kubeadm's backup directory time format, YYYY-MM-DD-HH-MM-SS (local time, as Go's time.Now().Format). */
export function backupTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/** A free directory `<tmpDir>/<prefix><time>` (a suffix -1, -2, … when that second is taken already); not created. */
export async function freeTimestampedDir(fx: Effects, tmpDir: string, prefix: string, now: Date): Promise<string> {
  const base = `${tmpDir}/${prefix}${backupTimestamp(now)}`;
  for (let i = 0; i < 100; i++) {
    const dir = i === 0 ? base : `${base}-${i}`;
    if (!(await fx.stat(dir))) return dir;
  }
  throw new Error(`internal: 100 directories ${base}-* exist already`);
}
