#!/usr/bin/env bash
# The kind end-to-end test (DESIGN.md, tests tier 5), what .github/workflows/e2e.yaml runs:
# e2e/kind/up.sh brings a shop up in a new kind cluster (images built and loaded, the
# chart installed, e2e/kind/shop.yaml Ready), then a smoke scenario runs against it:
# the frontend's page on the host's 8080 (e2e/kind/kind-config.yaml's port mapping of its NodePort)
# and through a port-forward, the products through the gateway, the services' traces in
# the shop's Jaeger; then the local stack's API scenarios (e2e/tests/scenarios) through the
# gateway and the browser purchase (e2e/tests/browser) through the frontend. Whatever happens,
# the logs of every pod, the events and the Shops are collected into $KIND_E2E_LOGS
# (default e2e/artifacts/kind) and the cluster is deleted (KEEP_CLUSTER=1 keeps it).
#
# Needs docker, kubectl, helm, curl, python3, node and Go (kind is built with `go install`
# when missing; chromium comes from apt).
set -euo pipefail
cd "$(dirname "$0")/../.."

KIND="$(e2e/tools/kind.sh)"
export KIND
CLUSTER="$(sed -n 's/^name: *//p' e2e/kind/kind-config.yaml)"
NAMESPACE="${SHOP_NAMESPACE:-shop}"
export SHOP_NAMESPACE="$NAMESPACE"
SHOP=demo
LOGS="${KIND_E2E_LOGS:-$PWD/e2e/artifacts/kind}"
rm -rf "$LOGS"
mkdir -p "$LOGS/pods"
forwards=()

collect_logs() {
  "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER" || return 0
  echo "collecting logs into $LOGS"
  kubectl get shop -A -o yaml >"$LOGS/shops.yaml" 2>&1 || true
  kubectl get events -A --sort-by=.lastTimestamp >"$LOGS/events.txt" 2>&1 || true
  kubectl get all,networkpolicy,configmap,secret,serviceaccount,pvc -A -o wide \
    >"$LOGS/objects.txt" 2>&1 || true
  kubectl describe pods -A >"$LOGS/pods-described.txt" 2>&1 || true
  kubectl get pods -A --no-headers -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name \
    2>/dev/null | while read -r ns pod; do
    kubectl logs -n "$ns" "$pod" --all-containers --prefix --timestamps \
      >"$LOGS/pods/$ns.$pod.log" 2>&1 || true
    # A container that restarted: what it said before it died.
    kubectl logs -n "$ns" "$pod" --all-containers --prefix --timestamps --previous \
      >"$LOGS/pods/$ns.$pod.previous.log" 2>/dev/null || rm -f "$LOGS/pods/$ns.$pod.previous.log"
  done
  "$KIND" export logs "$LOGS/kind" --name "$CLUSTER" >/dev/null 2>&1 || true
}

cleanup() {
  local status=$?
  set +e
  for pid in "${forwards[@]}"; do kill "$pid" 2>/dev/null; done
  collect_logs
  if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
    echo "keeping the cluster $CLUSTER (KEEP_CLUSTER=1)"
  else
    "$KIND" delete cluster --name "$CLUSTER"
  fi
  if [ "$status" = 0 ]; then echo "kind e2e: passed"; else echo "kind e2e: FAILED ($status); logs in $LOGS" >&2; fi
  exit "$status"
}
trap cleanup EXIT

# A run starts from a new cluster: nothing left from an earlier one is trusted.
if "$KIND" get clusters | grep -qx "$CLUSTER"; then
  "$KIND" delete cluster --name "$CLUSTER"
fi
e2e/kind/up.sh

# forward SERVICE LOCAL_PORT REMOTE_PORT: a port-forward for the rest of the run.
forward() {
  kubectl -n "$NAMESPACE" port-forward "svc/$SHOP-$1" "$2:$3" >"$LOGS/port-forward-$1.log" 2>&1 &
  forwards+=("$!")
}
# fetch URL: the body, once the address answers (a port-forward takes a moment).
fetch() {
  curl -fsS --retry 20 --retry-connrefused --retry-delay 2 --max-time 10 "$1"
}

# Bodies are read whole before they are searched: `curl | grep -q` can fail with SIGPIPE.
echo "smoke: the frontend's home page on the host's 8080 (NodePort 30080)"
page="$(fetch http://127.0.0.1:8080/)"
grep -qi "<html" <<<"$page" || { echo "no page on :8080" >&2; exit 1; }

forward frontend 18080 80
forward gateway 18000 8080
forward jaeger 16686 16686

echo "smoke: the frontend's home page through a port-forward"
page="$(fetch http://127.0.0.1:18080/)"
echo "$page" >"$LOGS/home.html"
grep -qi "<html" <<<"$page" || { echo "no page from the frontend" >&2; exit 1; }

echo "smoke: GET /api/v1/products through the gateway"
products="$(fetch 'http://127.0.0.1:18000/api/v1/products?per_page=5')"
echo "$products" >"$LOGS/products.json"
grep -q '"items"' <<<"$products" || { echo "unexpected products answer: $products" >&2; exit 1; }

echo "smoke: the catalog's traces reach the shop's Jaeger"
for _ in $(seq 30); do
  services="$(fetch http://127.0.0.1:16686/api/services || true)"
  grep -q '"catalog"' <<<"$services" && break
  sleep 2
done
echo "$services" >"$LOGS/jaeger-services.json"
grep -q '"catalog"' <<<"$services" || { echo "no catalog traces in Jaeger: $services" >&2; exit 1; }

echo "scenarios: the local stack's API scenarios through the cluster's gateway"
python3 e2e/tests/scenarios/scenarios.py --api http://127.0.0.1:18000/api/v1

echo "scenarios: a headless-Chromium purchase through the cluster's frontend"
e2e/tests/browser/run.sh http://127.0.0.1:18080 "$LOGS/screenshots"

kubectl -n "$NAMESPACE" get shop "$SHOP" -o wide
