#!/usr/bin/env node
/**
 * Runs the kubelet + API server test double by hand:
 *   node dist/test/double/cli.js --root DIR [--node-name NAME] [--crash-loop POD[=EXITCODE]] [--slow-start POD=MS]
 *        [--never-ready POD] [--keep-hash POD] [--kubelet-down] [--quiet]
 * then, in another shell: kubeboot init --root DIR --config F, and kubectl --kubeconfig DIR/etc/kubernetes/admin.conf get pods -n kube-system.
 * Stops (killing etcd) on SIGINT/SIGTERM.
 */
import { ControlPlaneDouble, type ComponentFault } from './double.js';

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(
    'usage: cli.js --root DIR [--node-name NAME] [--crash-loop POD[=EXITCODE]] [--slow-start POD=MS] [--never-ready POD] [--keep-hash POD] [--kubelet-down] [--quiet]\n',
  );
  process.exit(2);
}

const argv = process.argv.slice(2);
let root = '';
let nodeName: string | undefined;
let quiet = false;
let kubeletDown = false;
const faults: Record<string, ComponentFault> = {};
const add = (pod: string, f: ComponentFault) => (faults[pod] = { ...faults[pod], ...f });
for (let i = 0; i < argv.length; i++) {
  const a = argv[i] as string;
  const next = () => {
    const v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    return v;
  };
  if (a === '--root') root = next();
  else if (a === '--node-name') nodeName = next();
  else if (a === '--quiet') quiet = true;
  else if (a === '--kubelet-down') kubeletDown = true;
  else if (a === '--crash-loop') {
    const [pod, code] = next().split('=');
    add(pod as string, { crashLoop: { exitCode: code === undefined ? 1 : Number(code) } });
  } else if (a === '--slow-start') {
    const [pod, ms] = next().split('=');
    if (!ms) usage('--slow-start needs POD=MS');
    add(pod as string, { slowStartMs: Number(ms) });
  } else if (a === '--never-ready') add(next(), { neverReady: true });
  else if (a === '--keep-hash') add(next(), { keepHash: true });
  else usage(`unknown argument ${a}`);
}
if (!root) usage('--root is required');

const double = new ControlPlaneDouble({
  root,
  ...(nodeName ? { nodeName } : {}),
  faults,
  kubeletDown,
  log: quiet ? undefined : (l) => process.stderr.write(`${l}\n`),
});
await double.start();
process.stderr.write(`[double] watching ${root} (waiting for var/lib/kubelet/config.yaml); Ctrl-C stops\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await double.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
