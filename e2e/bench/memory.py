"""Resident memory of the eight services, release builds, read from /proc (VmRSS):
once idle after start, and again idle after a load of checkouts through to paid, shipped
and mailed, accounts registered and signed in, and page views of the frontend. Runs the
local stack (`e2e/local-stack.sh --release`, or the binaries in `--bin-dir`), and prints
one table. Standard library only. Not a test: the numbers depend on the machine."""

import argparse
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import rss_kib  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SERVICES = [("catalog", 8101), ("cart", 8102), ("identity", 8103), ("checkout", 8104),
            ("shipping", 8105), ("payment", 8106), ("email", 8107), ("frontend", 8080)]
APPROVED = "4242 4242 4242 4242"
PRODUCTS = ["cast-iron-skillet", "walnut-cutting-board", "brass-desk-lamp"]


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    sent = {"content-type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def expect(status, method, url, body=None, headers=None):
    got, raw = call(method, url, body, headers)
    if got != status:
        sys.exit(f"{method} {url}: {got}, expected {status}: {raw[:300]!r}")
    return json.loads(raw) if raw and raw[:1] in b"{[" else raw


def pid_listening_on(port):
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    found = re.search(r"pid=(\d+)", out)
    if not found:
        sys.exit(f"nothing listens on {port}")
    return int(found.group(1))


def rss_mib(pid):
    return rss_kib(pid)[0] / 1024


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def checkout(_):
    session = str(uuid.uuid4())
    for product in PRODUCTS[:2]:
        expect(200, "POST", "http://127.0.0.1:8102/cart/items",
               {"product_id": product, "quantity": 1}, {"x-session-id": session})
    body = {"email": f"load-{session[:8]}@example.com",
            "address": {"name": "Ada Lovelace", "street": "12 Analytical Row", "city": "London",
                        "postal_code": "NW1 2AB", "country": "GB"},
            "card": {"number": APPROVED, "cvv": "123", "exp_month": 12,
                     "exp_year": time.gmtime().tm_year + 2}}
    order = expect(201, "POST", "http://127.0.0.1:8104/orders", body, {"x-session-id": session})
    return order["id"]


def account(n):
    email = f"load-{n}-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery staple"
    expect(201, "POST", "http://127.0.0.1:8103/auth/register",
           {"email": email, "password": password, "name": "Grace Hopper"})
    expect(200, "POST", "http://127.0.0.1:8103/auth/login", {"email": email, "password": password})


def page_view(n):
    path = "/" if n % 2 else f"/products/{PRODUCTS[n % len(PRODUCTS)]}"
    expect(200, "GET", f"http://127.0.0.1:8080{path}")


def settled(order_id):
    order = expect(200, "GET", f"http://127.0.0.1:8104/orders/{order_id}")
    return order["status"] == "paid" and order["tracking_id"] and order["email_sent"]


def load(args):
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        started = time.monotonic()
        orders = list(pool.map(checkout, range(args.orders)))
        list(pool.map(account, range(args.accounts)))
        list(pool.map(page_view, range(args.pages)))
        deadline = time.monotonic() + 120
        waiting = orders
        while waiting:
            waiting = [o for o, done in zip(waiting, pool.map(settled, waiting)) if not done]
            if time.monotonic() > deadline:
                sys.exit(f"{len(waiting)} orders did not settle")
            time.sleep(0.2)
        return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", help="run these binaries instead of building release ones")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--idle-seconds", type=float, default=5)
    args = parser.parse_args()

    env = dict(os.environ, LOG_DIR=os.environ.get("LOG_DIR", "/tmp/microshop-memory-logs"))
    if args.bin_dir:
        env["SERVICES_BIN_DIR"] = args.bin_dir
    stack = subprocess.Popen([os.path.join(ROOT, "e2e/local-stack.sh"), "--release"], env=env,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in stack.stdout:
            if line.startswith("microshop is up"):
                break
        else:
            sys.exit("the local stack did not start")
        pids = {name: pid_listening_on(port) for name, port in SERVICES}
        time.sleep(args.idle_seconds)
        idle = {name: rss_mib(pid) for name, pid in pids.items()}
        took = load(args)
        time.sleep(args.idle_seconds)
        after = {name: rss_mib(pid) for name, pid in pids.items()}
        counts = {name: threads(pid) for name, pid in pids.items()}
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        stack.wait(timeout=60)

    print(f"\nmicroshop memory: {args.orders} checkouts settled, {args.accounts} accounts "
          f"registered and signed in, {args.pages} pages, {args.concurrency} at once, "
          f"in {took:.1f} s; {os.cpu_count()} cores\n")
    print("| service | idle MiB | idle after the load MiB | threads |")
    print("|---|---:|---:|---:|")
    for name, _ in SERVICES:
        print(f"| {name} | {idle[name]:.1f} | {after[name]:.1f} | {counts[name]} |")
    print(f"| **all eight** | **{sum(idle.values()):.1f}** | **{sum(after.values()):.1f}** | |")


if __name__ == "__main__":
    main()
