"""Drives catalog and cart with wrk and measures PostgreSQL and Redis with their own
benchmark tools, in one run on one machine, then prints requests/s, p99 latency, the
service/ceiling ratio and each service's resident memory. Standard library only."""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

PG = "postgres://microshop:microshop@127.0.0.1:5432"
BENCH_DB = "microshop_bench"
CATALOG_PORT, CART_PORT = 18101, 18102
PRODUCT = "cast-iron-skillet"
HERE = os.path.dirname(os.path.abspath(__file__))

# The statements the catalog runs, so pgbench measures the same work without HTTP.
PRODUCT_SQL = f"""SELECT id, name, description, picture, price_minor, currency, categories
FROM products WHERE id = '{PRODUCT}';"""
SEARCH_WHERE = """(search @@ websearch_to_tsquery('english', 'ceramic')
 OR name ILIKE '%ceramic%')"""
SEARCH_SQL = f"""SELECT count(*) FROM products WHERE {SEARCH_WHERE};
SELECT id, name, description, picture, price_minor, currency, categories FROM products
WHERE {SEARCH_WHERE}
ORDER BY ts_rank(search, websearch_to_tsquery('english', 'ceramic')) DESC, name, id
LIMIT 12 OFFSET 0;"""


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def wait_ready(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} never became ready")


def rss_kib(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def to_ms(text):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, seconds, connections, script=None):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = run(cmd + [url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"{url}: {errors.group(1)} failed responses\n{out}")
    return rps, p99


def pgbench(sql, seconds, connections):
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "q.sql")
        with open(script, "w") as f:
            f.write(sql)
        out = run(["pgbench", "-n", "-M", "prepared", f"-c{connections}", "-j2", f"-T{seconds}",
                   "-f", script, "--log", "--log-prefix", os.path.join(tmp, "log"),
                   f"{PG}/{BENCH_DB}"], cwd=tmp)
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        latencies = []
        for name in os.listdir(tmp):
            if name.startswith("log"):
                with open(os.path.join(tmp, name)) as f:
                    latencies += [int(line.split()[2]) for line in f]
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99)] / 1000.0
        return tps, p99


def redis_bench(args, seconds, connections):
    # redis-benchmark counts requests, not seconds: size the run to roughly `seconds`.
    out = run(["redis-benchmark", "-q", "--csv", "-c", str(connections), "-n", str(40000 * seconds)] + args)
    header, row = [line.replace('"', "").split(",") for line in out.strip().splitlines()[-2:]]
    values = dict(zip(header, row))
    return float(values["rps"]), float(values["p99_latency_ms"])


def arguments(parser):
    """The options every benchmark takes; answers the parsed arguments."""
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", 32)))
    return parser.parse_args()


CATALOG_URL, CART_URL = f"http://127.0.0.1:{CATALOG_PORT}", f"http://127.0.0.1:{CART_PORT}"


class Services:
    """catalog on a fresh database and cart under a key prefix of its own, from release
    binaries, ready; `stop()` ends them and removes the run's keys."""

    def __init__(self, bin_dir):
        run(["psql", f"{PG}/microshop", "-qc", f"DROP DATABASE IF EXISTS {BENCH_DB}"])
        run(["psql", f"{PG}/microshop", "-qc", f"CREATE DATABASE {BENCH_DB}"])
        env = dict(os.environ, LOG_FORMAT="json", RUST_LOG="warn")
        self.prefix = f"bench-{uuid.uuid4().hex[:8]}:"
        self.catalog = subprocess.Popen([os.path.join(bin_dir, "catalog")], env=dict(
            env, PORT=str(CATALOG_PORT), DATABASE_URL=f"{PG}/{BENCH_DB}"))
        self.cart = subprocess.Popen([os.path.join(bin_dir, "cart")], env=dict(
            env, PORT=str(CART_PORT), REDIS_URL="redis://127.0.0.1:6379",
            CART_KEY_PREFIX=self.prefix, CATALOG_URL=CATALOG_URL))
        wait_ready(f"{CATALOG_URL}/readyz")
        wait_ready(f"{CART_URL}/readyz")

    def fill_cart(self):
        """A cart of three lines to read back; answers its session id."""
        session = str(uuid.uuid4())
        for product in (PRODUCT, "walnut-cutting-board", "brass-desk-lamp"):
            req = urllib.request.Request(f"{CART_URL}/cart/items", method="POST",
                                         data=f'{{"product_id":"{product}","quantity":2}}'.encode(),
                                         headers={"Content-Type": "application/json", "X-Session-Id": session})
            urllib.request.urlopen(req).read()
        return session

    def stop(self, *key_patterns):
        for p in (self.catalog, self.cart):
            p.terminate()
            p.wait(timeout=30)
        for pattern in (f"{self.prefix}*",) + key_patterns:
            run(["sh", "-c", f"redis-cli --scan --pattern '{pattern}' | xargs -r -n 1000 redis-cli DEL >/dev/null"])


def main():
    args = arguments(argparse.ArgumentParser())
    s, c = args.seconds, args.connections

    services = Services(args.bin_dir)
    catalog, cart = services.catalog, services.cart
    catalog_url, cart_url = CATALOG_URL, CART_URL
    rows = []
    try:
        idle = {"catalog": rss_kib(catalog.pid)[0], "cart": rss_kib(cart.pid)[0]}
        session = services.fill_cart()
        run(["redis-cli", "HSET", "bench:ceiling", PRODUCT, "2", "walnut-cutting-board", "2",
             "brass-desk-lamp", "2"])

        measures = [
            ("catalog GET /products/{id}", lambda: wrk(f"{catalog_url}/products/{PRODUCT}", s, c),
             "pgbench: select by id", lambda: pgbench(PRODUCT_SQL, s, c), catalog),
            ("catalog GET /products?q=ceramic", lambda: wrk(f"{catalog_url}/products?q=ceramic", s, c),
             "pgbench: count + ranked search", lambda: pgbench(SEARCH_SQL, s, c), catalog),
            ("cart POST /cart/items", lambda: wrk(f"{cart_url}/cart/items", s, c, os.path.join(HERE, "add_to_cart.lua")),
             "redis-benchmark: HSET", lambda: redis_bench(["-r", "1000000", "HSET", "bench:ceiling:__rand_int__", "f", "1"], s, c), cart),
            ("cart GET /cart", None, "redis-benchmark: HGETALL",
             lambda: redis_bench(["HGETALL", "bench:ceiling"], s, c), cart),
        ]
        for name, service, ceiling_name, ceiling, process in measures:
            if service is None:
                service = lambda: wrk_with_header(f"{cart_url}/cart", session, s, c)
            rps, p99 = service()
            rss, peak = rss_kib(process.pid)
            crps, cp99 = ceiling()
            rows.append((name, rps, p99, ceiling_name, crps, cp99, rss, peak))
    finally:
        services.stop("bench:ceiling*")

    print(f"\nmicroshop benchmark: {s}s per run, {c} connections, {os.cpu_count()} cores "
          f"(load tool, service and store share them)\n")
    print("| load | req/s | p99 ms | ceiling | ceiling req/s | ceiling p99 ms | service/ceiling | RSS MiB after (peak) |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for name, rps, p99, cname, crps, cp99, rss, peak in rows:
        print(f"| {name} | {rps:,.0f} | {p99:.2f} | {cname} | {crps:,.0f} | {cp99:.2f} | "
              f"{rps / crps:.2f} | {rss / 1024:.1f} ({peak / 1024:.1f}) |")
    print(f"\nidle RSS: catalog {idle['catalog'] / 1024:.1f} MiB, cart {idle['cart'] / 1024:.1f} MiB")


def wrk_with_header(url, session, seconds, connections):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(f'wrk.headers["X-Session-Id"] = "{session}"\n')
    try:
        return wrk(url, seconds, connections, f.name)
    finally:
        os.unlink(f.name)


if __name__ == "__main__":
    main()
