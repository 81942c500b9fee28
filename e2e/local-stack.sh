#!/usr/bin/env bash
# Starts the whole shop on this machine: the servers it needs (e2e/local/stores.sh), then every
# service built from this checkout, each on its local port. Waits until all are ready,
# prints the shop's URL, and stops everything on Ctrl-C. Each part logs to
# $LOG_DIR/<part>.log (JSON lines carrying trace ids).
#
#   --traces   also start Jaeger (built once from its Go module, e2e/tools/jaeger.sh),
#              send every service's traces to it and print its URL.
#   --release  run release builds of the services (what the images hold; slower to build).
#
# The gateway runs krakend/'s configuration (Flexible Configuration, settings/local):
# with the real KrakenD when KRAKEND_BIN names its binary, else with
# e2e/local/stand-in-gateway, a STAND-IN for KrakenD (built here with Go) that reads the same
# files and serves what they say. Its signing keys are made once into
# ~/.cache/microshop/gateway/keys (Ed25519, as the operator makes them in a cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=e2e/lib/need.sh
source e2e/lib/need.sh
need cargo go python3 curl

traces=false
profile=debug
for arg in "$@"; do
  case "$arg" in
    --traces) traces=true ;;
    --release) profile=release ;;
    *) echo "usage: $0 [--traces] [--release]" >&2; exit 2 ;;
  esac
done

cache="${MICROSHOP_CACHE:-$HOME/.cache/microshop}"
LOG_DIR="${LOG_DIR:-$cache/logs}"
mkdir -p "$LOG_DIR"
pg="postgres://microshop:microshop@127.0.0.1:5432"

./e2e/local/stores.sh
for db in catalog users orders payments shipping email; do
  psql "$pg/microshop" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
    || psql "$pg/microshop" -qc "CREATE DATABASE $db"
done

jaeger=""
if $traces; then
  jaeger=$(./e2e/tools/jaeger.sh)
fi

# The gateway: its keys, its settings (with an OTLP exporter when Jaeger runs), and the
# configuration checked as KrakenD would read it before anything starts.
repo=$PWD
stand_in="$cache/bin/krakend-stand-in"
(cd e2e/local/stand-in-gateway && go build -o "$stand_in" .)
gateway_dir="$cache/gateway"
if [ ! -s "$gateway_dir/keys/private.json" ]; then
  "$stand_in" keys -dir "$gateway_dir/keys" -kid microshop-gateway
fi
gateway_settings="$repo/krakend/settings/local"
if $traces; then
  gateway_settings="$gateway_dir/settings-traces"
  rm -rf "$gateway_settings" && mkdir -p "$gateway_settings"
  cp "$repo"/krakend/settings/local/*.json "$gateway_settings/"
  cat >"$gateway_settings/telemetry.json" <<'JSON'
{ "environment": "local", "sample_rate": 1.0, "otlp_host": "http://127.0.0.1", "otlp_port": 4318 }
JSON
fi
gateway_env=(FC_ENABLE=1 FC_SETTINGS="$gateway_settings" FC_TEMPLATES="$repo/krakend/templates")
gateway_bin="${KRAKEND_BIN:-$stand_in}"
gateway_name="stand-in gateway, not KrakenD"
if [ -n "${KRAKEND_BIN:-}" ]; then
  gateway_name="$("$KRAKEND_BIN" version 2>&1 | head -1 || true) at $KRAKEND_BIN"
fi
schema="$repo/../shared/krakend/schema-v2.13.json"
if [ -f "$schema" ]; then
  (cd "$gateway_dir" && env "${gateway_env[@]}" "$stand_in" check -c "$repo/krakend/krakend.tmpl" -s "$schema" >/dev/null)
fi
echo "building the services (first time: a few minutes)"
# SERVICES_BIN_DIR runs binaries built elsewhere (a benchmark comparing two builds).
bin="${SERVICES_BIN_DIR:-${CARGO_TARGET_DIR:-target}/$profile}"
if [ -z "${SERVICES_BIN_DIR:-}" ]; then
  release_flag=()
  if [ "$profile" = release ]; then release_flag=(--release); fi
  cargo build --locked "${release_flag[@]}" -p catalog -p cart -p identity -p checkout -p payment -p shipping -p email -p frontend
fi

pids=()
# shellcheck disable=SC2317  # stop and interrupted run from traps
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping microshop"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
}
# Ctrl-C or a TERM is the normal way to stop: everything stops, quietly.
# shellcheck disable=SC2317
interrupted() {
  stop
  exit 0
}
trap interrupted INT TERM
trap stop EXIT

telemetry=()
if $traces; then
  "$jaeger" >"$LOG_DIR/jaeger.log" 2>&1 &
  pids+=($!)
  telemetry=(OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318)
fi

# start NAME PORT VAR=value...: runs a service with its settings, logging to its file.
start() {
  local name=$1 port=$2; shift 2
  # The allocator setting of the images (Dockerfile): large blocks go back when freed.
  env PORT="$port" LISTEN_HOST=127.0.0.1 LOG_FORMAT="${LOG_FORMAT:-json}" \
    GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.mmap_threshold=1048576}" "${telemetry[@]}" "$@" "$bin/$name" \
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
# KrakenD reads the key files relative to its working directory (settings/local).
(cd "$gateway_dir" && exec env "${gateway_env[@]}" "$gateway_bin" run -c "$repo/krakend/krakend.tmpl") \
  >"$LOG_DIR/gateway.log" 2>&1 &
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
  public API      http://127.0.0.1:8000/api/v1/products   ($gateway_name)
TXT
if $traces; then
  cat <<TXT
  traces          http://127.0.0.1:16686/api/traces?service=frontend   (Jaeger's query API)
                  python3 e2e/tests/trace/picture.py <trace_id> trace.svg   draws one (a log line's trace_id)
TXT
fi
cat <<TXT
  metrics         http://127.0.0.1:<port>/metrics on each service (8101..8107, 8080)
  mails           http://127.0.0.1:8107/emails   (kept here unless SMTP_URL is set)
logs: $LOG_DIR/<service>.log
Ctrl-C stops everything.
TXT
wait -n "${pids[@]}" || true
echo "a part exited on its own; see $LOG_DIR"
exit 1
