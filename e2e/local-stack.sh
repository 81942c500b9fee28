#!/usr/bin/env bash
# Starts the whole shop on this machine: the servers it needs (e2e/stores.sh), then every
# service built from this checkout, each on its local port. Waits until all are ready,
# prints the URLs, and stops everything on Ctrl-C. Each part logs to $LOG_DIR/<part>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${MICROSHOP_CACHE:-$HOME/.cache/microshop}"
LOG_DIR="${LOG_DIR:-$cache/logs}"
mkdir -p "$LOG_DIR"
pg="postgres://microshop:microshop@127.0.0.1:5432"

./e2e/stores.sh
for db in catalog users orders payments shipping email; do
  psql "$pg/microshop" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
    || psql "$pg/microshop" -qc "CREATE DATABASE $db"
done

echo "building the services (first time: a few minutes)"
cargo build --locked -p catalog -p cart -p identity -p checkout -p payment -p shipping -p email
bin="${CARGO_TARGET_DIR:-target}/debug"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping microshop"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

# start NAME PORT VAR=value...: runs a service with its settings, logging to its file.
start() {
  local name=$1 port=$2; shift 2
  env PORT="$port" LOG_FORMAT="${LOG_FORMAT:-json}" "$@" "$bin/$name" >"$LOG_DIR/$name.log" 2>&1 &
  pids+=($!)
}
start catalog 8101 DATABASE_URL="$pg/catalog"
start cart 8102 REDIS_URL=redis://127.0.0.1:6379 CATALOG_URL=http://127.0.0.1:8101
start identity 8103 DATABASE_URL="$pg/users"
amqp=amqp://guest:guest@127.0.0.1:5672/%2f
start checkout 8104 DATABASE_URL="$pg/orders" AMQP_URL="$amqp" \
  CART_URL=http://127.0.0.1:8102 CATALOG_URL=http://127.0.0.1:8101 SHIPPING_URL=http://127.0.0.1:8105
start shipping 8105 DATABASE_URL="$pg/shipping" AMQP_URL="$amqp"
start payment 8106 DATABASE_URL="$pg/payments" AMQP_URL="$amqp"
start email 8107 DATABASE_URL="$pg/email" AMQP_URL="$amqp" ${SMTP_URL:+SMTP_URL="$SMTP_URL"}

for port in 8101 8102 8103 8104 8105 8106 8107; do
  for _ in $(seq 300); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.2
  done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "port $port never became ready; see $LOG_DIR"; exit 1; }
done

cat <<TXT

microshop is up. The gateway (KrakenD CE) cannot be built here yet, so neither it nor
the frontend that talks only to it is started; these are the services' own APIs:
  catalog   http://127.0.0.1:8101/products
  cart      http://127.0.0.1:8102/cart        (send X-Session-Id: <uuid>)
  identity  http://127.0.0.1:8103/auth/register
  checkout  http://127.0.0.1:8104/orders      (POST, with X-Session-Id)
  shipping  http://127.0.0.1:8105/quotes
  email     http://127.0.0.1:8107/emails      (mails kept here unless SMTP_URL is set)
logs: $LOG_DIR/<service>.log
Ctrl-C stops everything.
TXT
wait -n "${pids[@]}" || true
echo "a service exited; see $LOG_DIR"
