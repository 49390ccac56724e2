#!/usr/bin/env bash
# PID 1 of a real-node test: runs inside
#   unshare --mount --uts --ipc --net --pid --fork --mount-proc --propagation private
# and turns that fresh set of namespaces into a node (test tooling, not part of kubeboot):
#   - the node's own /etc, /var, /opt and /root (overlays: the host's files show through, every
#     write lands in the node directory), its own /run (tmpfs), and dedicated directories bind-mounted
#     over /etc/kubernetes, /var/lib/{kubelet,etcd,containerd,cni}, /etc/cni/net.d, /var/log/{pods,containers};
#   - its own sysfs (so that /sys/class/net shows the node's network namespace), the host's cgroup hierarchies on it;
#   - `mount --make-rshared /` (as kind does), so that the kubelet's and containerd's mounts propagate
#     inside the node and never to the host (everything was made private first);
#   - hostname = node name; a network namespace with lo and a veth pair (the kernel here has no dummy
#     driver): eth0 holds the node address, its peer gw0 is up without an address, and the default route
#     points at a gateway address that nothing answers, so no packet can leave the namespace;
#   - the global kernel knobs the kubelet would set (vm.overcommit_memory, kernel.panic, …) are shown to it
#     at the values it wants, by bind-mounting files over them in this /proc: the kubelet then leaves the
#     host's kernel alone;
#   - containerd, then `exec pause` as the reaper. When the test closes our stdin (or dies), the node ends:
#     PID 1 exits and the kernel kills every process of the namespace.
# Usage: node-init.sh NODE_DIR   (NODE_DIR/node.env holds the settings written by the harness)
set -eEuo pipefail
N=$1
exec 3<&0 # the test's end of the node: EOF here ends the node
# shellcheck source=/dev/null
. "$N/node.env"

log() { printf '[node-init %s] %s\n' "$(date -u +%H:%M:%S.%3N)" "$*"; }
fail() { log "FAILED: $*"; echo "$*" >"$N/failed"; exit 1; }
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR

[ "$$" = 1 ] || fail "not PID 1 of a new PID namespace (pid $$)"

# --- file systems ---
overlay() { # overlay DIR: the host's DIR below, the node's layer on top
  local name=${1//\//_}
  mkdir -p "$N/fs/ovl/$name/upper" "$N/fs/ovl/$name/work"
  mount -t overlay "node$name" -o "lowerdir=$1,upperdir=$N/fs/ovl/$name/upper,workdir=$N/fs/ovl/$name/work" "$1"
}
overlay /etc
overlay /var
overlay /opt
overlay /root
# a sysfs of the node's own network namespace (the inherited one shows the host's: /sys/class/net would list the
# host's links and none of the node's, such as the pod network's bridge), with the host's cgroup hierarchies moved
# onto it as they were; before `--make-rshared /`, since a mount under a shared one cannot be moved
mkdir -p "$N/fs/cgroup-move"
mount --rbind /sys/fs/cgroup "$N/fs/cgroup-move"
mount -t sysfs "node-sysfs" /sys
mount --move "$N/fs/cgroup-move" /sys/fs/cgroup
mount -t tmpfs -o mode=0755,size=256m "node-run" /run
mkdir -p /run/lock && chmod 1777 /run/lock
for d in $NODE_BINDS; do # dedicated directories on disk for what the kubelet, containerd and etcd write
  src="$N/fs/data/${d//\//_}"
  mkdir -p "$src" "$d"
  mount --bind "$src" "$d"
done
mount --make-rshared /
log "mounts ready"

# --- identity ---
hostname "$NODE_NAME"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n%s %s\n' "$NODE_IP" "$NODE_NAME" >/etc/hosts
printf 'nameserver %s\n' "$NODE_GATEWAY" >/etc/resolv.conf
printf '%s\n' "$NODE_MACHINE_ID" >/etc/machine-id
echo "$NODE_NAME" >/etc/hostname

# --- network ---
ip link set lo up
ip link add eth0 type veth peer name gw0
ip addr add "$NODE_IP/$NODE_PREFIX" dev eth0
ip link set gw0 up
ip link set eth0 up
ip route add default via "$NODE_GATEWAY" dev eth0
sysctl -qw net.ipv4.ip_forward=1
log "network ready: $(ip -o -4 addr show dev eth0 | awk '{print $4}') via $NODE_GATEWAY"

# --- the kubelet's global kernel knobs, shown at the values it wants (never written to the host) ---
mkdir -p "$N/fs/sysctl"
for kv in $NODE_FAKE_SYSCTLS; do
  k=${kv%%=*} v=${kv#*=}
  f="$N/fs/sysctl/$k"
  printf '%s\n' "$v" >"$f"
  mount --bind "$f" "/proc/sys/${k//.//}"
done

# --- cgroups: the kubelet's cgroupRoot, in every hierarchy ---
for h in /sys/fs/cgroup/*/; do
  h=${h%/}
  [ -f "$h/cgroup.procs" ] || continue
  mkdir -p "$h$NODE_CGROUP_ROOT"
  if [ -f "$h/cpuset.cpus" ]; then
    cat "$h/cpuset.cpus" >"$h$NODE_CGROUP_ROOT/cpuset.cpus"
    cat "$h/cpuset.mems" >"$h$NODE_CGROUP_ROOT/cpuset.mems"
  fi
done

# --- containerd ---
log "starting containerd"
PATH="$NODE_BIN:$PATH" setsid "$NODE_BIN/containerd" --config "$N/containerd.toml" \
  </dev/null >>"$N/logs/containerd.log" 2>&1 3<&- &
for _ in $(seq 1 300); do
  [ -S /run/containerd/containerd.sock ] && break
  kill -0 $! 2>/dev/null || fail "containerd exited; see $N/logs/containerd.log"
  sleep 0.05
done
[ -S /run/containerd/containerd.sock ] || fail "containerd did not create its socket in 15 s"
"$NODE_BIN/ctr" --address /run/containerd/containerd.sock version >/dev/null || fail "containerd does not answer"
log "containerd ready"

# The node ends when the test closes our stdin (stop(), or the test process dying).
{ cat <&3 >/dev/null; kill -TERM 1; } &
echo ready >"$N/ready"
trap - ERR
exec "$NODE_BIN/pause" </dev/null 3<&-
