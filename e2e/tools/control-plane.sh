#!/usr/bin/env bash
# Builds, once per machine, the pieces of a real Kubernetes control plane from the Go
# module proxy into the cache, and prints the directory holding them:
#   kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes),
#   etcd (go.etcd.io/etcd/server/v3), kwok (fake nodes), helm;
#   with `node` as argument also kubelet, kube-proxy and kubectl (for e2e/local/node.sh).
# k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces the k8s.io/* staging
# modules with local paths), so it is built inside a throwaway module that requires it
# and maps each staging module to its published v0.X.Y release. Nothing is kept in the repo.
set -euo pipefail

k8s="${K8S_VERSION:-1.36.3}"
etcd="${ETCD_VERSION:-3.6.8}"
kwok="${KWOK_VERSION:-0.8.0}"
helm="${HELM_VERSION:-4.3.1}"
out="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/bin/k8s-v$k8s"
mkdir -p "$out"
export GOFLAGS=-mod=mod

have() { [ -x "$out/$1" ]; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

kube=(kube-apiserver kube-controller-manager kube-scheduler)
[ "${1:-}" != node ] || kube+=(kubelet kube-proxy kubectl)
missing=()
for cmd in "${kube[@]}"; do have "$cmd" || missing+=("$cmd"); done
if ((${#missing[@]})); then
  echo "building Kubernetes v$k8s: ${missing[*]} (first time only; long)" >&2
  mod=$(go mod download -json "k8s.io/kubernetes@v$k8s" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  minor=${k8s#*.}
  {
    echo "module microshop.dev/control-plane"
    echo "go $(sed -n 's/^go //p' "$mod")"
    echo "require k8s.io/kubernetes v$k8s"
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 v0.'"$minor"'#p' "$mod"
  } >"$work/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${missing[@]}"
    printf ')\n'
  } >"$work/tools.go"
  (cd "$work" && go mod tidy -e >&2)
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$k8s \
    -X k8s.io/component-base/version.gitMajor=${k8s%%.*} \
    -X k8s.io/component-base/version.gitMinor=${minor%%.*} \
    -X k8s.io/client-go/pkg/version.gitVersion=v$k8s"
  for cmd in "${missing[@]}"; do
    (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd" >&2)
  done
fi

if ! have etcd; then
  echo "building etcd v$etcd" >&2
  mkdir -p "$work/etcd" && cd "$work/etcd"
  printf 'module microshop.dev/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$etcd" >go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >tools.go
  go mod tidy -e >&2
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3 >&2
  cd - >/dev/null
fi

have kwok || GOBIN="$out" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$kwok" >&2
have helm || GOBIN="$out" go install -trimpath -ldflags "-s -w" "helm.sh/helm/v4/cmd/helm@v$helm" >&2
echo "$out"
