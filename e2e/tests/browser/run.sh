#!/usr/bin/env bash
# A purchase through the pages in headless Chromium (purchase.mjs). Installs what it needs
# outside the clone: playwright-core by `npm ci` into ~/.cache/microshop/browser (again
# when package-lock.json changed) and Debian's chromium when missing. playwright-core
# never downloads a browser; Debian's /usr/bin/chromium is the one driven.
#
#   e2e/tests/browser/run.sh [BASE_URL] [SCREENSHOT_DIR]
#     BASE_URL        the frontend (default http://127.0.0.1:8080)
#     SCREENSHOT_DIR  default e2e/artifacts/screenshots
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
base="${1:-http://127.0.0.1:8080}"
shots="${2:-$repo/e2e/artifacts/screenshots}"

prefix="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/browser"
if [ ! -d "$prefix/node_modules/playwright-core" ] \
  || ! cmp -s "$here/package-lock.json" "$prefix/package-lock.json"; then
  echo "installing playwright-core into $prefix"
  mkdir -p "$prefix"
  cp "$here/package.json" "$here/package-lock.json" "$prefix/"
  npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

MICROSHOP_BROWSER_MODULES="$prefix/node_modules" CHROMIUM=/usr/bin/chromium \
  node "$here/purchase.mjs" "$base" "$shots"
