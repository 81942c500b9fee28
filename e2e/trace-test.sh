#!/usr/bin/env bash
# One purchase is one trace: starts the local stack with Jaeger (e2e/local-stack.sh
# --traces), buys through the pages and checks the trace and the logs
# (e2e/trace/purchase_trace.py). Pass --picture FILE.svg to also draw the trace.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_DIR=$(mktemp -d)
export LOG_DIR
./e2e/local-stack.sh --traces >"$LOG_DIR/stack.out" 2>&1 &
stack=$!
finish() {
  kill -TERM "$stack" 2>/dev/null || true
  wait "$stack" 2>/dev/null || true
}
trap finish EXIT

for _ in $(seq 1800); do
  grep -q "microshop is up" "$LOG_DIR/stack.out" && break
  kill -0 "$stack" 2>/dev/null || { cat "$LOG_DIR/stack.out"; exit 1; }
  sleep 1
done
grep -q "microshop is up" "$LOG_DIR/stack.out" || { cat "$LOG_DIR/stack.out"; exit 1; }

if ! python3 e2e/trace/purchase_trace.py "$LOG_DIR" "$@"; then
  tail -n 20 "$LOG_DIR"/*.log
  exit 1
fi
