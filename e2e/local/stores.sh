#!/usr/bin/env bash
# Installs (from Debian's packages) and starts the servers microshop needs on this
# machine: PostgreSQL, Redis and RabbitMQ, all on loopback. Safe to run again: what is
# installed or running already is left as it is.
#
# Afterwards: postgres://microshop:microshop@127.0.0.1:5432/microshop (a superuser, so
# tests can create a database each), redis://127.0.0.1:6379, amqp://127.0.0.1:5672.
set -euo pipefail

state="${MICROSHOP_CACHE:-$HOME/.cache/microshop}/stores"
mkdir -p "$state"

need=()
command -v pg_ctlcluster >/dev/null || need+=(postgresql postgresql-contrib)
command -v redis-server >/dev/null || need+=(redis-server redis-tools)
command -v rabbitmq-server >/dev/null || need+=(rabbitmq-server)
if ((${#need[@]})); then
  echo "installing ${need[*]}"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# PostgreSQL: Debian's default cluster.
pg_version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$pg_version main"; then
  as_root pg_createcluster "$pg_version" main >/dev/null
fi
if ! pg_lsclusters -h | awk '$2=="main"{print $4}' | grep -q online; then
  as_root pg_ctlcluster "$pg_version" main start
fi
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
as_root su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL' >/dev/null
SELECT 'CREATE ROLE microshop LOGIN SUPERUSER PASSWORD ''microshop'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'microshop') \gexec
SELECT 'CREATE DATABASE microshop OWNER microshop'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'microshop') \gexec
SQL
echo "postgres ready"

# Redis: our own instance, keeping an append-only file as the cluster's does, so a
# restart keeps carts (fsync every second: a crash loses at most the last second).
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' \
    --appendonly yes --appendfsync everysec \
    --dir "$state" --logfile "$state/redis.log" --pidfile "$state/redis.pid"
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
echo "redis ready"

# RabbitMQ: Debian's node, started detached, listening on loopback only (AMQP, the
# port mapper and the inter-node port alike).
# The first Erlang command starts the port mapper (epmd): each one is told the address.
rabbitmqctl() { as_root env ERL_EPMD_ADDRESS=127.0.0.1 rabbitmqctl "$@"; }
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  as_root env RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    sh -c 'rabbitmq-server -detached >/dev/null 2>&1 || true'
fi
for _ in $(seq 120); do rabbitmqctl -q ping >/dev/null 2>&1 && break; sleep 1; done
rabbitmqctl -q await_startup --timeout 120 >/dev/null
echo "rabbitmq ready"

# aiosmtpd: the real SMTP server the email service's tests deliver to (from PyPI).
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q aiosmtpd
echo "aiosmtpd ready"
