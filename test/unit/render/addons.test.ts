/** The CoreDNS and kube-proxy objects (src/render/addons.ts) and the image list (src/render/images.ts), pure. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSpec, parseConfigText, type ConfigFlags } from '../../../src/config/load.js';
import type { ClusterSpec } from '../../../src/config/spec.js';
import { loadAddonTemplates } from '../../../src/node/templates.js';
import {
  COMPONENT_CONFIG_HASH_ANNOTATION,
  configMapChecksum,
  corefile,
  renderCoreDNS,
  renderKubeProxy,
  type RenderedAddonObject,
} from '../../../src/render/addons.js';
import { controlPlaneImages } from '../../../src/render/images.js';
import { toYaml } from '../../../src/render/yaml.js';
import { TEST_HOST } from '../../helpers/host.js';

type Obj = Record<string, any>;

async function specFrom(extraCluster = '', flags: ConfigFlags = {}, more = ''): Promise<ClusterSpec> {
  const text = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 192.0.2.10
nodeRegistration:
  name: cp1
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
${extraCluster}${more}`;
  return buildSpec(await parseConfigText(text, 'test.yaml'), flags, TEST_HOST, 'test.yaml').spec;
}

const byKind = (objs: readonly RenderedAddonObject[], kind: string): Obj => objs.find((o) => o.object.kind === kind)?.object as Obj;
const names = (objs: readonly RenderedAddonObject[]) => objs.map((o) => `${o.object.kind} ${o.object.metadata.namespace ? `${o.object.metadata.namespace}/` : ''}${o.object.metadata.name} ${o.existing}`);

/** kubeadm v1.36.5's CoreDNS Deployment for the defaults, as its `init phase addon coredns --dry-run` printed it (status dropped). */
const KUBEADM_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    k8s-app: kube-dns
  name: coredns
  namespace: kube-system
spec:
  replicas: 2
  selector:
    matchLabels:
      k8s-app: kube-dns
  strategy:
    rollingUpdate:
      maxUnavailable: 1
    type: RollingUpdate
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - podAffinityTerm:
              labelSelector:
                matchExpressions:
                - key: k8s-app
                  operator: In
                  values:
                  - kube-dns
              topologyKey: kubernetes.io/hostname
            weight: 100
      containers:
      - args:
        - -conf
        - /etc/coredns/Corefile
        image: registry.k8s.io/coredns/coredns:v1.14.2
        imagePullPolicy: IfNotPresent
        livenessProbe:
          failureThreshold: 5
          httpGet:
            path: /health
            port: liveness-probe
            scheme: HTTP
          initialDelaySeconds: 60
          successThreshold: 1
          timeoutSeconds: 5
        name: coredns
        ports:
        - containerPort: 53
          name: dns
          protocol: UDP
        - containerPort: 53
          name: dns-tcp
          protocol: TCP
        - containerPort: 9153
          name: metrics
          protocol: TCP
        - containerPort: 8080
          name: liveness-probe
          protocol: TCP
        - containerPort: 8181
          name: readiness-probe
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /ready
            port: readiness-probe
            scheme: HTTP
        resources:
          limits:
            memory: 170Mi
          requests:
            cpu: 100m
            memory: 70Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            add:
            - NET_BIND_SERVICE
            drop:
            - ALL
          readOnlyRootFilesystem: true
        volumeMounts:
        - mountPath: /etc/coredns
          name: config-volume
          readOnly: true
      dnsPolicy: Default
      nodeSelector:
        kubernetes.io/os: linux
      priorityClassName: system-cluster-critical
      serviceAccountName: coredns
      tolerations:
      - key: CriticalAddonsOnly
        operator: Exists
      - effect: NoSchedule
        key: node-role.kubernetes.io/control-plane
      volumes:
      - configMap:
          items:
          - key: Corefile
            path: Corefile
          name: coredns
        name: config-volume
`;

const KUBEADM_COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`;

const KUBEADM_KUBECONFIG_CONF = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://192.0.2.10:6443
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token`;

describe('CoreDNS objects', () => {
  it("defaults: kubeadm's six objects in its order, the Corefile kept when it exists, the Deployment byte for byte", async () => {
    const t = await loadAddonTemplates();
    const objs = renderCoreDNS(await specFrom(), t, { replicas: 2 });
    assert.deepEqual(names(objs), [
      'ConfigMap kube-system/coredns retain',
      'ClusterRole system:coredns update',
      'ClusterRoleBinding system:coredns update',
      'ServiceAccount kube-system/coredns update',
      'Deployment kube-system/coredns update',
      'Service kube-system/kube-dns update',
    ]);
    assert.equal(toYaml(byKind(objs, 'Deployment')), KUBEADM_DEPLOYMENT);
    assert.equal(byKind(objs, 'ConfigMap').data.Corefile, KUBEADM_COREFILE);
    const svc = byKind(objs, 'Service');
    assert.equal(svc.spec.clusterIP, '10.96.0.10');
    assert.deepEqual(svc.metadata.labels, { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' });
    assert.deepEqual(svc.metadata.annotations, { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' });
    assert.equal('resourceVersion' in svc.metadata, false, "kubeadm's resourceVersion \"0\" (its unconditional-update trick) is not sent");
    assert.deepEqual(byKind(objs, 'ClusterRole').rules, [
      { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ]);
  });

  it('the replicas of an existing Deployment are kept (a scaled CoreDNS stays scaled)', async () => {
    const objs = renderCoreDNS(await specFrom(), await loadAddonTemplates(), { replicas: 5 });
    assert.equal(byKind(objs, 'Deployment').spec.replicas, 5);
  });

  it('service subnets: the 10th address of the first one (IPv6, dual-stack either way round)', async () => {
    const t = await loadAddonTemplates();
    const ip = async (subnet: string) => byKind(renderCoreDNS(await specFrom(`networking:\n  serviceSubnet: ${subnet}\n`), t, { replicas: 2 }), 'Service').spec.clusterIP;
    assert.equal(await ip('2001:db8:1::/112'), '2001:db8:1::a');
    assert.equal(await ip('198.51.100.0/24,2001:db8:1::/112'), '198.51.100.10');
    assert.equal(await ip('2001:db8:1::/112,198.51.100.0/24'), '2001:db8:1::a');
  });

  it('a custom DNS domain goes into the kubernetes plugin and the cache exceptions', async () => {
    const objs = renderCoreDNS(await specFrom('networking:\n  dnsDomain: corp.example.com\n'), await loadAddonTemplates(), { replicas: 2 });
    const cf = byKind(objs, 'ConfigMap').data.Corefile as string;
    assert.equal(cf, KUBEADM_COREFILE.replaceAll('cluster.local', 'corp.example.com'));
    assert.match(corefile(''), /^ {4}cache 30\n {4}loop$/m, 'no cache block without a domain');
  });

  it("images: registry.k8s.io's coredns/ path only for the default registry; dns.imageRepository and dns.imageTag win", async () => {
    const t = await loadAddonTemplates();
    const image = async (cluster: string) => byKind(renderCoreDNS(await specFrom(cluster), t, { replicas: 2 }), 'Deployment').spec.template.spec.containers[0].image;
    assert.equal(await image(''), 'registry.k8s.io/coredns/coredns:v1.14.2');
    assert.equal(await image('imageRepository: my.registry.example.com/k8s\n'), 'my.registry.example.com/k8s/coredns:v1.14.2');
    assert.equal(await image('imageRepository: my.registry.example.com/k8s\ndns:\n  imageRepository: registry.k8s.io\n'), 'registry.k8s.io/coredns/coredns:v1.14.2');
    assert.equal(await image('dns:\n  imageRepository: dns.example.com/x\n  imageTag: v9.9.9\n'), 'dns.example.com/x/coredns:v9.9.9');
  });

  it("per minor: each minor's CoreDNS (v1.12.1, v1.13.1, v1.14.2, v1.14.6)", async () => {
    const t = await loadAddonTemplates();
    const got: string[] = [];
    for (const v of ['v1.34.11', 'v1.35.8', 'v1.36.5', 'v1.37.1']) {
      got.push(byKind(renderCoreDNS(await specFrom(`kubernetesVersion: ${v}\n`), t, { replicas: 2 }), 'Deployment').spec.template.spec.containers[0].image);
    }
    assert.deepEqual(got, ['registry.k8s.io/coredns/coredns:v1.12.1', 'registry.k8s.io/coredns/coredns:v1.13.1', 'registry.k8s.io/coredns/coredns:v1.14.2', 'registry.k8s.io/coredns/coredns:v1.14.6']);
  });

  it('same input, same objects (and the templates are not changed by rendering)', async () => {
    const t = await loadAddonTemplates();
    const spec = await specFrom();
    const a = toYaml(renderCoreDNS(spec, t, { replicas: 2 }).map((o) => o.object));
    const b = toYaml(renderCoreDNS(spec, t, { replicas: 2 }).map((o) => o.object));
    assert.equal(a, b);
    assert.equal((t.coredns.find((d) => (d as Obj).kind === 'Service') as Obj).spec.clusterIP, '');
  });
});

describe('kube-proxy objects', () => {
  it("defaults: kubeadm's six objects in its order; the ConfigMap signed with kubeadm's checksum (the same hash kubeadm v1.36.5 printed)", async () => {
    const objs = renderKubeProxy(await specFrom('networking:\n  podSubnet: 10.244.0.0/16\n'), await loadAddonTemplates(), { proxyEnv: [] });
    assert.deepEqual(names(objs), [
      'ConfigMap kube-system/kube-proxy update',
      'DaemonSet kube-system/kube-proxy update',
      'ServiceAccount kube-system/kube-proxy update',
      'ClusterRoleBinding kubeadm:node-proxier update',
      'Role kube-system/kube-proxy update',
      'RoleBinding kube-system/kube-proxy update',
    ]);
    const cm = byKind(objs, 'ConfigMap');
    assert.equal(cm.data['kubeconfig.conf'], KUBEADM_KUBECONFIG_CONF);
    assert.ok((cm.data['config.conf'] as string).startsWith('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nbindAddress: 0.0.0.0\n'));
    assert.ok((cm.data['config.conf'] as string).endsWith('\n  sourceVip: ""'), 'no final newline (a |- block in kubeadm)');
    assert.deepEqual(cm.metadata.annotations, { [COMPONENT_CONFIG_HASH_ANNOTATION]: 'sha256:c28d10aeab03a306f449905602c4af9367e209620dfaab8dfedeb61deaa56923' });
    assert.deepEqual(cm.metadata.labels, { app: 'kube-proxy' });
    const ds = byKind(objs, 'DaemonSet');
    const c = ds.spec.template.spec.containers[0];
    assert.equal(c.image, 'registry.k8s.io/kube-proxy:v1.36.5');
    assert.deepEqual(c.command, ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)']);
    assert.deepEqual(c.env, [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
    assert.deepEqual(ds.spec.template.spec.tolerations, [{ operator: 'Exists' }]);
    assert.equal(ds.spec.template.spec.hostNetwork, true);
    assert.deepEqual(byKind(objs, 'RoleBinding').subjects, [{ kind: 'Group', name: 'system:bootstrappers:kubeadm:default-node-token' }]);
    assert.deepEqual(byKind(objs, 'Role').rules, [{ apiGroups: [''], resourceNames: ['kube-proxy'], resources: ['configmaps'], verbs: ['get'] }]);
    assert.deepEqual(byKind(objs, 'ClusterRoleBinding').roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' });
  });

  it('a KubeProxyConfiguration document: in config.conf, and the ConfigMap is not signed (kubeadm signs only what it generated)', async () => {
    const spec = await specFrom('networking:\n  podSubnet: 10.244.0.0/16\n', {}, '---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  strictARP: true\n');
    const cm = byKind(renderKubeProxy(spec, await loadAddonTemplates(), { proxyEnv: [] }), 'ConfigMap');
    assert.equal(cm.metadata.annotations, undefined);
    assert.match(cm.data['config.conf'], /^mode: ipvs$/m);
    assert.match(cm.data['config.conf'], /^ {2}strictARP: true$/m);
    assert.match(cm.data['config.conf'], /^clusterCIDR: 10\.244\.0\.0\/16$/m);
  });

  it('the *_proxy variables of the environment are passed on after NODE_NAME, in their order', async () => {
    const env = [
      { name: 'HTTPS_PROXY', value: 'http://proxy.example.com:3128' },
      { name: 'no_proxy', value: 'localhost,10.0.0.0/8' },
    ];
    const ds = byKind(renderKubeProxy(await specFrom(), await loadAddonTemplates(), { proxyEnv: env }), 'DaemonSet');
    assert.deepEqual(ds.spec.template.spec.containers[0].env.slice(1), env);
  });

  it('the kubeconfig points at controlPlaneEndpoint (its port, else bindPort; IPv6 in brackets)', async () => {
    const t = await loadAddonTemplates();
    const server = async (cluster: string) => /server: (\S+)/.exec(byKind(renderKubeProxy(await specFrom(cluster), t, { proxyEnv: [] }), 'ConfigMap').data['kubeconfig.conf'])?.[1];
    assert.equal(await server('controlPlaneEndpoint: "[2001:db8::1]:7443"\n'), 'https://[2001:db8::1]:7443');
    assert.equal(await server('controlPlaneEndpoint: api.example.com\n'), 'https://api.example.com:6443');
  });

  it('the image: imageRepository and the Kubernetes version (a "+" becomes "_"), per minor', async () => {
    const t = await loadAddonTemplates();
    const image = async (cluster: string) => byKind(renderKubeProxy(await specFrom(cluster), t, { proxyEnv: [] }), 'DaemonSet').spec.template.spec.containers[0].image;
    assert.equal(await image('imageRepository: my.registry.example.com/k8s\n'), 'my.registry.example.com/k8s/kube-proxy:v1.36.5');
    assert.equal(await image('kubernetesVersion: v1.34.11\n'), 'registry.k8s.io/kube-proxy:v1.34.11');
    assert.equal(await image('kubernetesVersion: v1.37.1\n'), 'registry.k8s.io/kube-proxy:v1.37.1');
  });

  it("configMapChecksum is kubeadm's ChecksumForConfigMap: sha256 of the values in key order", () => {
    assert.equal(configMapChecksum({ b: 'world', a: 'hello ' }), 'sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
  });
});

describe('config images list', () => {
  it("kubeadm's list and order; kube-proxy, CoreDNS and etcd only when used", async () => {
    assert.deepEqual(controlPlaneImages(await specFrom()), [
      'registry.k8s.io/kube-apiserver:v1.36.5',
      'registry.k8s.io/kube-controller-manager:v1.36.5',
      'registry.k8s.io/kube-scheduler:v1.36.5',
      'registry.k8s.io/kube-proxy:v1.36.5',
      'registry.k8s.io/coredns/coredns:v1.14.2',
      'registry.k8s.io/pause:3.10.2',
      'registry.k8s.io/etcd:3.6.8-0',
    ]);
    const off = await specFrom('dns:\n  disabled: true\nproxy:\n  disabled: true\netcd:\n  external:\n    endpoints: ["https://192.0.2.20:2379"]\n    caFile: /etc/etcd/ca.crt\n    certFile: /etc/etcd/c.crt\n    keyFile: /etc/etcd/c.key\n');
    assert.deepEqual(controlPlaneImages(off), ['registry.k8s.io/kube-apiserver:v1.36.5', 'registry.k8s.io/kube-controller-manager:v1.36.5', 'registry.k8s.io/kube-scheduler:v1.36.5', 'registry.k8s.io/pause:3.10.2']);
  });

  it('per minor, and with repository overrides (pause always from imageRepository; etcd from its own)', async () => {
    assert.deepEqual(controlPlaneImages(await specFrom('kubernetesVersion: v1.34.11\nimageRepository: r.example.com\netcd:\n  local:\n    imageRepository: e.example.com\n    imageTag: 3.5.24-0\n')), [
      'r.example.com/kube-apiserver:v1.34.11',
      'r.example.com/kube-controller-manager:v1.34.11',
      'r.example.com/kube-scheduler:v1.34.11',
      'r.example.com/kube-proxy:v1.34.11',
      'r.example.com/coredns:v1.12.1',
      'r.example.com/pause:3.10.1',
      'e.example.com/etcd:3.5.24-0',
    ]);
  });

  it("skipping an addon's phase disables the addon in init's recorded configuration (kubeadm's manageSkippedAddons), not in the image list", async () => {
    const s = await specFrom('', { 'skip-phases': ['addon/coredns'] });
    assert.equal(s.documents.cluster.dns?.disabled, true, 'the recorded configuration says so');
    assert.equal(s.documents.cluster.proxy?.disabled, undefined);
    assert.equal(s.dns.disabled, false, 'kubeadm config images list still lists CoreDNS');
    assert.ok(controlPlaneImages(s).includes('registry.k8s.io/coredns/coredns:v1.14.2'));
    const all = await specFrom('', { 'skip-phases': ['addon'] });
    assert.equal(all.documents.cluster.dns?.disabled && all.documents.cluster.proxy?.disabled, true);
    assert.equal((await specFrom('', { 'skip-phases': ['addon/kube-proxy'] })).documents.cluster.proxy?.disabled, true);
  });
});
