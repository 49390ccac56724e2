/**
 * A ready-to-use arrangement for tests and benchmarks: a temp root, free ports, a kubeboot config file that sends
 * every port to kubeboot ONLY through its configuration, and the double watching that root.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ControlPlaneDouble, type DoubleOptions } from './double.js';
import { freePorts } from './ports.js';

export interface Ports {
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly etcdMetrics: number;
  readonly kubeletHealthz: number;
  /** the kubelet's serving port (KubeletConfiguration.port), so that preflight's Port check uses a free port */
  readonly kubeletPort: number;
}

export const NODE_NAME = 'kb-e2e';
export const CRI_SOCKET = 'unix:///var/run/containerd/containerd.sock';

/** The config file: InitConfiguration + ClusterConfiguration + KubeletConfiguration, all on 127.0.0.1 and free ports. */
export function configText(p: Ports, nodeName = NODE_NAME): string {
  const arg = (name: string, value: string) => `    - name: ${name}\n      value: "${value}"`;
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 127.0.0.1
  bindPort: ${p.apiserver}
nodeRegistration:
  name: ${nodeName}
  criSocket: ${CRI_SOCKET}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
controllerManager:
  extraArgs:
${arg('bind-address', '127.0.0.1')}
${arg('secure-port', String(p.controllerManager))}
scheduler:
  extraArgs:
${arg('bind-address', '127.0.0.1')}
${arg('secure-port', String(p.scheduler))}
etcd:
  local:
    extraArgs:
${arg('listen-client-urls', `https://127.0.0.1:${p.etcdClient}`)}
${arg('advertise-client-urls', `https://127.0.0.1:${p.etcdClient}`)}
${arg('listen-peer-urls', `https://127.0.0.1:${p.etcdPeer}`)}
${arg('initial-advertise-peer-urls', `https://127.0.0.1:${p.etcdPeer}`)}
${arg('initial-cluster', `${nodeName}=https://127.0.0.1:${p.etcdPeer}`)}
${arg('listen-metrics-urls', `http://127.0.0.1:${p.etcdMetrics}`)}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
healthzBindAddress: 127.0.0.1
healthzPort: ${p.kubeletHealthz}
port: ${p.kubeletPort}
`;
}

export interface Arrangement {
  readonly dir: string;
  readonly root: string;
  readonly config: string;
  readonly ports: Ports;
  readonly double: ControlPlaneDouble;
  /** extra environment for the CLI under test (PATH with the crictl shim, when asked for) */
  readonly env: Record<string, string>;
  /** stops the double (killing etcd) and removes the directory */
  dispose(): Promise<void>;
}

export interface ArrangeOptions extends Omit<DoubleOptions, 'root' | 'criStateFile' | 'criSocket'> {
  /** put a `crictl` (test/double/crictl-shim.ts, answering from the double) first on the CLI's PATH */
  readonly crictl?: boolean;
}

export async function arrange(opts: ArrangeOptions = {}): Promise<Arrangement> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeboot-e2e-'));
  const env: Record<string, string> = {};
  let cri: Partial<DoubleOptions> = {};
  if (opts.crictl) {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const shim = fileURLToPath(new URL('./crictl-shim.js', import.meta.url));
    writeFileSync(path.join(bin, 'crictl'), `#!/bin/sh\nexec "${process.execPath}" "${shim}" "$@"\n`);
    chmodSync(path.join(bin, 'crictl'), 0o755);
    const stateFile = path.join(dir, 'cri-state.json');
    env.PATH = `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
    env.KUBEBOOT_DOUBLE_CRI_STATE = stateFile;
    cri = { criStateFile: stateFile, criSocket: CRI_SOCKET };
  }
  const root = path.join(dir, 'root');
  const [apiserver, controllerManager, scheduler, etcdClient, etcdPeer, etcdMetrics, kubeletHealthz, kubeletPort] = await freePorts(8);
  const ports = { apiserver, controllerManager, scheduler, etcdClient, etcdPeer, etcdMetrics, kubeletHealthz, kubeletPort } as Ports;
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, configText(ports));
  const { crictl: _c, ...doubleOpts } = opts;
  const double = new ControlPlaneDouble({ root, ...doubleOpts, ...cri });
  await double.start();
  let disposed = false;
  return {
    dir,
    root,
    config,
    ports,
    double,
    env,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await double.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
