#!/usr/bin/env bash
# Test images for the third-party programs the operator runs, which cannot be pulled here:
# built from this machine's Debian packages (and the gateway stand-in, in place of
# KrakenD), each honouring the contract of the official image the operator renders for
# (../shared/OFFICIAL-IMAGES.md): user, environment, ports, data directory, the commands its
# probes run. Named microshop.test/test-*, so nobody takes them for the real ones; a Shop
# selects them with its per-component `image` overrides.
#
#   e2e/local/test-images.sh build [COMPONENT...]
#       prints "COMPONENT REF ARCHIVE" a line; COMPONENT as the Shop's spec names it:
#       userDb catalogDb redis rabbitmq jaeger gateway (all by default)
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=e2e/lib/image.sh
source "$root/e2e/lib/image.sh"
cache="${MICROSHOP_CACHE:-$HOME/.cache/microshop}"
here="$root/e2e/local/test-images"
pg=15
pg_bin=/usr/lib/postgresql/$pg/bin

packages() {
  local missing=()
  [ -x "$pg_bin/postgres" ] || missing+=("postgresql-$pg")
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v buildah >/dev/null || missing+=(buildah)
  if ((${#missing[@]})); then
    echo "test-images: installing Debian's ${missing[*]}" >&2
    apt-get update -qq
    # No cluster of the package's own: the image's entrypoint makes one in its volume.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/microshop.conf
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# image REF TREE OPTION...: "REF ARCHIVE".
image() { echo "$1 $(image_archive "$@")"; }

new_tree() {
  local tree
  tree=$(mktemp -d)
  chmod 755 "$tree"
  install -d -m 1777 "$tree/tmp"
  echo "$tree"
}

# postgres:17 — uid 999, PGDATA a subdirectory of the volume, initialised from the env on
# an empty PGDATA only, pg_isready and psql on PATH, port 5432, stop on SIGINT.
postgres() {
  local tree
  tree=$(new_tree)
  tree_users "$tree" postgres:999
  tree_busybox "$tree"
  # printenv: the operator's init script reads each role's password with it (coreutils
  # in the official image; Debian's busybox has no such applet).
  tree_add "$tree" "/usr/lib/postgresql/$pg" "/usr/share/postgresql/$pg" /usr/share/zoneinfo \
    /usr/bin/printenv
  install -D -m 755 "$here/postgres-entrypoint.sh" "$tree/usr/local/bin/docker-entrypoint.sh"
  install -d -m 2775 -o 999 -g 999 "$tree/var/run/postgresql"
  install -d -m 777 "$tree/var/lib/postgresql/data"
  image microshop.test/test-postgres:$pg "$tree" --user 999:999 \
    --env "PATH=/usr/local/bin:$pg_bin:/usr/bin:/bin" --env PGDATA=/var/lib/postgresql/data --env TZ=UTC \
    --entrypoint '["docker-entrypoint.sh"]' --cmd '["postgres"]' --port 5432 --stop-signal SIGINT
  rm -rf "$tree"
}

# redis:7.4 — uid 999, arguments as given (redis-server ...), writes only --dir (/data),
# redis-cli reading REDISCLI_AUTH, port 6379.
redis() {
  local tree
  tree=$(new_tree)
  tree_users "$tree" redis:999
  tree_busybox "$tree"
  tree_add "$tree" "$(readlink -f /usr/bin/redis-server)" /usr/bin/redis-server /usr/bin/redis-cli
  install -d -m 777 "$tree/data"
  image microshop.test/test-redis:7 "$tree" --user 999:999 --env PATH=/usr/bin:/bin \
    --workingdir /data --entrypoint '[]' --cmd '["redis-server"]' --port 6379
  rm -rf "$tree"
}

# rabbitmq:4.1 — uid 999 named rabbitmq, HOME=/var/lib/rabbitmq (cookie and database, the
# node named after the pod), RABBITMQ_DEFAULT_USER/PASS on an empty database (the server
# reads them), rabbitmq-diagnostics on PATH, ports 5672, 4369, 25672; logs to the console.
rabbitmq() {
  local tree server
  tree=$(new_tree)
  tree_users "$tree" rabbitmq:999
  tree_busybox "$tree"
  server=$(readlink -f /usr/lib/rabbitmq/lib/rabbitmq_server-*)
  tree_add "$tree" /usr/lib/erlang /usr/lib/rabbitmq
  install -D -m 644 /dev/stdin "$tree/etc/rabbitmq/conf.d/10-test-image.conf" <<'CONF'
loopback_users.guest = false
log.console = true
log.file = false
CONF
  echo '[].' | install -D -m 644 /dev/stdin "$tree/etc/rabbitmq/enabled_plugins"
  install -d -m 777 "$tree/var/lib/rabbitmq" "$tree/var/log/rabbitmq"
  image microshop.test/test-rabbitmq:3 "$tree" --user 999:999 \
    --env "PATH=/usr/lib/rabbitmq/bin:/usr/lib/erlang/bin:/bin" --env HOME=/var/lib/rabbitmq \
    --env RABBITMQ_HOME="$server" --env "RABBITMQ_CONFIG_FILES=/etc/rabbitmq/conf.d" \
    --entrypoint '[]' --cmd '["rabbitmq-server"]' --port 5672 --port 4369 --port 25672
  rm -rf "$tree"
}

# jaegertracing/jaeger:2.17.0 — USER 10001, no arguments: all-in-one with in-memory
# storage; OTLP 4317/4318, UI 16686, health 13133; writes only /tmp.
jaeger() {
  local tree binary
  binary=$("$root/e2e/tools/jaeger.sh")
  tree=$(new_tree)
  tree_add "$tree" /etc/ssl/certs/ca-certificates.crt
  install -D -m 755 "$binary" "$tree/cmd/jaeger/jaeger-linux"
  tree_libs "$tree"
  image microshop.test/test-jaeger:2 "$tree" --user 10001 \
    --entrypoint '["/cmd/jaeger/jaeger-linux"]' --cmd '[]' \
    --port 4317 --port 4318 --port 16686 --port 13133
  rm -rf "$tree"
}

# devopsfaith/krakend:2.13 — `krakend run -c FILE` with Flexible Configuration from FC_*,
# any non-root user that can read the config (the image's is 1000), /__health on 8080:
# the gateway stand-in (e2e/local/stand-in-gateway), which reads the same krakend/ files.
gateway() {
  local tree stand_in="$cache/bin/krakend-stand-in"
  (cd "$root/e2e/local/stand-in-gateway" && go build -o "$stand_in" .)
  tree=$(new_tree)
  tree_users "$tree" krakend:1000
  install -D -m 755 "$stand_in" "$tree/usr/bin/krakend"
  tree_libs "$tree"
  tree_add "$tree" /etc/ssl/certs/ca-certificates.crt
  install -d -m 755 "$tree/etc/krakend"
  image microshop.test/test-gateway-stand-in:2 "$tree" --user 1000 \
    --workingdir /etc/krakend --entrypoint '["/usr/bin/krakend"]' \
    --cmd '["run", "-c", "/etc/krakend/krakend.json"]' --port 8080
  rm -rf "$tree"
}

build() {
  packages
  local component pg_image=""
  (($#)) || set -- userDb catalogDb redis rabbitmq jaeger gateway
  for component; do
    case "$component" in
      userDb | catalogDb)
        [ -n "$pg_image" ] || pg_image=$(postgres)
        echo "$component $pg_image"
        ;;
      redis) echo "redis $(redis)" ;;
      rabbitmq) echo "rabbitmq $(rabbitmq)" ;;
      jaeger) echo "jaeger $(jaeger)" ;;
      gateway) echo "gateway $(gateway)" ;;
      *)
        echo "test-images: no test image for $component" >&2
        return 2
        ;;
    esac
  done
}

case "${1:-}" in
  build) shift && build "$@" ;;
  *)
    echo "usage: $0 build" >&2
    exit 2
    ;;
esac
