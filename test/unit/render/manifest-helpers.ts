/** Helpers for the static pod manifest tests: specs from small config objects, Pod validation. */
import { Pod } from 'kubernetes-models/v1';
import { loadConfig } from '../../../src/config/load.js';
import type { ClusterSpec } from '../../../src/config/spec.js';
import type { HostFacts } from '../../../src/effects/host.js';
import { parseYaml, toYamlDocuments } from '../../../src/render/yaml.js';
import type { VersionRow } from '../../../src/versions.js';
import { TEST_HOST } from '../../helpers/host.js';

type Obj = Record<string, unknown>;

/** A spec for node cp1 at 192.0.2.10, Kubernetes v1.36.5 unless the cluster object says otherwise. */
export async function makeSpec(cluster: Obj = {}, init: Obj = {}, host: HostFacts = TEST_HOST): Promise<ClusterSpec> {
  const initDoc = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'InitConfiguration',
    nodeRegistration: { name: 'cp1', criSocket: 'unix:///var/run/containerd/containerd.sock' },
    localAPIEndpoint: { advertiseAddress: '192.0.2.10' },
    ...init,
  };
  const clusterDoc = { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'ClusterConfiguration', kubernetesVersion: 'v1.36.5', ...cluster };
  const loaded = await loadConfig({ path: 'test.yaml', text: toYamlDocuments([initDoc, clusterDoc]) }, {}, host);
  return loaded.spec;
}

/** The same spec with some version-table fields replaced (for rows the table does not have yet). */
export function withVersion(spec: ClusterSpec, patch: Partial<VersionRow>): ClusterSpec {
  return { ...spec, version: { ...spec.version, ...patch } };
}

/** Parses a manifest and validates it against the core/v1 Pod schema (throws on a schema error). */
export function validatePod(content: string): Obj {
  const obj = parseYaml(content) as Obj;
  new Pod(obj as ConstructorParameters<typeof Pod>[0]).validate();
  return obj;
}

export function container(pod: Obj): Obj {
  return ((pod.spec as Obj).containers as Obj[])[0] as Obj;
}

export function command(pod: Obj): string[] {
  return container(pod).command as string[];
}
