/**
 * kubeadm as the oracle for init's API objects (issue 11): `kubeadm init --dry-run` prints every object it would
 * send to the API server (upload-config, upload-certs, mark-control-plane, bootstrap-token, the addons) and the
 * closing text with the join commands. kubeboot's `init --dry-run` prints the objects it would send. Both run in a
 * private namespace (kubeadm-ns.sh), kubeboot on kubeadm's PKI and kubeconfigs so that everything derived from the
 * CA (cluster-info, the discovery hash, the sizes of the encrypted kubeadm-certs) is the same. Then:
 *   - every object kubeadm creates, kubeboot creates, field for field, in the same order (Secret data compared by
 *     key and size: kubeboot's dry run does not print Secret data, and the upload-certs proxy token is random);
 *   - kubeadm's encrypted kubeadm-certs decrypt, with the certificate key it printed, as nonce || AES-256-GCM
 *     ciphertext || tag to the very files kubeboot was seeded with: the format kubeboot writes;
 *   - the phases' lines and the closing text (join commands) are the same.
 */
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { load } from 'js-yaml';
import { CLI } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { runInNamespace, type NamespaceRun } from './namespace.js';
import { kubeadmPath, requireOracle } from './tier.js';

type Obj = Record<string, unknown>;

interface Sent {
  readonly verb: string;
  readonly object: Obj;
}

const CERTIFICATE_KEY = '981cbbac8b03ff17a43a1783cdde68dd921a018ab45ede6b182e5618b3ccecdd';

const CONFIGS: readonly { name: string; yaml: string }[] = [
  {
    name: 'defaults',
    yaml: `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
nodeRegistration:
  name: cp1
  criSocket: unix:///run/containerd/containerd.sock
certificateKey: ${CERTIFICATE_KEY}
bootstrapTokens:
- token: abcdef.0123456789abcdef
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.36.5
`,
  },
  {
    name: 'endpoint-tokens-taints',
    yaml: `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 192.0.2.20
  bindPort: 7443
nodeRegistration:
  name: Node-A.example
  criSocket: unix:///run/containerd/containerd.sock
  taints:
  - key: example.com/dedicated
    value: infra
    effect: NoExecute
certificateKey: ${CERTIFICATE_KEY}
bootstrapTokens:
- token: abcdef.0123456789abcdef
  description: first token
  ttl: 2h30m
  usages: [authentication]
  groups: [system:bootstrappers:kubeadm:default-node-token, system:bootstrappers:extra]
- token: 123456.abcdefabcdefabcd
  ttl: "0"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.36.5
clusterName: staging
controlPlaneEndpoint: cp.example.test:7443
networking:
  serviceSubnet: 10.200.0.0/16
  dnsDomain: corp.test
  podSubnet: 10.244.0.0/16
apiServer:
  certSANs: [cp.example.test]
`,
  },
];

/**
 * kubeadm's objects that kubeboot does not send yet (the addons, issue 11's addon phase), by kind/namespace/name.
 * Each one is still reported by the test; an object that is in neither this list nor kubeboot's output fails it.
 */
const idOf = (o: Obj): string => {
  const m = (o.metadata ?? {}) as { name?: string; namespace?: string };
  return `${String(o.kind)}/${m.namespace ?? ''}/${m.name ?? ''}`;
};

/** kubeadm's dry-run objects: "[dryrun] Would perform action VERB …" then "[dryrun] Attached object:" and YAML. */
function kubeadmObjects(stdout: string): Sent[] {
  const lines = stdout.split('\n');
  const out: Sent[] = [];
  let verb = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    const v = /^\[dryrun\] Would perform action (\w+) on resource/.exec(l);
    if (v) verb = v[1] as string;
    if (l !== '[dryrun] Attached object:') continue;
    const body: string[] = [];
    for (i++; i < lines.length && !/^(\[|Your Kubernetes)/.test(lines[i] as string); i++) body.push(lines[i] as string);
    i--;
    out.push({ verb, object: load(body.join('\n')) as Obj });
  }
  return out;
}

/** kubeboot's dry-run objects: "[dryrun] Would send: METHOD URL with object:" then the YAML, tab-indented. */
function kubebootObjects(stdout: string): Sent[] {
  const lines = stdout.split('\n');
  const out: Sent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\[dryrun\] Would send: (\w+) \S+ with object:$/.exec(lines[i] as string);
    if (!m) continue;
    const body: string[] = [];
    for (i++; i < lines.length && (lines[i] as string).startsWith('\t'); i++) body.push((lines[i] as string).slice(1));
    i--;
    out.push({ verb: m[1] === 'POST' ? 'CREATE' : (m[1] as string), object: load(body.join('\n')) as Obj });
  }
  return out;
}

/**
 * Both sides in one form: Secret data as "<N bytes, not shown>" (kubeboot's dry-run form), the random name of
 * upload-certs' proxy token (and the owner reference to it) as bootstrap-token-<proxy>.
 */
function normalize(o: Obj, fixedTokenIds: readonly string[]): Obj {
  const c = structuredClone(o) as Obj & { metadata: { name: string; resourceVersion?: string; ownerReferences?: { name: string }[] }; data?: Record<string, string> };
  // kubeadm prints its Go structs: a status of zero values (ignored on create) and a Service's resourceVersion "0" (its
  // create-else-update fallback); the addon oracle (addons.test.ts) explains both
  const empty = (v: unknown): boolean => v === 0 || v === '' || (v !== null && typeof v === 'object' && Object.values(v).every(empty));
  if (/^(Deployment|DaemonSet|Service)$/.test(String(c.kind)) && empty(c.status)) delete c.status;
  if (c.kind === 'Service' && c.metadata.resourceVersion === '0') delete c.metadata.resourceVersion;
  if (c.kind !== 'Secret') return c;
  const proxy = (n: string): string => (/^bootstrap-token-/.test(n) && !fixedTokenIds.includes(n.slice('bootstrap-token-'.length)) ? 'bootstrap-token-<proxy>' : n);
  c.metadata.name = proxy(c.metadata.name);
  for (const r of c.metadata.ownerReferences ?? []) r.name = proxy(r.name);
  if (c.data) {
    c.data = Object.fromEntries(
      Object.entries(c.data).map(([k, v]) => [k, /^<\d+ bytes, not shown>$/.test(v) ? v : `<${Buffer.from(v, 'base64').length} bytes, not shown>`]),
    );
  }
  return c;
}

/** The phases' own lines (not the dry-run reports) of the phases after the wait. */
const phaseLines = (stdout: string): string[] =>
  stdout.split('\n').filter((l) => /^\[(upload-config|kubelet|upload-certs|mark-control-plane|bootstrap-token)\] /.test(l));

/** The closing text: from "Your Kubernetes control-plane …" to the end of the last join command. */
function closingText(stdout: string): string {
  const start = stdout.indexOf('Your Kubernetes control-plane has initialized successfully!');
  if (start < 0) return '';
  const lines = stdout.slice(start).split('\n');
  let end = 0;
  lines.forEach((l, i) => {
    if (/--discovery-token-ca-cert-hash|--certificate-key|--control-plane/.test(l)) end = i;
  });
  return lines.slice(0, end + 1).join('\n');
}

/**
 * A seed made of what a first kubeadm dry run generated. kubeadm's dry run keeps the PKI flat in its dry-run
 * directory (/etc/kubernetes here) but upload-certs reads certificatesDir (/etc/kubernetes/pki): finding nothing
 * there, it sends null for every file. So the seed holds the PKI in both places (and the kubeconfigs); a second
 * dry run of kubeadm's reuses it all and encrypts real files, and kubeboot reads the same PKI from pki/.
 */
function seedFromKubeadm(run: NamespaceRun, seed: string): void {
  const from = path.join(run.out, 'etc', 'kubernetes');
  const etc = path.join(seed, 'etc', 'kubernetes');
  mkdirSync(path.join(etc, 'pki'), { recursive: true });
  for (const name of readdirSync(from)) {
    const src = path.join(from, name);
    if ((name === 'etcd' && statSync(src).isDirectory()) || /\.(crt|key|pub)$/.test(name)) {
      cpSync(src, path.join(etc, 'pki', name), { recursive: true });
      cpSync(src, path.join(etc, name), { recursive: true });
    } else if (/\.conf$/.test(name)) cpSync(src, path.join(etc, name));
  }
}

/** kubeadm's EncryptBytes is nonce(12) || AES-256-GCM ciphertext || tag(16); decrypts one value or throws. */
function decrypt(b64: string, keyHex: string): Buffer {
  const raw = Buffer.from(b64, 'base64');
  const d = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), raw.subarray(0, 12));
  d.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
}

for (const config of CONFIGS) {
  test(`init --dry-run sends the API objects kubeadm sends (${config.name})`, { timeout: 300_000 }, async (t) => {
    if (!requireOracle(t)) return;
    const dir = tempDir(t, `kubeboot-oracle-dry-${config.name}-`);
    const cfg = path.join(dir, 'config.yaml');
    writeFileSync(cfg, config.yaml);
    const dryRun = ['env', 'KUBEADM_INIT_DRYRUN_DIR=/etc/kubernetes', kubeadmPath(), 'init', '--dry-run', '--skip-phases', 'preflight', '--upload-certs', '--config', cfg];
    const first = await runInNamespace(path.join(dir, 'kubeadm-first'), [dryRun]);
    assert.equal(first.steps[0]!.code, 0, `kubeadm init --dry-run failed:\n${first.steps[0]!.stdout}${first.steps[0]!.stderr}`);
    const seed = path.join(dir, 'seed');
    seedFromKubeadm(first, seed);
    const kubeadm = await runInNamespace(path.join(dir, 'kubeadm'), [dryRun], seed);
    const ka = kubeadm.steps[0]!;
    assert.equal(ka.code, 0, `kubeadm init --dry-run on its own PKI failed:\n${ka.stdout}${ka.stderr}`);
    const kubeboot = await runInNamespace(
      path.join(dir, 'kubeboot'),
      [[process.execPath, CLI, 'init', '--dry-run', '--skip-phases', 'preflight', '--upload-certs', '--config', cfg]],
      seed,
    );
    const kb = kubeboot.steps[0]!;
    assert.equal(kb.code, 0, `kubeboot init --dry-run failed:\n${kb.stdout}${kb.stderr}`);

    const fixedIds = [...config.yaml.matchAll(/token: ([a-z0-9]{6})\./g)].map((m) => m[1] as string);
    const theirs = kubeadmObjects(ka.stdout).filter((s) => s.verb === 'CREATE');
    // kubeadm's dry-run client skips EnsureAdminClusterRoleBinding (its real init creates kubeadm:cluster-admins
    // before the first phase that talks to the API server); kubeboot's dry run shows that it would create it
    const ours = kubebootObjects(kb.stdout).filter((s) => s.verb === 'CREATE');
    const adminBinding = ours.filter((s) => s.object.kind === 'ClusterRoleBinding' && (s.object.metadata as Obj).name === 'kubeadm:cluster-admins');
    assert.equal(adminBinding.length, 1, 'kubeboot would create kubeadm:cluster-admins once');
    ours.splice(ours.indexOf(adminBinding[0] as Sent), 1);
    assert.ok(theirs.length >= 20, `kubeadm's dry run printed ${theirs.length} objects: the parser is out of step with its output`);

    // kubeadm's encrypted certificates are the seeded files, in the format kubeboot writes
    const certs = theirs.find((s) => idOf(s.object) === 'Secret/kube-system/kubeadm-certs')?.object as { data: Record<string, string> } | undefined;
    assert.ok(certs, 'kubeadm sent no kubeadm-certs Secret');
    const pki = path.join(seed, 'etc', 'kubernetes', 'pki');
    for (const [key, file] of [
      ['ca.key', 'ca.key'],
      ['sa.pub', 'sa.pub'],
      ['etcd-ca.crt', 'etcd/ca.crt'],
    ] as const) {
      assert.deepEqual(decrypt(certs.data[key] as string, CERTIFICATE_KEY), readFileSync(path.join(pki, file)), `kubeadm-certs ${key}`);
    }

    const ourById = new Map(ours.map((s) => { const n = normalize(s.object, fixedIds); return [idOf(n), n] as const; }));
    const theirIds = theirs.map((s) => idOf(normalize(s.object, fixedIds)));
    const missing: string[] = [];
    for (const s of theirs) {
      const want = normalize(s.object, fixedIds);
      const id = idOf(want);
      const got = ourById.get(id);
      if (!got) {
        missing.push(id);
        continue;
      }
      assert.deepEqual(got, want, `${id} differs from kubeadm's`);
    }
    assert.deepEqual(missing, [], `kubeboot does not send these objects kubeadm sends`);
    const extra = [...ourById.keys()].filter((id) => !theirIds.includes(id));
    assert.deepEqual(extra, [], 'kubeboot sends objects kubeadm does not');
    // the same order (kubeboot's objects are a prefix-respecting subsequence of kubeadm's)
    assert.deepEqual(
      [...ourById.keys()],
      theirIds.filter((id) => ourById.has(id)),
      'the objects are sent in another order than kubeadm sends them',
    );

    assert.deepEqual(phaseLines(kb.stdout), phaseLines(ka.stdout), "the phases' lines differ from kubeadm's");
    assert.equal(closingText(kb.stdout), closingText(ka.stdout), 'the closing text differs from kubeadm’s');
  });
}
