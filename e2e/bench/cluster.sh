#!/usr/bin/env bash
# The operator's benchmark (operator/tests/cluster_bench): its release binary against the
# control plane of e2e/local/cluster.sh, as the chart's ServiceAccount. Prints the time from a
# Shop applied to its objects and to Ready, resident memory idle and with 20 and 100
# Shops, and API requests per reconcile. Not part of the test command: the numbers
# depend on the machine. The cluster is always torn down.
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "== cargo test --release --test cluster_bench --no-run"
cargo test --release -p operator --test cluster_bench --locked --no-run

trap './e2e/local/cluster.sh down || true' EXIT
./e2e/local/cluster.sh up
eval "$(./e2e/local/cluster.sh env)"
cargo test --release -p operator --test cluster_bench --locked -- --ignored --nocapture
