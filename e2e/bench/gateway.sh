#!/usr/bin/env bash
# Benchmark: what the gateway costs (e2e/bench/gateway.py). Catalog by id and cart reads,
# straight to the service and through the gateway running krakend/'s configuration, for
# the stand-in and, when KRAKEND_BIN names a KrakenD binary, the real KrakenD, in one
# run. Not a test: numbers depend on the machine. BENCH_SECONDS and BENCH_CONNECTIONS
# tune it; --access-log keeps the gateway's access log on.
set -euo pipefail
cd "$(dirname "$0")/../.."
./e2e/local/stores.sh
command -v wrk >/dev/null || { sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -p catalog -p cart
cache="${MICROSHOP_CACHE:-$HOME/.cache/microshop}"
(cd e2e/local/stand-in-gateway && go build -o "$cache/bin/krakend-stand-in" .)
target_dir="${CARGO_TARGET_DIR:-target}"
exec python3 e2e/bench/gateway.py --bin-dir "$target_dir/release" \
  --stand-in "$cache/bin/krakend-stand-in" ${KRAKEND_BIN:+--krakend "$KRAKEND_BIN"} "$@"
