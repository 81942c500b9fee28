#!/usr/bin/env bash
# Benchmark: catalog and cart under load (wrk), beside the ceiling of their stores on the
# same machine in the same run (pgbench, redis-benchmark). Prints a table; see bench.py.
# Not a test: numbers depend on the machine. BENCH_SECONDS and BENCH_CONNECTIONS tune it.
set -euo pipefail
cd "$(dirname "$0")/../.."
./e2e/local/stores.sh
command -v wrk >/dev/null || { sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -p catalog -p cart
target_dir="${CARGO_TARGET_DIR:-target}"
exec python3 e2e/bench/bench.py --bin-dir "$target_dir/release" "$@"
