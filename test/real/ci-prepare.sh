#!/usr/bin/env bash
# Prepares a fresh CI machine for the real tier (test tooling; meant to be called from .ci/run before `npm test`):
# installs the Debian packages the build and the test nodes use, then builds the components and images into the
# cache (bash test/real/build.sh, a no-op when the cache is complete). Needs root, Go at /usr/local/go, and the
# Debian archive and Go module proxy. A cold build took 954 s (16 min) on the 2-core dev VM from an empty HOME.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
need=()
for pair in runc:/usr/sbin/runc iptables:/usr/sbin/xtables-nft-multi nftables:/usr/sbin/nft conntrack:/usr/sbin/conntrack \
  containernetworking-plugins:/usr/lib/cni/loopback util-linux:/usr/bin/unshare iproute2:/usr/sbin/ip; do
  [ -e "${pair#*:}" ] || need+=("${pair%%:*}")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "[real] installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
t0=$(date +%s)
bash "$here/build.sh"
echo "[real] components ready in $(( $(date +%s) - t0 )) s"
