#!/usr/bin/env bash
# Prints the path of a kind binary: the one on PATH if there is one, else kind built once
# per machine from its Go module into the cache. No kind code or binary is kept here.
set -euo pipefail
version="${KIND_VERSION:-0.33.0}"
if [ -z "${KIND_VERSION:-}" ] && command -v kind >/dev/null; then
  command -v kind
  exit 0
fi
bin_dir="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/bin"
binary="$bin_dir/kind-$version"
if [ ! -x "$binary" ]; then
  echo "building kind v$version from its Go module (first time only)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  GOBIN="$work" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@v$version" >&2
  mkdir -p "$bin_dir"
  mv "$work/kind" "$binary"
fi
echo "$binary"
