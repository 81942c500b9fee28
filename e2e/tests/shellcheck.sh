#!/usr/bin/env bash
# Runs shellcheck (Debian's package, installed when missing) over every shell script of the
# repository: everything under e2e/ and .ci/run. `-x` follows what the scripts source.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v shellcheck >/dev/null; then
  echo "installing shellcheck"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq shellcheck >/dev/null
fi

scripts=()
while IFS= read -r -d '' script; do
  scripts+=("$script")
done < <(find e2e -name '*.sh' -not -path '*/artifacts/*' -not -path '*/node_modules/*' -print0 | sort -z)
scripts+=(.ci/run)

shellcheck -x "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
