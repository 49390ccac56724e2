/**
 * Loads the static pod skeletons in templates/ (package data). This is the one module under render/ that
 * reads files with node:fs, and it only ever reads kubeboot's own templates directory: those files ship
 * with the package, they are not node state, so they are read from the package itself and never through
 * the Effects (which would map them under --root or a dry-run directory). Everything else in render/
 * stays pure and receives the parsed templates as data.
 *
 * From the compiled module (`<dist>/src/render/templates.js`) the directory is `../../../templates`, which
 * holds for `dist/` and for `dist-<name>/` builds alike.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseYaml } from './yaml.js';

export const STATIC_POD_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type StaticPodComponent = (typeof STATIC_POD_COMPONENTS)[number];

/** A parsed template: a plain Pod object with one container. */
export type PodTemplate = Readonly<Record<string, unknown>>;
export type StaticPodTemplates = Readonly<Record<StaticPodComponent, PodTemplate>>;

/** The templates directory of this package. */
export function templatesDir(): string {
  return fileURLToPath(new URL('../../../templates/', import.meta.url));
}

/** Checks the shape every renderer relies on; a broken template is a packaging bug, so the message says so. */
export function checkPodTemplate(component: string, value: unknown): PodTemplate {
  const fail = (why: string): never => {
    throw new Error(`internal: template for ${component} is broken (${why}); reinstall kubeboot`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('not a mapping');
  const pod = value as Record<string, unknown>;
  if (pod.apiVersion !== 'v1' || pod.kind !== 'Pod') fail('apiVersion v1 / kind Pod expected');
  const meta = pod.metadata as Record<string, unknown> | undefined;
  if (!meta || meta.name !== component) fail(`metadata.name must be ${component}`);
  const spec = pod.spec as Record<string, unknown> | undefined;
  const containers = spec?.containers;
  if (!Array.isArray(containers) || containers.length !== 1) fail('spec.containers must hold exactly one container');
  const c = (containers as unknown[])[0] as Record<string, unknown>;
  if (c === null || typeof c !== 'object' || c.name !== component) fail(`the container must be named ${component}`);
  for (const p of ['livenessProbe', 'startupProbe']) {
    const probe = c[p] as Record<string, unknown> | undefined;
    if (!probe || typeof probe.httpGet !== 'object' || probe.httpGet === null) fail(`${p}.httpGet missing`);
  }
  return pod;
}

/** Reads and parses the four static pod templates (in parallel). */
export async function loadStaticPodTemplates(dir: string = templatesDir()): Promise<StaticPodTemplates> {
  const entries = await Promise.all(
    STATIC_POD_COMPONENTS.map(async (component) => {
      const file = `${dir.replace(/\/$/, '')}/${component}.yaml`;
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new Error(`internal: cannot read template ${file}: ${(err as Error).message}; reinstall kubeboot`);
      }
      return [component, checkPodTemplate(component, parseYaml(text))] as const;
    }),
  );
  return Object.fromEntries(entries) as unknown as StaticPodTemplates;
}
