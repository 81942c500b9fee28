#!/usr/bin/env bash
# The operator and its chart against a real API server (operator/tests/cluster): builds
# the tests, starts the control plane of e2e/local/cluster.sh, runs them, and always tears the
# cluster down again. On failure it prints the end of every component's log first.
#
#   CLUSTER_TEST_THREADS   tests run at once (default 4)
#   CLUSTER_TEST_TIMEOUT   seconds the tests may take (default 1200)
#   CLUSTER_STATE, CLUSTER_*_PORT   passed on to e2e/local/cluster.sh (a second cluster)
set -euo pipefail
cd "$(dirname "$0")/../.."

threads="${CLUSTER_TEST_THREADS:-4}"
limit="${CLUSTER_TEST_TIMEOUT:-1200}"
logs="${CLUSTER_STATE:-${MICROSHOP_CACHE:-$HOME/.cache/microshop}/cluster}/logs"

# Compile before the cluster starts, so it is not kept waiting. `--workspace` (only the
# operator has a `cluster` test) resolves features as `cargo test --workspace` did, so
# e2e/test.sh reuses what it built.
echo "== cargo test --test cluster --no-run"
cargo test --workspace --test cluster --locked --no-run

finish() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -d "$logs" ]; then
    for log in "$logs"/*.log; do
      [ "$(basename "$log")" = audit.log ] && continue
      echo "== the end of $log"
      tail -n 40 "$log"
    done
  fi
  ./e2e/local/cluster.sh down || true
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT TERM

echo "== e2e/local/cluster.sh up"
# The first time on a machine this builds the control plane from the Go module proxy.
timeout 3600 ./e2e/local/cluster.sh up
eval "$(./e2e/local/cluster.sh env)"

echo "== cargo test --test cluster (against $KUBECONFIG)"
timeout -k 30 "$limit" cargo test --workspace --test cluster --locked -- \
  --ignored --test-threads="$threads"
