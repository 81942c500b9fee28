# shellcheck shell=bash
# OCI images without a Docker engine: Debian's buildah, daemonless, on the vfs storage
# driver (no overlay mounts to leave behind), with its storage in the cache. Sourced by
# e2e/local/node.sh and e2e/local/images.sh.
#
#   image_archive REF TREE [buildah config option...]
#     An image FROM scratch holding the files of directory TREE, configured by the
#     options (--user, --entrypoint, --port, --env, ...), as a docker-archive tarball for
#     `ctr images import`; prints the tarball's path. Built once per content: the name
#     carries a hash of the tree and the options.

image_cache="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/images"

buildah_() {
  buildah --storage-driver vfs --root "$image_cache/storage" --runroot "$image_cache/run" "$@"
}

image_archive() {
  local ref=$1 tree=$2 sum name archive container
  shift 2
  mkdir -p "$image_cache"
  sum=$({
    printf '%s\n' "$ref" "$@"
    tar -C "$tree" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - .
  } | sha256sum | cut -c1-16)
  name=$(printf '%s' "$ref" | tr '/:' '__')
  archive="$image_cache/$name-$sum.tar"
  if [ ! -s "$archive" ]; then
    echo "image: building $ref" >&2
    container=$(buildah_ from scratch)
    buildah_ copy --quiet "$container" "$tree" / >/dev/null
    buildah_ config "$@" "$container"
    buildah_ commit --quiet --rm "$container" "$ref" >/dev/null
    rm -f "$archive.part"
    buildah_ push --quiet "$ref" "docker-archive:$archive.part:$ref" >&2
    buildah_ rmi "$ref" >/dev/null
    # One archive per image: the previous content's goes.
    rm -f "$image_cache/$name"-*.tar
    mv "$archive.part" "$archive"
  fi
  echo "$archive"
}

# image_config ARCHIVE: the image's config (user, entrypoint, ports, env, ...) as JSON.
image_config() {
  local manifest config
  manifest=$(tar -xOf "$1" manifest.json)
  config=$(jq -r '.[0].Config' <<<"$manifest")
  tar -xOf "$1" "$config" | jq '.config'
}

# tree_add TREE PATH...: files and directories of this machine (from Debian's packages)
# into TREE at the same paths, symlinks kept, plus every shared library an ELF program
# among them links (ldd).
tree_add() {
  local tree=$1 file
  shift
  # tar, not cp --parents (which fails on the parents it makes, and makes them 0700).
  tar -C / -cf - "${@#/}" | tar -C "$tree" -xf -
  tree_libs "$tree"
}

# tree_libs TREE: every shared library that an ELF program or library in TREE links (a
# NIF or plugin .so too), and the loader.
tree_libs() {
  local tree=$1 file lib
  while read -r file; do
    # A static binary links nothing: ldd fails and grep finds no path, neither an error.
    { ldd "$file" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | while read -r lib; do
      [ -e "$tree$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$tree$lib"
    done
  done < <(find "$tree" -type f \( -perm -u+x -o -name '*.so*' \))
}

# tree_busybox TREE: a shell and the usual commands (Debian's busybox-static, one
# symlink per applet in /bin), for entrypoint scripts and exec probes.
tree_busybox() {
  local applet
  install -D -m 755 /bin/busybox "$1/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$1/bin/$applet" ] || ln -s busybox "$1/bin/$applet"
  done
}

# tree_users TREE NAME:UID...: /etc/passwd and /etc/group with root and these users, each
# with its group of the same id (the images' programs look their user up).
tree_users() {
  local tree=$1 entry
  shift
  install -d -m 755 "$tree/etc"
  echo 'root:x:0:0:root:/root:/sbin/nologin' >"$tree/etc/passwd"
  echo 'root:x:0:' >"$tree/etc/group"
  for entry; do
    echo "${entry%%:*}:x:${entry#*:}:${entry#*:}:${entry%%:*}:/nonexistent:/bin/sh" >>"$tree/etc/passwd"
    echo "${entry%%:*}:x:${entry#*:}:" >>"$tree/etc/group"
  done
}
