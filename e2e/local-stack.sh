#!/usr/bin/env bash
# Starts the whole shop on this machine: the servers it needs (e2e/stores.sh), then every
# service built from this checkout, each on its local port. Waits until all are ready,
# prints the shop's URL, and stops everything on Ctrl-C. Each part logs to
# $LOG_DIR/<part>.log (JSON lines carrying trace ids).
#
#   --traces   also start Jaeger (built once from its Go module, e2e/tools/jaeger.sh),
#              send every service's traces to it and print its URL.
#
# The gateway: KrakenD CE cannot be built here (the Go module proxy refuses its module),
# so e2e/stand-in-gateway/gateway.py, a STAND-IN named as such, serves the same public
# routes in its place. The KrakenD configuration replaces it once KrakenD can be built.
set -euo pipefail
cd "$(dirname "$0")/.."

traces=false
for arg in "$@"; do
  case "$arg" in
    --traces) traces=true ;;
    *) echo "usage: $0 [--traces]" >&2; exit 2 ;;
  esac
done

cache="${MICROSHOP_CACHE:-$HOME/.cache/microshop}"
LOG_DIR="${LOG_DIR:-$cache/logs}"
mkdir -p "$LOG_DIR"
pg="postgres://microshop:microshop@127.0.0.1:5432"

./e2e/stores.sh
for db in catalog users orders payments shipping email; do
  psql "$pg/microshop" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
    || psql "$pg/microshop" -qc "CREATE DATABASE $db"
done

jaeger=""
if $traces; then
  jaeger=$(./e2e/tools/jaeger.sh)
fi
echo "building the services (first time: a few minutes)"
cargo build --locked -p catalog -p cart -p identity -p checkout -p payment -p shipping -p email -p frontend
bin="${CARGO_TARGET_DIR:-target}/debug"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping microshop"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

telemetry=()
if $traces; then
  "$jaeger" >"$LOG_DIR/jaeger.log" 2>&1 &
  pids+=($!)
  telemetry=(OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318)
fi

# start NAME PORT VAR=value...: runs a service with its settings, logging to its file.
start() {
  local name=$1 port=$2; shift 2
  env PORT="$port" LOG_FORMAT="${LOG_FORMAT:-json}" "${telemetry[@]}" "$@" "$bin/$name" \
    >"$LOG_DIR/$name.log" 2>&1 &
  pids+=($!)
}
start catalog 8101 DATABASE_URL="$pg/catalog"
start cart 8102 REDIS_URL=redis://127.0.0.1:6379 CATALOG_URL=http://127.0.0.1:8101
start identity 8103 DATABASE_URL="$pg/users"
amqp=amqp://guest:guest@127.0.0.1:5672/%2f
start checkout 8104 DATABASE_URL="$pg/orders" AMQP_URL="$amqp" \
  CART_URL=http://127.0.0.1:8102 CATALOG_URL=http://127.0.0.1:8101 SHIPPING_URL=http://127.0.0.1:8105
start shipping 8105 DATABASE_URL="$pg/shipping" AMQP_URL="$amqp"
start payment 8106 DATABASE_URL="$pg/payments" AMQP_URL="$amqp"
start email 8107 DATABASE_URL="$pg/email" AMQP_URL="$amqp" ${SMTP_URL:+SMTP_URL="$SMTP_URL"}
start frontend 8080 GATEWAY_URL=http://127.0.0.1:8000 \
  CSRF_SECRET="${CSRF_SECRET:-local-stack-$(hostname)}"
PORT=8000 python3 e2e/stand-in-gateway/gateway.py >"$LOG_DIR/gateway.log" 2>&1 &
pids+=($!)

wait_for() {
  for _ in $(seq 300); do
    curl -fs "$1" >/dev/null && return 0
    sleep 0.2
  done
  echo "$1 never answered; see $LOG_DIR"
  exit 1
}
for port in 8101 8102 8103 8104 8105 8106 8107 8080; do
  wait_for "http://127.0.0.1:$port/readyz"
done
wait_for http://127.0.0.1:8000/__health
if $traces; then wait_for http://127.0.0.1:13133/status; fi

cat <<TXT

microshop is up:  http://127.0.0.1:8080
  public API      http://127.0.0.1:8000/api/v1/products   (stand-in gateway, not KrakenD)
TXT
if $traces; then
  cat <<TXT
  traces          http://127.0.0.1:16686/api/traces?service=frontend   (Jaeger's query API)
                  python3 e2e/trace/picture.py <trace_id> trace.svg   draws one (a log line's trace_id)
TXT
fi
cat <<TXT
  metrics         http://127.0.0.1:<port>/metrics on each service (8101..8107, 8080)
  mails           http://127.0.0.1:8107/emails   (kept here unless SMTP_URL is set)
logs: $LOG_DIR/<service>.log
Ctrl-C stops everything.
TXT
wait -n "${pids[@]}" || true
echo "a part exited; see $LOG_DIR"
