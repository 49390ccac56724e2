/**
 * kubeboot's own package data: the templates in templates/. They ship with the package and are not node state, so
 * they are read from the package itself with node:fs, never through the Effects (which would map them under --root
 * or a dry-run directory). render/ stays pure and receives the parsed templates as data.
 *
 * From the compiled module (`<dist>/src/node/templates.js`) the directory is `../../../templates`, which holds for
 * `dist/` and for `dist-<name>/` builds alike.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { STATIC_POD_COMPONENTS, checkPodTemplate, type StaticPodTemplates } from '../render/templates.js';
import { parseYaml, parseYamlDocuments } from '../render/yaml.js';

/** The templates directory of this package. */
export function templatesDir(): string {
  return fileURLToPath(new URL('../../../templates/', import.meta.url));
}

async function readTemplate(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`internal: cannot read template ${file}: ${(err as Error).message}; reinstall kubeboot`);
  }
  return parseYaml(text);
}

/** Reads and parses the four static pod templates (in parallel). */
export async function loadStaticPodTemplates(dir: string = templatesDir()): Promise<StaticPodTemplates> {
  const entries = await Promise.all(
    STATIC_POD_COMPONENTS.map(async (component) => [component, checkPodTemplate(component, await readTemplate(`${dir.replace(/\/$/, '')}/${component}.yaml`))] as const),
  );
  return Object.fromEntries(entries) as unknown as StaticPodTemplates;
}

let kubeletCache: Record<string, unknown> | undefined;

/** templates/kubelet-config.yaml (read once per process; each call gets its own copy). */
export async function loadKubeletTemplate(): Promise<Record<string, unknown>> {
  if (!kubeletCache) {
    const file = `${templatesDir().replace(/\/$/, '')}/kubelet-config.yaml`;
    const parsed = await readTemplate(file);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`internal: template ${file} is not a YAML mapping; reinstall kubeboot`);
    kubeletCache = parsed as Record<string, unknown>;
  }
  return structuredClone(kubeletCache);
}

let addonCache: import('../render/addons.js').AddonTemplates | undefined;

/** templates/addons/ (the CoreDNS and kube-proxy objects), read once per process; each call gets its own copy. */
export async function loadAddonTemplates(dir: string = templatesDir()): Promise<import('../render/addons.js').AddonTemplates> {
  if (!addonCache) {
    const base = `${dir.replace(/\/$/, '')}/addons`;
    const docs = async (name: string): Promise<unknown[]> => {
      const file = `${base}/${name}`;
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new Error(`internal: cannot read template ${file}: ${(err as Error).message}; reinstall kubeboot`);
      }
      return parseYamlDocuments(text).filter((d) => d !== null && d !== undefined);
    };
    const [coredns, kubeProxy, kubeconfig] = await Promise.all([docs('coredns.yaml'), docs('kube-proxy.yaml'), docs('kube-proxy-kubeconfig.yaml')]);
    addonCache = { coredns, kubeProxy, kubeProxyKubeconfig: kubeconfig[0] };
  }
  return structuredClone(addonCache);
}
