#!/usr/bin/env bash
# Profile: catalog and cart under wrk, sampled by perf; flame graphs and a table of what
# each layer costs (see profile.py), into e2e/artifacts/profile. Needs perf (Debian's
# linux-perf) and inferno (cargo install inferno, into ~/.cache/microshop/tools).
set -euo pipefail
cd "$(dirname "$0")/../.."
./e2e/local/stores.sh
sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
command -v wrk >/dev/null || $sudo_cmd apt-get install -y -qq wrk >/dev/null
command -v perf >/dev/null || $sudo_cmd apt-get install -y -qq linux-perf >/dev/null
tools="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/tools"
if [ ! -x "$tools/bin/inferno-flamegraph" ]; then
  CARGO_TARGET_DIR="$tools/target" cargo install --locked --root "$tools" inferno
fi
export PATH="$tools/bin:$PATH"
target_dir="${CARGO_TARGET_DIR:-target}"
bin_dir="${BIN_DIR:-$target_dir/release}"
if [ -z "${BIN_DIR:-}" ]; then cargo build --release --locked -p catalog -p cart; fi
exec python3 e2e/bench/profile.py --bin-dir "$bin_dir" "$@"
