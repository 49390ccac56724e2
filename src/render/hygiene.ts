/**
 * Static pod path hygiene, pure. The kubelet reads every entry of its staticPodPath whose name does not
 * start with "." (pkg/kubelet/config/file.go globs `[^.]*`), skips directories, and tries to run each
 * regular file as a pod; pods are keyed by namespace/name (an empty namespace becomes "default"), so two
 * files defining the same pod make one of them win at random. So:
 *  - every non-dot regular file that is not one of kubeboot's four manifests (`kube-apiserver.yaml.bak`,
 *    `etcd.yaml~`, vim's `4913`, …) is a warning that names it;
 *  - two files that define the same pod are an error.
 * Backups never go into the static pod path (they go under /etc/kubernetes/tmp/).
 */
import * as path from 'node:path';
import { STATIC_POD_COMPONENTS, manifestFile } from '../components.js';
import { parseYamlDocuments } from './yaml.js';

export const KUBEBOOT_MANIFEST_NAMES: readonly string[] = STATIC_POD_COMPONENTS.map(manifestFile);

export interface StaticPodPathEntry {
  readonly name: string;
  readonly kind: 'file' | 'dir' | 'other';
  /** file contents (undefined when unreadable) */
  readonly content?: string | undefined;
}

export interface HygieneReport {
  /** one per stray file: [file name, message] */
  readonly warnings: readonly { readonly name: string; readonly message: string }[];
  /** pods defined by more than one file */
  readonly conflicts: readonly string[];
}

/** Whether the kubelet reads this entry as a pod manifest. */
export function kubeletReads(entry: Pick<StaticPodPathEntry, 'name' | 'kind'>): boolean {
  return !entry.name.startsWith('.') && entry.kind === 'file';
}

/** namespace/name of the pod a manifest defines, or undefined when it does not parse as one. */
export function podKey(content: string | undefined): string | undefined {
  if (content === undefined) return undefined;
  let doc: unknown;
  try {
    doc = parseYamlDocuments(content).find((d) => d !== null && d !== undefined);
  } catch {
    return undefined;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const o = doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (o.kind !== 'Pod' || typeof o.metadata?.name !== 'string' || o.metadata.name === '') return undefined;
  const ns = typeof o.metadata.namespace === 'string' && o.metadata.namespace !== '' ? o.metadata.namespace : 'default';
  return `${ns}/${o.metadata.name}`;
}

/**
 * Checks the static pod path as it will be after writing `rendered` (which replace the files of the same
 * name on disk). `dir` is the host path used in messages.
 */
export function checkStaticPodPath(
  dir: string,
  entries: readonly StaticPodPathEntry[],
  rendered: readonly { readonly path: string; readonly content: string }[],
  tmpDir = '/etc/kubernetes/tmp',
): HygieneReport {
  const renderedByName = new Map(rendered.map((r) => [path.posix.basename(r.path), r.content]));
  const files = new Map<string, string | undefined>();
  for (const e of entries) if (kubeletReads(e)) files.set(e.name, e.content);
  for (const [name, content] of renderedByName) files.set(name, content);

  const warnings: { name: string; message: string }[] = [];
  const owners = new Map<string, string[]>();
  for (const [name, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const key = podKey(content);
    if (key) owners.set(key, [...(owners.get(key) ?? []), name]);
    if (KUBEBOOT_MANIFEST_NAMES.includes(name)) continue;
    const full = path.posix.join(dir, name);
    warnings.push({
      name,
      message: key
        ? `"${full}" is not a kubeboot manifest, but the kubelet will run it as a pod (${key}): it runs every file in the static pod path whose name does not start with "."; move it out (backups belong in ${tmpDir}/)`
        : `"${full}" is not a kubeboot manifest, but the kubelet will try to run it as a pod: it reads every file in the static pod path whose name does not start with "." (this one does not parse as a Pod, so the kubelet logs an error for it on every rescan); move it out (backups belong in ${tmpDir}/)`,
    });
  }
  const conflicts: string[] = [];
  for (const [key, names] of owners) {
    if (names.length < 2) continue;
    conflicts.push(
      `${names.map((n) => `"${path.posix.join(dir, n)}"`).join(' and ')} ${names.length === 2 ? 'both' : 'all'} define the pod ${key}: the kubelet runs only one of them; move the extra file(s) out of the static pod path (to ${tmpDir}/ for example)`,
    );
  }
  return { warnings, conflicts };
}
