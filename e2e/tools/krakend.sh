#!/usr/bin/env bash
# Builds KrakenD CE from its Go module into the cache (once per machine) and prints the
# binary's path. No KrakenD code or binary is kept in this repository.
set -euo pipefail
version="${KRAKEND_VERSION:-2.13.8}"
bin_dir="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/bin"
binary="$bin_dir/krakend-$version"
if [ ! -x "$binary" ]; then
  echo "building KrakenD CE $version from its Go module (first time only, several minutes)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  GOBIN="$work" GOFLAGS=-mod=mod go install \
    -ldflags "-X github.com/luraproject/lura/v2/core.KrakendVersion=$version" \
    "github.com/krakend/krakend-ce/v2/cmd/krakend-ce@v$version" >&2
  mkdir -p "$bin_dir"
  mv "$work/krakend-ce" "$binary"
fi
echo "$binary"
