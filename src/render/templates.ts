/**
 * The static pod templates as data: the component list, their types, and the shape check every renderer relies on.
 * Reading them from the package is src/package-files.ts's job; nothing here touches the disk.
 */
import type { StaticPodComponent } from '../components.js';

export { STATIC_POD_COMPONENTS, type StaticPodComponent } from '../components.js';

/** A parsed template: a plain Pod object with one container. */
export type PodTemplate = Readonly<Record<string, unknown>>;
export type StaticPodTemplates = Readonly<Record<StaticPodComponent, PodTemplate>>;

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
