# shellcheck shell=bash
# need TOOL...: stops at once, naming every missing toolchain the calling script expects.
# Sourced by the README's two commands (e2e/local-stack.sh, e2e/test.sh) and their parts.
need() {
  local missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    echo "$(basename "$0"): missing ${missing[*]} (see README.md, \"What a machine needs\")" >&2
    exit 1
  fi
}
