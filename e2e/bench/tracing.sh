#!/usr/bin/env bash
# Benchmark (not a test): what tracing costs. Catalog under wrk, and the whole order flow
# (flow-bench: checkout, relay, payment, shipping, email in one process), each run twice:
#   off  no OTEL_EXPORTER_OTLP_ENDPOINT: spans still get ids (for the logs), none exported;
#   on   every span exported (sampler always_on) over OTLP/HTTP to a live Jaeger.
# Prints a table with the ratio on/off. BENCH_SECONDS, BENCH_CONNECTIONS, FLOW_ORDERS tune it.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${BENCH_SECONDS:-10}"
connections="${BENCH_CONNECTIONS:-32}"
orders="${FLOW_ORDERS:-2000}"
pg="postgres://microshop:microshop@127.0.0.1:5432"
product=cast-iron-skillet

./e2e/local/stores.sh
command -v wrk >/dev/null || { sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
jaeger=$(./e2e/tools/jaeger.sh)
cargo build --release --locked -p catalog -p order-flow --bin catalog --bin flow-bench
bin="${CARGO_TARGET_DIR:-target}/release"
psql "$pg/microshop" -qc "DROP DATABASE IF EXISTS microshop_trace_bench" \
  -c "CREATE DATABASE microshop_trace_bench"

logs=$(mktemp -d)
"$jaeger" >"$logs/jaeger.log" 2>&1 &
jaeger_pid=$!
trap 'kill "$jaeger_pid" 2>/dev/null || true' EXIT
until curl -fs http://127.0.0.1:13133/status >/dev/null; do sleep 0.2; done

# mode_env MODE: the environment of a run.
mode_env() {
  if [ "$1" = on ]; then
    echo OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_TRACES_SAMPLER=always_on
  fi
}

declare -A catalog_rps catalog_p99 flow_accepted flow_paid
for mode in off on; do
  # shellcheck disable=SC2046 # mode_env's words are separate assignments
  env RUST_LOG=warn LOG_FORMAT=json PORT=18101 DATABASE_URL="$pg/microshop_trace_bench" \
    $(mode_env "$mode") "$bin/catalog" >"$logs/catalog-$mode.log" 2>&1 &
  catalog=$!
  until curl -fs http://127.0.0.1:18101/readyz >/dev/null; do sleep 0.2; done
  wrk -t2 -c"$connections" -d2s "http://127.0.0.1:18101/products/$product" >/dev/null
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:18101/products/$product")
  catalog_rps[$mode]=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  catalog_p99[$mode]=$(awk '$1 == "99%" {print $2}' <<<"$out")
  kill -TERM "$catalog"; wait "$catalog" || true

  # shellcheck disable=SC2046
  out=$(env RUST_LOG=warn DATABASE_URL="$pg/microshop" REDIS_URL=redis://127.0.0.1:6379 \
    AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2f $(mode_env "$mode") \
    "$bin/flow-bench" "$orders" 16)
  flow_accepted[$mode]=$(awk -F'|' '/checkouts accepted/ {gsub(/ /, "", $3); print $3}' <<<"$out")
  flow_paid[$mode]=$(awk -F'|' '/through to paid/ {gsub(/ /, "", $3); print $3}' <<<"$out")
done
spans=$(curl -fs http://127.0.0.1:16686/api/services)

ratio() { awk -v on="$1" -v off="$2" 'BEGIN {printf "%.2f", on / off}'; }
cat <<TXT

tracing cost, $(nproc) cores, wrk ${seconds}s × $connections connections, flow $orders orders × 16
| load | off | on (sampling 1.0, to Jaeger) | on ÷ off |
|---|---:|---:|---:|
| catalog GET /products/{id}, req/s | ${catalog_rps[off]} | ${catalog_rps[on]} | $(ratio "${catalog_rps[on]}" "${catalog_rps[off]}") |
| catalog p99 latency | ${catalog_p99[off]} | ${catalog_p99[on]} | |
| checkouts accepted, /s | ${flow_accepted[off]} | ${flow_accepted[on]} | $(ratio "${flow_accepted[on]}" "${flow_accepted[off]}") |
| orders through to paid, shipped, mailed, /s | ${flow_paid[off]} | ${flow_paid[on]} | $(ratio "${flow_paid[on]}" "${flow_paid[off]}") |
services Jaeger received spans from: $spans
TXT
