#!/usr/bin/env bash
# The test command: starts the servers the tests need (e2e/local/stores.sh), then checks
# formatting and the scripts, lints the gateway's configuration and tests its stand-in
# (e2e/tests/check-gateway.sh), runs clippy and every test of the workspace against the real
# servers, then the local stack end to end (e2e/tests/stack-test.sh: a purchase traced into
# Jaeger, the API scenarios through the gateway, a headless-Chromium purchase), then the
# operator's tests against a real control plane (e2e/tests/cluster-test.sh), then the shop
# installed with helm on a real one-node cluster (e2e/tests/node-test.sh). Jaeger, the
# Kubernetes binaries, CoreDNS and local-path are built from the Go module proxy into
# ~/.cache/microshop the first time. The last line says which parts passed, or which one failed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=e2e/lib/need.sh
source e2e/lib/need.sh
need cargo go python3 node npm curl

# part NAME COMMAND...: runs one part; the last line says which passed, or which failed.
passed=()
current=""
summary() {
  local status=$? list
  list=$(printf '%s; ' "${passed[@]}")
  list=${list%; }
  if ((status == 0)); then
    echo "test.sh: all ${#passed[@]} parts passed: $list"
  else
    echo "test.sh: FAILED in '${current:-setup}' (exit $status); passed before it: ${list:-none}"
  fi
}
trap summary EXIT
part() {
  current=$1; shift
  echo "== $current"
  "$@"
  passed+=("$current")
  current=""
}

part "stores" ./e2e/local/stores.sh
part "cargo fmt --check" cargo fmt --all -- --check
part "shellcheck" ./e2e/tests/shellcheck.sh
current="gateway configuration"
echo "== the gateway's configuration (krakend/) and its stand-in"
KRAKEND_STAND_IN=$(./e2e/tests/check-gateway.sh)
# The operator's tests render its ConfigMap with it and compare it with krakend/'s.
export KRAKEND_STAND_IN
passed+=("$current")
current=""
part "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
part "cargo test" cargo test --workspace --locked
part "local stack (trace, API scenarios, browser)" ./e2e/tests/stack-test.sh
part "cluster (operator and chart on a real API server)" ./e2e/tests/cluster-test.sh
part "real node (the shop installed with helm, on kubelet and containerd)" ./e2e/tests/node-test.sh
