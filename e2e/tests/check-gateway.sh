#!/usr/bin/env bash
# The gateway's configuration checked as KrakenD reads it, in every shape it runs in:
# krakend/ rendered with the local settings (with and without an OTLP exporter) and the
# kubernetes ones (with and without), each validated against KrakenD's own v2.13 JSON
# Schema (../shared/krakend/schema-v2.13.json) and for the traps the schema misses, by
# e2e/local/stand-in-gateway (whose Go tests run first, a broken configuration among them).
# Prints the stand-in binary's path last, for callers that need it.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=e2e/lib/need.sh
source e2e/lib/need.sh
need go
schema="$PWD/../shared/krakend/schema-v2.13.json"
[ -f "$schema" ] || { echo "check-gateway: KrakenD's schema is missing at $schema" >&2; exit 1; }
stand_in="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/bin/krakend-stand-in"

(
  cd e2e/local/stand-in-gateway
  unformatted=$(gofmt -l .)
  [ -z "$unformatted" ] || { echo "gofmt would change: $unformatted" >&2; exit 1; }
  go vet ./... >&2
  KRAKEND_SCHEMA="$schema" go test -count=1 ./... >&2
  go build -o "$stand_in" .
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# check NAME SETTINGS_DIR [TELEMETRY_JSON]: one environment's settings, checked.
check() {
  local name=$1 settings=$2 telemetry=${3:-}
  mkdir -p "$work/$name"
  cp "$settings"/gateway.json "$work/$name/"
  [ -z "$telemetry" ] || printf '%s\n' "$telemetry" >"$work/$name/telemetry.json"
  printf '  %-26s ' "$name" >&2
  FC_ENABLE=1 FC_SETTINGS="$work/$name" FC_TEMPLATES=krakend/templates \
    "$stand_in" check -c krakend/krakend.tmpl -s "$schema" >&2
}
echo "krakend/ against KrakenD's v2.13 schema and the known traps:" >&2
check local krakend/settings/local
check local-with-traces krakend/settings/local \
  '{"environment": "local", "sample_rate": 1.0, "otlp_host": "http://127.0.0.1", "otlp_port": 4318}'
check kubernetes krakend/settings/kubernetes "$(cat krakend/settings/kubernetes/telemetry.json)"
check kubernetes-without-traces krakend/settings/kubernetes
echo "$stand_in"
