#!/usr/bin/env bash
# The shop's images without a Docker engine: one per target of the Dockerfile (the eight
# services and the operator), from the workspace's release binaries, with buildah
# (e2e/lib/image.sh), named {registry}/{program}:{workspace version}.
#
#   e2e/local/images.sh build    cargo build --release, then the images; prints "REF ARCHIVE" a line
#   e2e/local/images.sh check    the test: each image has its Dockerfile target's user, entrypoint,
#                          command, environment, ports and program (the same bytes as the
#                          release binary), and the runtime's files
#
# The runtime stage's base (distroless cc-debian12:nonroot) cannot be pulled here: its part
# is made from this Debian 12 machine's files, what distroless/cc holds for a Rust program:
# glibc and libgcc (what ldd names), CA certificates, /etc/passwd with nonroot (65532),
# /tmp, /home/nonroot. REGISTRY defaults to microshop.test: images built here, selected by
# the Shop's imageRegistry.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=e2e/lib/image.sh
source "$root/e2e/lib/image.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${MICROSHOP_CACHE:-$HOME/.cache/microshop}/target}"
registry="${REGISTRY:-microshop.test}"
dockerfile="$root/Dockerfile"
release="$CARGO_TARGET_DIR/release"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")

# The Dockerfile's instructions, one "STAGE INSTRUCTION ARGUMENTS" a line.
instructions() {
  awk 'toupper($1) == "FROM" { stage = ($3 == "AS" || $3 == "as") ? $4 : "" }
       /^[A-Z]+ / && stage != "" { $0 = stage " " $0; print }' "$dockerfile"
}

# The targets built from the runtime stage: the programs.
targets() { instructions | awk '$2 == "FROM" && $3 == "runtime" { print $1 }'; }

# of STAGE INSTRUCTION: the arguments of STAGE's instruction (runtime's when STAGE lacks it).
of() {
  local found
  found=$(instructions | awk -v s="$1" -v i="$2" '$1 == s && $2 == i { $1 = ""; $2 = ""; sub(/^  /, ""); print }')
  [ -n "$found" ] || found=$(instructions | awk -v i="$2" '$1 == "runtime" && $2 == i { $1 = ""; $2 = ""; sub(/^  /, ""); print }')
  echo "$found"
}

runtime_tree() {
  local tree=$1 program=$2
  install -d -m 755 "$tree/etc/ssl/certs" "$tree/home/nonroot" "$tree/usr/local/bin"
  install -d -m 1777 "$tree/tmp"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$tree/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$tree/etc/group"
  cp /etc/ssl/certs/ca-certificates.crt "$tree/etc/ssl/certs/"
  install -m 755 "$program" "$tree/usr/local/bin/"
  tree_libs "$tree"
  chmod -R go+rX "$tree"
}

build() {
  (cd "$root" && cargo build --release --locked --workspace --bins >&2)
  local target tree archive entrypoint cmd
  for target in $(targets); do
    tree=$(mktemp -d) && chmod 755 "$tree"
    runtime_tree "$tree" "$release/$target"
    entrypoint=$(of "$target" ENTRYPOINT)
    cmd=$(of "$target" CMD)
    local options=(--user "$(of "$target" USER)" --entrypoint "$entrypoint" --cmd "${cmd:-[]}")
    for env in $(of "$target" ENV); do options+=(--env "$env"); done
    # As docker build records EXPOSE: with its protocol.
    for port in $(of "$target" EXPOSE); do options+=(--port "${port%/tcp}/tcp"); done
    archive=$(image_archive "$registry/$target:$version" "$tree" "${options[@]}")
    rm -rf "$tree"
    echo "$registry/$target:$version $archive"
  done
}

# ---- the test ------------------------------------------------------------------------------

failures=0
expect() {
  local what=$1 want=$2 got=$3
  if [ "$want" != "$got" ]; then
    echo "FAIL: $what: the Dockerfile says $want, the image has $got" >&2
    failures=$((failures + 1))
  fi
}

# layer_file ARCHIVE PATH: the file's bytes from the image's layers (the last one wins).
layer_file() {
  local layer
  for layer in $(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[]'); do
    tar -xOf "$1" "$layer" | tar -xOf - "${2#/}" 2>/dev/null || true
  done
}

layer_listing() {
  local layer
  for layer in $(tar -xOf "$1" manifest.json | jq -r '.[0].Layers[]'); do
    tar -xOf "$1" "$layer" | tar -tvf -
  done
}

each_image_matches_its_dockerfile_target() {
  local ref archive target config program listing cmd
  while read -r ref archive; do
    target=${ref##*/}
    target=${target%%:*}
    config=$(image_config "$archive")
    expect "$target user" "$(of "$target" USER)" "$(jq -r '.User' <<<"$config")"
    expect "$target entrypoint" "$(of "$target" ENTRYPOINT | jq -c .)" "$(jq -c '.Entrypoint' <<<"$config")"
    cmd=$(of "$target" CMD)
    cmd=${cmd:-null}
    expect "$target command" "$(jq -c . <<<"$cmd")" \
      "$(jq -c '.Cmd // null' <<<"$config")"
    expect "$target ports" "$(of "$target" EXPOSE | tr ' ' '\n' | sed 's#^\([0-9]*\)$#\1/tcp#' | sort | paste -sd,)" \
      "$(jq -r '.ExposedPorts // {} | keys | join(",")' <<<"$config")"
    for env in $(of "$target" ENV); do
      jq -e --arg e "$env" '.Env | index($e)' <<<"$config" >/dev/null ||
        expect "$target environment" "$env" "$(jq -c '.Env' <<<"$config")"
    done
    program=$(of "$target" COPY | awk '{ print $NF }')
    expect "$target $program" "$(sha256sum <"$release/$target" | cut -d' ' -f1)" \
      "$(layer_file "$archive" "$program" | sha256sum | cut -d' ' -f1)"
    listing=$(layer_listing "$archive")
    for file in etc/passwd etc/ssl/certs/ca-certificates.crt lib64/ld-linux-x86-64.so.2; do
      grep -q " $file\( \|$\)" <<<"$listing" || expect "$target runtime file" "$file" "none"
    done
    grep -q '^drwxrwxrwt .* tmp/$' <<<"$listing" || expect "$target /tmp" "drwxrwxrwt" "other"
    layer_file "$archive" /etc/passwd | grep -q '^nonroot:x:65532:65532:' ||
      expect "$target passwd" "nonroot 65532" "none"
  done < <(build)
  ((failures == 0)) || return 1
  echo "images: each of $(targets | wc -l) images matches its Dockerfile target"
}

case "${1:-}" in
  build) build ;;
  check) each_image_matches_its_dockerfile_target ;;
  *)
    echo "usage: $0 build|check" >&2
    exit 2
    ;;
esac
