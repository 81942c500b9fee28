#!/usr/bin/env bash
# The test command: starts the servers the tests need (e2e/stores.sh), then checks
# formatting, lints and the scripts, runs every test of the workspace against the real
# servers, then the local stack end to end (e2e/stack-test.sh: a purchase traced into
# Jaeger, the API scenarios through the gateway, a headless-Chromium purchase), then the operator's tests against a real control plane
# (e2e/cluster-test.sh). Jaeger and the control plane are built from the Go module proxy
# into ~/.cache/microshop the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

./e2e/stores.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== shellcheck"
./e2e/shellcheck.sh
echo "== the gateway's configuration (krakend/) and its stand-in"
KRAKEND_STAND_IN=$(./e2e/check-gateway.sh)
# The operator's tests render its ConfigMap with it and compare it with krakend/'s.
export KRAKEND_STAND_IN
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== the local stack: one purchase one trace, API scenarios, a browser purchase"
./e2e/stack-test.sh
echo "== the operator and its chart against a real API server"
./e2e/cluster-test.sh
