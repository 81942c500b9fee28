#!/usr/bin/env bash
# Builds, once per machine, what a real node needs beside Kubernetes' own binaries, into
# the cache, and prints the directory holding them:
#   pause                   the sandbox's init, Kubernetes' build/pause/linux/pause.c
#                           (from the k8s.io/kubernetes module) with `gcc -static`
#   coredns                 cluster DNS (github.com/coredns/coredns)
#   local-path-provisioner  PersistentVolumes in a host directory (rancher's)
# No image can be pulled on these machines: e2e/local/node.sh wraps each in an image itself.
set -euo pipefail

k8s="${K8S_VERSION:-1.36.3}"
coredns="${COREDNS_VERSION:-1.15.0}"
local_path="${LOCAL_PATH_VERSION:-0.0.30}"
out="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/bin/node-addons"
mkdir -p "$out"

have() { [ -x "$out/$1" ]; }
# Static: each runs in an image holding nothing else.
export CGO_ENABLED=0

if ! have pause; then
  echo "building pause (k8s.io/kubernetes v$k8s)" >&2
  dir=$(go mod download -json "k8s.io/kubernetes@v$k8s" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  gcc -Os -static -Wall -Werror -DVERSION="v$k8s-microshop" -o "$out/pause" "$dir/build/pause/linux/pause.c"
  strip "$out/pause"
fi
have coredns || GOBIN="$out" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@v$coredns" >&2
have local-path-provisioner ||
  GOBIN="$out" go install -trimpath -ldflags "-s -w" "github.com/rancher/local-path-provisioner@v$local_path" >&2
echo "$out"
