#!/usr/bin/env bash
# Runs commands (kubeadm's, in practice) in a private mount namespace and a private network namespace, so
# that whatever they write to /etc/kubernetes, /var/lib/kubelet or /var/lib/etcd never reaches the host,
# and they cannot reach any network (the new network namespace has only a loopback, and it is down).
#
#   kubeadm-ns.sh OUT SEED STEPS
#
#   OUT    directory that receives the results: OUT/etc/kubernetes, OUT/var/lib/kubelet and
#          OUT/var/lib/etcd, those that exist (copied with their modes), OUT/steps/<n>.out|.err|.rc|.ms for each step, and
#          OUT/other-writes.txt listing every other path the steps wrote under /etc or /var/lib.
#   SEED   "-" or a directory whose etc/kubernetes and var/lib/kubelet are copied in first (with modes).
#   STEPS  a file with one command per line, its arguments separated by TABs. Every step runs, whatever
#          the exit code of the one before, with stdin from /dev/null and umask 022.
#
# How: /etc and /var/lib are covered by overlay mounts whose upper layers live on a tmpfs private to the
# namespace. Inside, /etc/kubernetes, /var/lib/kubelet and /var/lib/etcd are then removed (only from the
# namespace's view: the overlay records a whiteout on its tmpfs), so every run starts from a fresh node and the
# commands create those directories themselves, with their own modes; the host's directories are never touched.
# Needs root (mount); nothing here is part of kubeboot.
set -euo pipefail

if [ "${KUBEBOOT_ORACLE_NS:-}" != inside ]; then
  [ $# -eq 3 ] || { echo "usage: $0 OUT SEED STEPS" >&2; exit 64; }
  exec unshare --mount --net --propagation private env KUBEBOOT_ORACLE_NS=inside bash "$0" "$@"
fi

out=$1 seed=$2 steps=$3
umask 022
mkdir -p "$out/steps"
stage=$out/.stage
mkdir -p "$stage"
mount -t tmpfs -o mode=0700 oracle-stage "$stage"
for parent in /etc /var/lib; do
  mkdir -p "$stage/upper$parent" "$stage/work$parent"
  mount -t overlay oracle-overlay \
    -o "lowerdir=$parent,upperdir=$stage/upper$parent,workdir=$stage/work$parent" "$parent"
done
# never remove anything unless both overlays are in place
for parent in /etc /var/lib; do
  fstype=$(findmnt -n -o FSTYPE --mountpoint "$parent" | tail -n 1)
  [ "$fstype" = overlay ] || { echo "$0: $parent is not covered by the overlay ($fstype); stopping" >&2; exit 70; }
done
rm -rf /etc/kubernetes /var/lib/kubelet /var/lib/etcd

if [ "$seed" != - ]; then
  for d in etc/kubernetes var/lib/kubelet; do
    if [ -d "$seed/$d" ]; then
      mkdir -p "/${d%/*}"
      cp -a "$seed/$d" "/${d%/*}/"
    fi
  done
fi

n=0
while IFS= read -r line || [ -n "$line" ]; do
  [ -n "$line" ] || continue
  n=$((n + 1))
  IFS=$'\t' read -r -a argv <<<"$line"
  rc=0
  t0=$(date +%s%N)
  "${argv[@]}" </dev/null >"$out/steps/$n.out" 2>"$out/steps/$n.err" || rc=$?
  echo "$rc" >"$out/steps/$n.rc"
  echo $(( ($(date +%s%N) - t0) / 1000000 )) >"$out/steps/$n.ms"
done <"$steps"

for d in etc/kubernetes var/lib/kubelet var/lib/etcd; do
  if [ -e "/$d" ]; then
    mkdir -p "$out/${d%/*}"
    cp -a "/$d" "$out/${d%/*}/"
  fi
done
# every other path written under /etc or /var/lib (the overlays' upper layers), for the test to judge
# (whiteouts, the character devices of removed paths, are not writes)
(cd "$stage/upper" && find . -mindepth 1 -not -type c \
  -not -path './etc/kubernetes' -not -path './etc/kubernetes/*' \
  -not -path './var/lib/kubelet' -not -path './var/lib/kubelet/*' \
  -not -path './var/lib/etcd' -not -path './var/lib/etcd/*' \
  -not -path './etc' -not -path './var' -not -path './var/lib' -printf '/%P (%y %#m)\n' | sort) >"$out/other-writes.txt"

umount /var/lib /etc
umount "$stage"
rmdir "$stage"
