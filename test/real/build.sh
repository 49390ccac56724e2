#!/usr/bin/env bash
# Builds the real components that kubeboot's real-node tests run, from their Go modules, into a
# cache outside the repository, then makes the container images kubeadm's manifests name, with no
# registry. Test tooling only: nothing here is part of kubeboot.
#
#   bash test/real/build.sh            # build what is missing (a no-op when all is there)
#   KUBEBOOT_REAL_CACHE=/some/dir ...  # cache root (default: $HOME/.cache/kubeboot)
#
# The versions are the ones pinned in test/real/tools/*/go.mod; image names and tags are asked
# of the kubeadm just built (`kubeadm config images list`), so they are kubeadm's own, and
# test/real/images.mjs makes one OCI image-layout tar per name (plus kubeboot.test/probe:latest).
# Needs, besides Go: node, tar, ldd, and the Debian packages iptables, nftables, conntrack (copied
# into the kube-proxy image), runc and containernetworking-plugins (used by the test nodes).
# Measured on the 2-core dev VM with the module cache filled: 54 min cold, about 2 s warm.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=$here/tools
export PATH=/usr/local/go/bin:$PATH
export CGO_ENABLED=0
export GOFLAGS=-buildvcs=false
export GOTOOLCHAIN=local

modver() { # modver <tools dir> <module path>: the version that go.mod pins
  (cd "$tools/$1" && go list -m -f '{{.Version}}' "$2")
}

K8S_VERSION=$(modver k8s k8s.io/kubernetes)
ETCD_VERSION=$(modver etcd go.etcd.io/etcd/server/v3)
CONTAINERD_VERSION=$(modver containerd github.com/containerd/containerd/v2)
COREDNS_VERSION=$(modver coredns github.com/coredns/coredns)
CRICTL_VERSION=$(modver crictl sigs.k8s.io/cri-tools)

# what the image step and the real-node tests need from the host, checked before a long build
missing=()
command -v go >/dev/null || missing+=("go (Go 1.26 at /usr/local/go/bin)")
command -v node >/dev/null || missing+=("node")
for t in tar ldd unshare nsenter ip; do command -v "$t" >/dev/null || missing+=("$t"); done
for t in xtables-nft-multi nft conntrack; do
  PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null || missing+=("$t (apt-get install -y iptables nftables conntrack)")
done
[ -x /usr/sbin/runc ] || missing+=("/usr/sbin/runc (apt-get install -y runc)")
[ -x /usr/lib/cni/loopback ] || missing+=("/usr/lib/cni (apt-get install -y containernetworking-plugins)")
if [ "${#missing[@]}" -gt 0 ]; then
  printf 'build.sh: missing: %s\n' "${missing[@]}" >&2
  exit 1
fi

root=${KUBEBOOT_REAL_CACHE:-$HOME/.cache/kubeboot}
cache=$root/k8s-$K8S_VERSION
bin=$cache/bin
mkdir -p "$bin" "$cache/images" "$cache/stamps"

log() { printf '[real-build %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
t0=$(date +%s)

# build <stamp name> <tools dir> <ldflags> <tags> <out:pkg>...
# Skips the step when every output exists and the stamp (go.sum + flags) is unchanged.
build() {
  local name=$1 dir=$2 ldflags=$3 tags=$4
  shift 4
  local key stamp=$cache/stamps/$name missing=0 pair
  key=$(cat "$tools/$dir/go.mod" "$tools/$dir/go.sum" <(printf '%s\n%s\n%s\n' "$ldflags" "$tags" "$*") <(go version) | sha256sum | cut -d' ' -f1)
  for pair in "$@"; do [ -x "$bin/${pair%%:*}" ] || missing=1; done
  if [ "$missing" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
    log "$name: up to date"
    return
  fi
  local s
  s=$(date +%s)
  log "$name: downloading modules"
  (cd "$tools/$dir" && go mod download)
  local b
  for pair in "$@"; do
    log "$name: building ${pair%%:*}"
    b=$(date +%s)
    (cd "$tools/$dir" && go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$bin/.${pair%%:*}.tmp" "${pair#*:}")
    mv -f "$bin/.${pair%%:*}.tmp" "$bin/${pair%%:*}"
    log "$name: ${pair%%:*} built in $(( $(date +%s) - b )) s"
  done
  printf '%s\n' "$key" >"$stamp"
  log "$name: built in $(( $(date +%s) - s )) s"
}

k8s_ldflags() {
  local major minor f=()
  major=${K8S_VERSION#v}; major=${major%%.*}
  minor=${K8S_VERSION#v*.}; minor=${minor%%.*}
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    f+=("-X $pkg.gitVersion=$K8S_VERSION" "-X $pkg.gitMajor=$major" "-X $pkg.gitMinor=$minor"
        "-X $pkg.gitTreeState=clean" "-X $pkg.buildDate=1970-01-01T00:00:00Z")
  done
  printf '%s -s -w' "${f[*]}"
}

KSRC=k8s.io/kubernetes/cmd
build kubernetes k8s "$(k8s_ldflags)" "selinux,notest,grpcnotrace" \
  kubeadm:$KSRC/kubeadm kubelet:$KSRC/kubelet kube-apiserver:$KSRC/kube-apiserver \
  kube-controller-manager:$KSRC/kube-controller-manager kube-scheduler:$KSRC/kube-scheduler \
  kube-proxy:$KSRC/kube-proxy
build etcd etcd "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION -s -w" "" \
  etcd:go.etcd.io/etcd/server/v3 etcdctl:go.etcd.io/etcd/etcdctl/v3
build containerd containerd "-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION -X github.com/containerd/containerd/v2/version.Revision=module -s -w" \
  "no_btrfs,no_devmapper,no_zfs" \
  containerd:github.com/containerd/containerd/v2/cmd/containerd \
  containerd-shim-runc-v2:github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
  ctr:github.com/containerd/containerd/v2/cmd/ctr
build coredns coredns "-s -w" "grpcnotrace" coredns:github.com/coredns/coredns
build crictl crictl "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION -s -w" "" \
  crictl:sigs.k8s.io/cri-tools/cmd/crictl
build helpers helpers "-s -w" "" pause:./pause probe:./probe

"$bin/kubelet" --version
log "binaries: $(du -sh "$bin" | cut -f1) in $bin"

# Images, named as this kubeadm names them.
if ! images=$("$bin/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>"$cache/stamps/kubeadm-images.err"); then
  log "kubeadm config images list failed: $(cat "$cache/stamps/kubeadm-images.err")"
  exit 1
fi
node "$here/images.mjs" --bin "$bin" --out "$cache/images" --kube-proxy-tools auto $images \
  kubeboot.test/probe:latest
printf '%s\n' "$images" >"$cache/images/kubeadm-images.txt"
log "images: $(du -sh "$cache/images" | cut -f1) in $cache/images"
log "done in $(( $(date +%s) - t0 )) s (cache: $cache)"
