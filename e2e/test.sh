#!/usr/bin/env bash
# The test command: starts the servers the tests need (e2e/stores.sh), then checks
# formatting, lints and the scripts, runs every test of the workspace against the real
# servers, then one purchase through the local stack traced into Jaeger
# (e2e/trace-test.sh), then the operator's tests against a real control plane
# (e2e/cluster-test.sh). Jaeger and the control plane are built from the Go module proxy
# into ~/.cache/microshop the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

./e2e/stores.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== shellcheck"
./e2e/shellcheck.sh
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== one purchase, one trace: the local stack with Jaeger"
./e2e/trace-test.sh
echo "== the operator and its chart against a real API server"
./e2e/cluster-test.sh
