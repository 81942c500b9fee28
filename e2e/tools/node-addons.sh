#!/usr/bin/env bash
# Builds, once per machine, what a real node needs beside Kubernetes' own binaries, into
# the cache, and prints the directory holding them:
#   pause                   the sandbox's init, Kubernetes' build/pause/linux/pause.c
#                           (from the k8s.io/kubernetes module) with `gcc -static`
#   coredns                 cluster DNS (github.com/coredns/coredns)
#   local-path-provisioner  PersistentVolumes in a host directory (rancher's)
#   kube-router             its NetworkPolicy controller only (iptables and ipsets on the
#                           host); the only version the Go module proxy serves, v2.1.0:
#                           README.md "NetworkPolicies on the node" says why its reported
#                           flaws do not reach the way the node runs it
# No image can be pulled on these machines: e2e/local/node.sh wraps the first three in an
# image itself and runs kube-router on the host.
set -euo pipefail

k8s="${K8S_VERSION:-1.36.3}"
coredns="${COREDNS_VERSION:-1.15.0}"
local_path="${LOCAL_PATH_VERSION:-0.0.30}"
kube_router="${KUBE_ROUTER_VERSION:-2.1.0}"
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
# A host process, static too (it runs iptables, ipset and nothing of the C library).
have kube-router ||
  GOBIN="$out" go install -trimpath \
    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$kube_router" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@v$kube_router" >&2
echo "$out"
