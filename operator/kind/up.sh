#!/usr/bin/env bash
# The path a user's CI takes (DESIGN.md, tests tier 5): build the images, load them into a
# kind cluster (../../kind-config.yaml maps the frontend's NodePort 30080 to the host's
# 8080), install the operator with Helm, apply a Shop, wait until it is Ready, and ask the
# frontend for its home page.
#
# Needs docker, kind (>= 0.24, which enforces NetworkPolicies), helm and kubectl. None of
# them runs on the development machines of this project, so this script has NOT been run
# yet; it is the plan the kind issue starts from.
set -euo pipefail
cd "$(dirname "$0")/../.."

CLUSTER=microshop
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
REGISTRY=ghcr.io/microshop
BINARIES=(frontend catalog cart identity checkout payment shipping email operator)
THIRD_PARTY=(postgres:17 redis:7.4 rabbitmq:4.1 devopsfaith/krakend:2.13)

if ! kind get clusters | grep -qx "$CLUSTER"; then
  kind create cluster --config kind-config.yaml
fi

for bin in "${BINARIES[@]}"; do
  docker build --target "$bin" -t "$REGISTRY/$bin:$VERSION" .
  kind load docker-image --name "$CLUSTER" "$REGISTRY/$bin:$VERSION"
done
for image in "${THIRD_PARTY[@]}"; do
  docker pull "$image"
  kind load docker-image --name "$CLUSTER" "$image"
done

helm upgrade --install microshop-operator charts/microshop-operator \
  --namespace microshop-system --create-namespace \
  --set image.pullPolicy=Never --wait --timeout 5m

kubectl get namespace shop >/dev/null 2>&1 || kubectl create namespace shop
kubectl apply -n shop -f operator/kind/shop.yaml
kubectl -n shop wait --for=condition=Ready shop/demo --timeout=15m
kubectl -n shop get shop demo

curl -fsS --retry 10 --retry-connrefused --retry-delay 3 http://127.0.0.1:8080/ >/dev/null
echo "the shop answers on http://127.0.0.1:8080/"
