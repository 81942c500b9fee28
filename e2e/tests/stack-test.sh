#!/usr/bin/env bash
# The local stack's tests (DESIGN.md's third layer): starts the stack once, with Jaeger
# (e2e/local-stack.sh --traces), then runs, in order:
#   1. e2e/tests/trace/purchase_trace.py  one purchase through the pages is one trace; its
#                                   arguments are this script's (e.g. --picture FILE.svg)
#   2. e2e/tests/scenarios/scenarios.py   HTTP scenarios against the public API
#                                   (http://127.0.0.1:8000/api/v1)
#   3. e2e/tests/browser/run.sh           a purchase in headless Chromium through the pages
#                                   (http://127.0.0.1:8080; screenshots in
#                                   e2e/artifacts/screenshots)
# and stops the stack. On a failure it prints the tail of every part's log.
set -euo pipefail
cd "$(dirname "$0")/../.."

LOG_DIR=$(mktemp -d)
export LOG_DIR
# The gateway's private key set (made by e2e/local-stack.sh): with it the scenarios sign an
# expired token correctly, so its refusal is for the expiry alone.
signing_jwks="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/gateway/keys/private.json"
python3 -c 'import cryptography' 2>/dev/null || {
  echo "installing python3-cryptography (the scenarios sign test tokens with it)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-cryptography >/dev/null
}

began=$SECONDS
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
echo "== stack up in $((SECONDS - began)) s (logs: $LOG_DIR)"

# part NAME COMMAND...: runs one part, timed; on failure shows the logs' tails and stops.
part() {
  local name=$1; shift
  local start=$SECONDS
  echo "== $name"
  if ! "$@"; then
    echo "== $name FAILED after $((SECONDS - start)) s; the logs' last lines:"
    tail -n 20 "$LOG_DIR"/*.log
    exit 1
  fi
  echo "== $name passed in $((SECONDS - start)) s"
}

part "purchase trace" python3 e2e/tests/trace/purchase_trace.py "$LOG_DIR" "$@"
part "API scenarios" python3 e2e/tests/scenarios/scenarios.py --api http://127.0.0.1:8000/api/v1 \
  --signing-jwks "$signing_jwks" \
  --restart-redis "redis-cli -h 127.0.0.1 -p 6379 shutdown && ./e2e/local/stores.sh"
part "browser purchase" ./e2e/tests/browser/run.sh http://127.0.0.1:8080
echo "== all passed in $((SECONDS - began)) s"
