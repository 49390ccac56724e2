#!/usr/bin/env bash
# Builds the real components that kubeboot's real-node tests run, from their Go modules, into a
# cache outside the repository, then makes the container images kubeadm's manifests name, with no
# registry. Test tooling only: nothing here is part of kubeboot.
#
#   bash test/real/build.sh            # build what is missing (a no-op when all is there)
#   KUBEBOOT_REAL_CACHE=/some/dir ...  # cache root (default: $HOME/.cache/kubeboot)
#
# The versions are the ones pinned in test/real/tools/go.mod (one module for all but crictl, so that
# the components share one version of each dependency and compile it once) and tools/crictl/go.mod
# (cri-tools 1.37 needs k8s.io 0.37 libraries; 1.36 is not served); image names and tags are asked
# of the kubeadm just built (`kubeadm config images list`), so they are kubeadm's own, and
# test/real/images.mjs makes one OCI image-layout tar per name (plus kubeboot.test/probe:latest).
# Needs, besides Go: node, tar, ldd, and the Debian packages iptables, nftables, conntrack (copied
# into the kube-proxy image), runc and containernetworking-plugins (used by the test nodes).
# Measured on the 2-core dev VM from an empty HOME (no Go caches): 954 s cold, downloads included; about 2 s warm.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=$here/tools
export PATH=/usr/local/go/bin:$PATH
export CGO_ENABLED=0
export GOFLAGS=-buildvcs=false
export GOTOOLCHAIN=local

modver() { # modver <module dir under tools> <module path>: the version that module's go.mod selects
  (cd "$tools/$1" && go list -m -f '{{.Version}}' "$2")
}

K8S_VERSION=$(modver . k8s.io/kubernetes)
ETCD_VERSION=$(modver . go.etcd.io/etcd/server/v3)
CONTAINERD_VERSION=$(modver . github.com/containerd/containerd/v2)
COREDNS_VERSION=$(modver . github.com/coredns/coredns)
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

# build <stamp name> <module dir under tools> <ldflags> <tags> <out:pkg>...
# One `go build` for the step's binaries (their links overlap the compiles), into a temp dir, then each renamed to
# <out> (go names a binary after the package path, "server" for go.etcd.io/etcd/server/v3). Skips the step when every
# output exists and the stamp (go.mod, go.sum, flags, Go version) is unchanged.
build() {
  local name=$1 dir=$2 ldflags=$3 tags=$4
  shift 4
  local key stamp=$cache/stamps/$name missing=0 pair pkgs=()
  key=$(cat "$tools/$dir/go.mod" "$tools/$dir/go.sum" <(printf '%s\n%s\n%s\n' "$ldflags" "$tags" "$*") <(go version) | sha256sum | cut -d' ' -f1)
  for pair in "$@"; do [ -x "$bin/${pair%%:*}" ] || missing=1; pkgs+=("${pair#*:}"); done
  if [ "$missing" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
    log "$name: up to date"
    return
  fi
  local s out=$bin/.build-$name
  s=$(date +%s)
  log "$name: building ${*%%:*} (go fetches the modules it lacks)"
  rm -rf "$out" && mkdir -p "$out"
  (cd "$tools/$dir" && go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
  local p made
  for pair in "$@"; do
    p=${pair#*:}
    made=${p##*/}
    [[ $made =~ ^v[0-9]+$ ]] && { made=${p%/*}; made=${made##*/}; }
    mv -f "$out/$made" "$bin/${pair%%:*}"
  done
  rmdir "$out"
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

# One set of build tags for every step in the shared module, so that a package common to two steps (gRPC and all
# that imports it, client-go, ...) compiles once: Kubernetes' own (selinux, notest), gRPC without x/net/trace, and
# containerd without the snapshotters the tests do not use (no_btrfs, no_devmapper, no_zfs; a no-op elsewhere).
TAGS=selinux,notest,grpcnotrace,no_btrfs,no_devmapper,no_zfs
KSRC=k8s.io/kubernetes/cmd
build kubernetes . "$(k8s_ldflags)" "$TAGS" \
  kubeadm:$KSRC/kubeadm kubelet:$KSRC/kubelet kube-apiserver:$KSRC/kube-apiserver \
  kube-controller-manager:$KSRC/kube-controller-manager kube-scheduler:$KSRC/kube-scheduler \
  kube-proxy:$KSRC/kube-proxy
build etcd . "-X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION -s -w" "$TAGS" \
  etcd:go.etcd.io/etcd/server/v3 etcdctl:go.etcd.io/etcd/etcdctl/v3
build containerd . "-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION -X github.com/containerd/containerd/v2/version.Revision=module -s -w" \
  "$TAGS" \
  containerd:github.com/containerd/containerd/v2/cmd/containerd \
  containerd-shim-runc-v2:github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
  ctr:github.com/containerd/containerd/v2/cmd/ctr
# CoreDNS's own server with the plugins the kubeadm Corefile names (tools/coredns/main.go says why)
build coredns . "-s -w" "$TAGS" coredns:./coredns
build crictl crictl "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION -s -w" "" \
  crictl:sigs.k8s.io/cri-tools/cmd/crictl
build helpers . "-s -w" "$TAGS" pause:./helpers/pause probe:./helpers/probe

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
