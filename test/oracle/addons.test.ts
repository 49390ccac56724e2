/**
 * kubeadm v1.36.5 as the oracle for the addon phase and `config images list`. For each configuration, kubeadm runs
 * `init --dry-run` in its private mount namespace (kubeadm-ns.sh; its dry-run client prints every object it would
 * create, with no API server; the addon phase's are compared) and `config images list` (text, -o json, -o yaml);
 * kubeboot runs `init phase addon all` with
 * --dry-run against an address where no API server answers (its effects twin then reads "not found", as kubeadm's
 * dry-run client does) and prints the objects it would create, and the same `config images list`. Compared:
 *   - the objects kubeadm creates and their order, field by field (a difference names the object and the path);
 *   - the image lists byte for byte.
 * What kubeadm prints that is not part of what it sends the API server's stored object is set aside, each with its
 * reason (EXPLAINED); anything else fails the configuration's test with every difference listed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseYaml } from '../../src/render/yaml.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { runInNamespace } from './namespace.js';
import { K8S_VERSION, kubeadmPath, requireOracle } from './tier.js';

type Obj = Record<string, unknown>;

interface AddonCase {
  readonly name: string;
  readonly about: string;
  readonly yaml: string;
  /** environment of both tools (kubeadm passes *_proxy variables on to kube-proxy) */
  readonly env?: Record<string, string>;
  /** patch files by name, in the directory patches.directory names (PATCHES in the yaml) */
  readonly patches?: Record<string, string>;
  /** what kubeadm's objects must show (so that agreeing with kubeadm is not agreeing on nothing) */
  readonly check?: (objects: readonly Obj[]) => void;
}

const init = (address: string, extra = '') => `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: "${address}"
nodeRegistration:
  name: cp1
  criSocket: unix:///run/containerd/containerd.sock
${extra}---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${K8S_VERSION}
`;

const CASES: readonly AddonCase[] = [
  {
    name: 'defaults',
    about: 'kubeadm defaults, a pod subnet',
    yaml: `${init('192.0.2.10')}networking:\n  podSubnet: 10.244.0.0/16\n`,
    check: (objects) => assert.equal(objects.length, 12),
  },
  { name: 'no-pod-subnet', about: 'no pod subnet: no clusterCIDR', yaml: init('192.0.2.10') },
  {
    name: 'ipv6',
    about: 'IPv6 address, service and pod subnets: kube-dns on the IPv6 10th address, kube-proxy binding ::',
    yaml: `${init('2001:db8::10')}networking:\n  serviceSubnet: 2001:db8:1::/112\n  podSubnet: 2001:db8:2::/56\n`,
  },
  {
    name: 'dual-stack',
    about: 'IPv6 first in dual-stack subnets',
    yaml: `${init('192.0.2.10')}networking:\n  serviceSubnet: 2001:db8:1::/112,198.51.100.0/24\n  podSubnet: 2001:db8:2::/56,10.244.0.0/16\n`,
  },
  {
    name: 'custom',
    about: 'controlPlaneEndpoint (IPv6 with port), DNS domain, image repositories, CoreDNS tag, bind port',
    yaml: `${init('192.0.2.10').replace('  advertiseAddress: "192.0.2.10"\n', '  advertiseAddress: "192.0.2.10"\n  bindPort: 8443\n')}controlPlaneEndpoint: "[2001:db8::1]:7443"
imageRepository: mirror.example.com/k8s
networking:
  dnsDomain: corp.example.com
  serviceSubnet: 198.51.100.0/24
dns:
  imageRepository: registry.k8s.io
  imageTag: v1.14.1
`,
  },
  {
    name: 'kube-proxy-config',
    about: 'a KubeProxyConfiguration document (durations, quantities, feature gates, an unknown field), *_proxy variables',
    env: { HTTPS_PROXY: 'http://proxy.example.com:3128', no_proxy: 'localhost,10.0.0.0/8' },
    yaml: `${init('192.0.2.10')}networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
bindAddress: "::"
ipvs:
  syncPeriod: 1m
  minSyncPeriod: 1.5s
  strictARP: true
  excludeCIDRs: []
conntrack:
  maxPerCore: 0
  tcpCloseWaitTimeout: 90m
featureGates:
  ZFeature: true
  AFeature: false
unknownField: x
clientConnection:
  qps: 0.1
  burst: 20
logging:
  flushFrequency: 5s
  verbosity: 3
  options:
    json:
      infoBufferSize: 1024Ki
  vmodule:
  - filePattern: proxier*
    verbosity: 4
nodePortAddresses: [primary]
oomScoreAdj: -999
`,
  },
  {
    name: 'disabled',
    check: (objects) => assert.deepEqual(objects, []),
    about: 'dns.disabled and proxy.disabled, external etcd: no addon objects, fewer images',
    yaml: `${init('192.0.2.10')}dns:
  disabled: true
proxy:
  disabled: true
etcd:
  external:
    endpoints: ["https://192.0.2.20:2379"]
    caFile: /etc/etcd/ca.crt
    certFile: /etc/etcd/client.crt
    keyFile: /etc/etcd/client.key
`,
  },
  {
    name: 'patches',
    about: "patches of CoreDNS's Deployment (strategic: a container merged by name, tolerations replaced; json); kube-proxy's DaemonSet is no 1.36 target",
    yaml: init('192.0.2.10', 'patches:\n  directory: PATCHES\n'),
    patches: {
      'corednsdeployment.yaml': `spec:
  template:
    spec:
      containers:
      - name: coredns
        resources:
          requests:
            cpu: 200m
      tolerations:
      - operator: Exists
`,
      'corednsdeployment1+json.json': '[{"op": "replace", "path": "/spec/replicas", "value": 3}]\n',
      'kubeproxydaemonset.yaml': 'metadata:\n  labels:\n    patched: "true"\n',
    },
    check(objects) {
      const dep = objects.find((o) => o.kind === 'Deployment') as { spec: { replicas: number; template: { spec: { tolerations: unknown[]; containers: { resources: unknown }[] } } } };
      assert.equal(dep.spec.replicas, 3);
      assert.deepEqual(dep.spec.template.spec.tolerations, [{ operator: 'Exists' }]);
      assert.deepEqual(dep.spec.template.spec.containers[0]?.resources, { limits: { memory: '170Mi' }, requests: { cpu: '200m', memory: '70Mi' } });
      const ds = objects.find((o) => o.kind === 'DaemonSet') as { metadata: { labels: Record<string, string> } };
      assert.deepEqual(ds.metadata.labels, { 'k8s-app': 'kube-proxy' }, 'kubeadm 1.36 does not patch the DaemonSet');
    },
  },
  { name: 'skip-coredns', about: "skipping addon/coredns (kubeadm's manageSkippedAddons disables it)", yaml: `${init('192.0.2.10', 'skipPhases:\n- addon/coredns\n')}` },
];

/**
 * What kubeadm's dry run prints that is not what the API server stores from it, set aside with the reason:
 * kubeadm prints its Go objects, whose zero-valued status structs (Deployment, DaemonSet, Service) it sends too; the
 * API server ignores status on create. Its Service carries resourceVersion "0" so that its create-else-update
 * fallback can update without reading; kubeboot reads the object and updates with the resourceVersion it read.
 */
const EXPLAINED: readonly { readonly path: RegExp; readonly why: string }[] = [
  { path: /^(Deployment|DaemonSet|Service) [^ ]+: status$/, why: "kubeadm's Go structs print an empty status; the API server ignores status on create" },
  { path: /^Service kube-system\/kube-dns: metadata\.resourceVersion$/, why: 'kubeadm\'s "0" (an unconditional update when the Service exists); kubeboot updates with the resourceVersion it read' },
];

/** The objects of the addon phase (kubeadm's whole init creates others too). */
const ADDON_OBJECTS = new Set([
  'ConfigMap kube-system/coredns',
  'ClusterRole system:coredns',
  'ClusterRoleBinding system:coredns',
  'ServiceAccount kube-system/coredns',
  'Deployment kube-system/coredns',
  'Service kube-system/kube-dns',
  'ConfigMap kube-system/kube-proxy',
  'DaemonSet kube-system/kube-proxy',
  'ServiceAccount kube-system/kube-proxy',
  'ClusterRoleBinding kubeadm:node-proxier',
  'Role kube-system/kube-proxy',
  'RoleBinding kube-system/kube-proxy',
]);

/** kubeadm's dry-run output: the objects it would CREATE, in order. */
function kubeadmObjects(stdout: string): Obj[] {
  const out: Obj[] = [];
  // each object is followed by an empty line (the addons' YAML has none inside)
  const re = /^\[dryrun\] Would perform action CREATE on resource "[^"]+" in API group "[^"]+"\n\[dryrun\] Attached object:\n([\s\S]*?)\n\n/gm;
  for (const m of stdout.matchAll(re)) out.push(parseYaml(m[1] as string) as Obj);
  return out;
}

/** kubeboot's dry-run output: the objects it would create, "[dryrun] Would send: POST URL with object:" then the object, each line after a tab. */
function kubebootObjects(stdout: string): Obj[] {
  const out: Obj[] = [];
  const re = /^\[dryrun\] Would send: POST \S+ with object:\n((?:\t[^\n]*\n?)+)/gm;
  for (const m of stdout.matchAll(re)) out.push(parseYaml((m[1] as string).replace(/^\t/gm, '')) as Obj);
  return out;
}

const label = (o: Obj) => {
  const md = o.metadata as Obj;
  return `${String(o.kind)} ${md.namespace ? `${String(md.namespace)}/` : ''}${String(md.name)}`;
};

/** Every path where two values differ (objects by key, lists by index). */
function differences(a: unknown, b: unknown, at: string, out: string[]): void {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) out.push(`${at}: ${a.length} items in kubeadm's, ${b.length} in kubeboot's`);
      for (let i = 0; i < Math.min(a.length, b.length); i++) differences(a[i], b[i], `${at}[${i}]`, out);
      return;
    }
    const keys = new Set([...Object.keys(a as Obj), ...Object.keys(b as Obj)]);
    for (const k of [...keys].sort()) differences((a as Obj)[k], (b as Obj)[k], at ? `${at}.${k}` : k, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${at}: kubeadm ${JSON.stringify(a)}, kubeboot ${JSON.stringify(b)}`);
}

function compareObjects(kubeadm: readonly Obj[], kubeboot: readonly Obj[]): { unexplained: string[]; explained: string[] } {
  const unexplained: string[] = [];
  const explained: string[] = [];
  const order = (xs: readonly Obj[]) => xs.map(label);
  if (JSON.stringify(order(kubeadm)) !== JSON.stringify(order(kubeboot))) {
    unexplained.push(`objects and order: kubeadm [${order(kubeadm).join(', ')}], kubeboot [${order(kubeboot).join(', ')}]`);
  }
  for (const k of kubeadm) {
    const b = kubeboot.find((x) => label(x) === label(k));
    if (!b) continue;
    const diffs: string[] = [];
    differences(k, b, '', diffs);
    for (const d of diffs) {
      const where = `${label(k)}: ${d.split(':')[0]}`;
      const hit = EXPLAINED.find((e) => e.path.test(where));
      (hit ? explained : unexplained).push(`${label(k)}: ${d}${hit ? ` (${hit.why})` : ''}`);
    }
  }
  return { unexplained, explained };
}

test('the addon phase and config images list against kubeadm v1.36.5', async (t) => {
  if (!requireOracle(t)) return;
  const kubeadm = kubeadmPath();
  const work = tempDir(t);
  // KUBEBOOT_ORACLE_ONLY=name,… runs only those cases (as in oracle.test.ts)
  const only = process.env.KUBEBOOT_ORACLE_ONLY?.split(',').filter(Boolean);
  for (const c of CASES.filter((x) => !only || only.includes(x.name))) {
    await t.test(`${c.name}: ${c.about}`, async () => {
      const dir = path.join(work, c.name);
      mkdirSync(dir, { recursive: true });
      const cfg = path.join(dir, 'config.yaml');
      const patches = path.join(dir, 'patches');
      mkdirSync(patches);
      for (const [name, text] of Object.entries(c.patches ?? {})) writeFileSync(path.join(patches, name), text);
      writeFileSync(cfg, c.yaml.replace('PATCHES', patches));
      const env = Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`);
      // kubeadm's whole init as a dry run: `kubeadm init phase addon …` would not do, because kubeadm's runner picks
      // the phases of a phase command before it reads the configuration (dns.disabled, proxy.disabled and skipPhases
      // do not skip them there); kubeboot honours them in both
      const ka = await runInNamespace(path.join(dir, 'kubeadm'), [
        ['env', ...env, kubeadm, 'init', '--config', cfg, '--dry-run', '--ignore-preflight-errors=all'],
        [kubeadm, 'config', 'images', 'list', '--config', cfg],
        [kubeadm, 'config', 'images', 'list', '--config', cfg, '-o', 'json'],
        [kubeadm, 'config', 'images', 'list', '--config', cfg, '-o', 'yaml'],
      ]);
      for (const s of ka.steps) assert.equal(s.code, 0, `kubeadm ${s.argv.slice(1).join(' ')}: ${s.stderr}`);

      const root = path.join(dir, 'kubeboot-root');
      const kb = async (args: readonly string[]) => {
        const r = await runCli(args, { env: cleanEnv(c.env ?? {}), timeoutMs: 120_000 });
        assert.equal(r.code, 0, `kubeboot ${args.join(' ')}: ${r.stderr}`);
        return r;
      };
      await kb(['init', 'phase', 'certs', 'all', '--root', root, '--config', cfg]);
      await kb(['init', 'phase', 'kubeconfig', 'all', '--root', root, '--config', cfg]);
      const addons = await kb(['init', 'phase', 'addon', 'all', '--root', root, '--config', cfg, '--dry-run']);

      const ours = kubebootObjects(addons.stdout).filter((o) => ADDON_OBJECTS.has(label(o)));
      const theirs = kubeadmObjects(ka.steps[0]?.stdout ?? '').filter((o) => ADDON_OBJECTS.has(label(o)));
      c.check?.(theirs);
      const { unexplained, explained } = compareObjects(theirs, ours);
      if (explained.length > 0) t.diagnostic(`${c.name}: explained differences:\n${explained.join('\n')}`);
      assert.deepEqual(unexplained, [], `${c.name}: differences from kubeadm's objects`);
      // the lines kubeadm prints for each addon it applies (kubeboot words them for its dry run)
      for (const addon of ['CoreDNS', 'kube-proxy']) {
        const said = (ka.steps[0]?.stdout ?? '').includes(`[addons] Applied essential addon: ${addon}\n`);
        assert.equal(addons.stdout.includes(`[addons] Would apply essential addon: ${addon}\n`), said, `${addon}: the addon line`);
      }

      for (const [i, extra] of [[1, []], [2, ['-o', 'json']], [3, ['-o', 'yaml']]] as const) {
        const r = await kb(['config', 'images', 'list', '--config', cfg, ...extra]);
        assert.equal(r.stdout, ka.steps[i]?.stdout, `config images list ${extra.join(' ')}`);
      }
    });
  }
});
