#!/usr/bin/env bash
# Brings a shop up in a kind cluster, the path a user's CI takes (DESIGN.md, tests tier 5):
# the cluster from e2e/kind/kind-config.yaml (which maps the frontend's NodePort 30080 to the
# host's 8080), every image built from the Dockerfile and loaded into the node, the operator
# installed with Helm, e2e/kind/shop.yaml applied and waited on until Ready. Safe to run again:
# an existing cluster is reused, the images rebuilt, the release upgraded.
#
# Leaves the cluster running (`kind delete cluster --name microshop` removes it);
# e2e/kind/e2e.sh runs this, then a smoke test, collects the logs and deletes the cluster.
# Needs docker, kubectl, helm and Go (kind is built with `go install` when missing: e2e/tools/kind.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

KIND="${KIND:-$(e2e/tools/kind.sh)}"
CLUSTER="$(sed -n 's/^name: *//p' e2e/kind/kind-config.yaml)"
NAMESPACE="${SHOP_NAMESPACE:-shop}"
SHOP_FILE="${SHOP_FILE:-e2e/kind/shop.yaml}"
SHOP_NAME="$(sed -n 's/^  name: *//p' "$SHOP_FILE" | head -n1)"
# The tag the operator renders by default: its own version, the workspace's.
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
REGISTRY=ghcr.io/microshop
# Dockerfile targets; each image is {REGISTRY}/{target}:{VERSION}.
TARGETS=(frontend catalog cart identity checkout payment shipping email operator)
# The images the operator runs besides ours (operator/src/render: stores, gateway, Jaeger).
THIRD_PARTY=(postgres:17 redis:7.4 rabbitmq:4.1 devopsfaith/krakend:2.13 jaegertracing/jaeger:2.17.0)

for tool in docker kubectl helm; do
  command -v "$tool" >/dev/null || { echo "up.sh: $tool is needed" >&2; exit 1; }
done

if ! "$KIND" get clusters | grep -qx "$CLUSTER"; then
  "$KIND" create cluster --config e2e/kind/kind-config.yaml --wait 5m
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

for target in "${TARGETS[@]}"; do
  docker build --target "$target" -t "$REGISTRY/$target:$VERSION" .
  "$KIND" load docker-image --name "$CLUSTER" "$REGISTRY/$target:$VERSION"
done
for image in "${THIRD_PARTY[@]}"; do
  docker image inspect "$image" >/dev/null 2>&1 || docker pull "$image"
  "$KIND" load docker-image --name "$CLUSTER" "$image"
done

helm upgrade --install microshop-operator charts/microshop-operator \
  --namespace microshop-system --create-namespace \
  --set image.pullPolicy=Never --wait --timeout 5m

kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
# The pods of a shop meet the restricted Pod Security Standard: have the namespace enforce it.
kubectl label --overwrite namespace "$NAMESPACE" pod-security.kubernetes.io/enforce=restricted >/dev/null
kubectl apply -n "$NAMESPACE" -f "$SHOP_FILE"
kubectl -n "$NAMESPACE" wait --for=condition=Ready "shop/$SHOP_NAME" --timeout=15m
kubectl -n "$NAMESPACE" get shop "$SHOP_NAME"
