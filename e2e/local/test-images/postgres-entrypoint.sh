#!/bin/sh
# The entrypoint of the PostgreSQL test image (e2e/local/test-images.sh), after the official
# postgres image's docker-entrypoint.sh: the same environment and first-start work, so a
# pod rendered for postgres:17 runs on PostgreSQL 15 from Debian's packages.
#   An EMPTY $PGDATA only: initdb with POSTGRES_USER and POSTGRES_PASSWORD, listening on
#   every address with scram-sha-256 for TCP, then a socket-only server creates
#   POSTGRES_DB and runs /docker-entrypoint-initdb.d/* (.sh executed when executable,
#   else sourced; .sql through psql). A non-empty $PGDATA skips all of it.
set -eu
# As the official entrypoint: arguments starting with `-` are the server's.
case "${1:-}" in -*) set -- postgres "$@" ;; esac
[ "${1:-postgres}" = postgres ] || exec "$@"
[ "$#" -eq 0 ] || shift
: "${PGDATA:=/var/lib/postgresql/data}" "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA POSTGRES_USER POSTGRES_DB
mkdir -p "$PGDATA" /var/run/postgresql
chmod 0700 "$PGDATA"
chmod 2775 /var/run/postgresql 2>/dev/null || true

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres: POSTGRES_PASSWORD is not set" >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  # shellcheck disable=SC2086 # the official image splits POSTGRES_INITDB_ARGS too
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C \
    ${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  export PGUSER="$POSTGRES_USER" PGPASSWORD="$POSTGRES_PASSWORD"
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then
          echo "postgres: running $f"
          "$f"
        else
          echo "postgres: sourcing $f"
          # shellcheck disable=SC1090
          . "$f"
        fi
        ;;
      *.sql)
        echo "postgres: running $f"
        psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname "$POSTGRES_DB" -f "$f"
        ;;
    esac
  done
  unset PGPASSWORD
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo "postgres: init process complete; ready for start up"
fi
exec postgres "$@"
