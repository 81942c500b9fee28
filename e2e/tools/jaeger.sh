#!/usr/bin/env bash
# Builds Jaeger v2 (the `jaeger` program: an OpenTelemetry Collector distribution with an
# OTLP receiver, in-memory trace storage, the query API and the UI) from its Go module into
# the cache, once per machine, and prints the binary's path. Nothing is kept in the repo.
set -euo pipefail
version="${JAEGER_VERSION:-1.76.0}"
bin_dir="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/bin"
binary="$bin_dir/jaeger-$version"
if [ ! -x "$binary" ]; then
  echo "building Jaeger v$version from its Go module (first time only, several minutes)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (
    cd "$work"
    export GOFLAGS=-mod=mod
    go mod init microshop.dev/jaeger >&2
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@v$version" >&2
    go build -trimpath -ldflags "-s -w" -o "$work/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger >&2
  )
  mkdir -p "$bin_dir"
  mv "$work/jaeger" "$binary"
fi
echo "$binary"
