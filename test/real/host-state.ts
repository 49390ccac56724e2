/**
 * What a real-node test must leave as it found it on the host: the paths a node stands in for, the global kernel
 * knobs the kubelet would like to change, the host's mounts, hostname and cgroups. Taken before a node starts and
 * compared after it stops.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { nodeAlive } from './node.js';

/** host paths a node writes in its own namespace; the host's must not change */
export const GUARDED_PATHS = [
  '/etc/kubernetes',
  '/etc/cni',
  '/etc/default/kubelet',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/hostname',
  '/etc/machine-id',
  '/var/lib/kubelet',
  '/var/lib/etcd',
  '/var/lib/containerd',
  '/var/lib/cni',
  '/var/log/pods',
  '/var/log/containers',
  '/run/containerd',
  '/run/nri',
  '/opt/containerd',
  '/opt/nri',
  '/root/.kube',
] as const;

const SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
  'net/ipv4/ip_forward',
];

export interface HostSnapshot {
  readonly paths: Record<string, string>;
  readonly sysctls: Record<string, string>;
  readonly mounts: string[];
  readonly hostname: string;
  readonly cgroups: string[];
}

function describePath(p: string, depth = 0): string {
  if (!existsSync(p)) {
    try {
      lstatSync(p);
    } catch {
      return 'absent';
    }
  }
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return `file ${st.mode.toString(8)} sha256:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
  if (st.isDirectory()) {
    const names = readdirSync(p).sort();
    const inner = depth < 2 ? names.map((n) => `${n}(${describePath(path.join(p, n), depth + 1)})`) : names;
    return `dir ${st.mode.toString(8)} [${inner.join(', ')}]`;
  }
  return 'other';
}

export function hostSnapshot(): HostSnapshot {
  const paths: Record<string, string> = {};
  for (const p of GUARDED_PATHS) paths[p] = describePath(p);
  const sysctls: Record<string, string> = {};
  for (const s of SYSCTLS) sysctls[s] = readFileSync(`/proc/sys/${s}`, 'utf8').trim();
  // mount point, file system type and source of every mount this process sees (IDs left out)
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.split(' ');
      const sep = f.indexOf('-');
      return `${f[4]} ${f[sep + 1]} ${f[sep + 2]}`;
    })
    .sort();
  const cgroups: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try {
      for (const n of readdirSync(path.join('/sys/fs/cgroup', h))) {
        // another test's node that runs now (a test file run beside this one) is not this test's to account for
        if (n.startsWith('kubeboot-real-') && nodeAlive(`/tmp/${n}`)) continue;
        if (n.startsWith('kubeboot-real-') || n.startsWith('kubepods')) cgroups.push(`${h}/${n}`);
      }
    } catch {
      // not a directory
    }
  }
  return { paths, sysctls, mounts, hostname: hostname(), cgroups: cgroups.sort() };
}
