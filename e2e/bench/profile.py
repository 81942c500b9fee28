"""Where a service's CPU goes under load: catalog and cart from release binaries, driven
by wrk on one route while `perf record` samples the service (cpu-clock, DWARF stacks),
then a flame graph (inferno) and a table of what each layer costs. Standard library only;
needs perf (Debian's linux-perf) and inferno's two commands on PATH."""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the services, the stores and wrk, as the benchmark runs them)

# A sample's frames are scanned from the innermost out; the first that matches names the
# part that spent it (so malloc called by serde_json counts as the allocator).
SPENT_IN = [
    ("kernel (sockets, scheduling)", r"^\[k\]|\[kernel|entry_SYSCALL|^__libc_|^__GI___(writev|send|recv|read|write|epoll)"),
    ("allocator", r"malloc|_int_free|cfree|realloc|^mi_|_mi_|libmimalloc"),
    ("PostgreSQL client (sqlx)", r"^sqlx"),
    ("Redis client", r"^redis::|^<redis::"),
    ("JSON", r"serde_json"),
    ("tracing: OpenTelemetry spans", r"tracing_opentelemetry|opentelemetry_sdk|opentelemetry::"),
    ("tracing: JSON log layer", r"tracing_subscriber::fmt|json_log|JsonFields"),
    ("tracing: registry and filter", r"tracing_subscriber::|tracing_core::|tracing::span"),
    ("metrics", r"prometheus_client|serving::metrics"),
    ("routing and extractors", r"axum::routing|matchit|axum::extract|FromRequest|serving::extract|serving::owner"),
    ("HTTP (hyper)", r"hyper::|httparse|^<?http::"),
    ("tokio runtime", r"tokio::"),
]
def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def profile(pid, url, seconds, connections, script, out_dir, name):
    data = os.path.join(out_dir, f"{name}.perf")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds + 2}s"]
    if script:
        cmd += ["-s", script]
    load = subprocess.Popen(cmd + [url], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    run(["perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-p", str(pid),
         "-o", data, "--", "sleep", str(seconds)])
    wrk_out = load.communicate()[0]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk_out).group(1))
    folded = os.path.join(out_dir, f"{name}.folded")
    script_out = subprocess.run(["perf", "script", "-i", data], check=True, capture_output=True).stdout
    with open(folded, "wb") as f:
        f.write(subprocess.run(["inferno-collapse-perf"], input=script_out, check=True,
                               capture_output=True).stdout)
    svg = os.path.join(out_dir, f"{name}.svg")
    with open(folded, "rb") as f, open(svg, "wb") as out:
        out.write(subprocess.run(["inferno-flamegraph", "--title", f"{name} under wrk ({url})",
                                 "--width", "1400"], stdin=f, check=True, capture_output=True).stdout)
    os.unlink(data)
    return rps, folded, svg


def shares(folded):
    """CPU time (perf's cpu-clock weights, ns) by the part that spent it."""
    spent, total = collections.Counter(), 0
    with open(folded) as f:
        for line in f:
            stack, weight = line.rsplit(" ", 1)
            weight = int(weight)
            total += weight
            for frame in reversed(stack.split(";")):
                part = next((n for n, p in SPENT_IN if re.search(p, frame)), None)
                if part:
                    spent[part] += weight
                    break
            else:
                spent["other"] += weight
    return total, spent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--out", default=os.path.join(bench.HERE, "..", "artifacts", "profile"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    services = bench.Services(args.bin_dir)
    try:
        session = services.fill_cart()
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(f'wrk.headers["X-Session-Id"] = "{session}"\n')
            session_script = f.name
        runs = [
            ("catalog-product", services.catalog.pid, f"{bench.CATALOG_URL}/products/{bench.PRODUCT}", None),
            ("catalog-search", services.catalog.pid, f"{bench.CATALOG_URL}/products?q=ceramic", None),
            ("cart-read", services.cart.pid, f"{bench.CART_URL}/cart", session_script),
            ("cart-add", services.cart.pid, f"{bench.CART_URL}/cart/items",
             os.path.join(bench.HERE, "add_to_cart.lua")),
        ]
        results = []
        for name, pid, url, script in runs:
            rps, folded, svg = profile(pid, url, args.seconds, args.connections, script, args.out, name)
            results.append((name, rps, shares(folded), svg))
    finally:
        services.stop("bench:ceiling*")

    for name, rps, (total, spent), svg in results:
        requests = rps * args.seconds
        print(f"\n## {name}: {rps:,.0f} req/s while sampled, {total / requests / 1000:.0f} µs "
              f"of the service's CPU per request ({svg})\n")
        print("| spent in | share | µs per request |")
        print("|---|---:|---:|")
        for part, weight in spent.most_common():
            print(f"| {part} | {100 * weight / total:.1f} % | {weight / requests / 1000:.1f} |")


if __name__ == "__main__":
    main()
