#!/usr/bin/env bash
# Benchmark: resident memory of the eight services (release builds), idle and idle again
# after a load; see memory.py. Starts the local stack on its usual ports, so stop a local
# stack already running first. Not a test: numbers depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 e2e/bench/memory.py "$@"
