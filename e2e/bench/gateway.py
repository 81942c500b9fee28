"""The gateway's own cost: catalog `GET /products/{id}` and cart `GET /cart` straight to
the service and through the gateway running krakend/'s configuration, in one run, for
the stand-in and, when --krakend names a binary, the real KrakenD. Prints requests/s,
p99 and the through/direct ratio. Standard library only (plus wrk)."""

import argparse
import json
import os
import shutil
import subprocess
import tempfile

from bench import (CART_PORT, CART_URL, CATALOG_PORT, CATALOG_URL, PRODUCT, Services, arguments,
                   run, wait_ready, wrk, wrk_with_header)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GATEWAY_PORT = 18000


def gateway_settings(tmp, access_log, keys_dir):
    """krakend/settings/local, pointed at this run's services and keys."""
    settings = os.path.join(tmp, "settings")
    os.makedirs(settings)
    with open(os.path.join(REPO, "krakend/settings/local/gateway.json")) as f:
        gateway = json.load(f)
    gateway["port"] = GATEWAY_PORT
    gateway["access_log"] = access_log
    gateway["log_level"] = "WARNING"
    gateway["backends"]["catalog"] = f"http://127.0.0.1:{CATALOG_PORT}"
    gateway["backends"]["cart"] = f"http://127.0.0.1:{CART_PORT}"
    gateway["keys"]["private"] = os.path.join(keys_dir, "private.json")
    gateway["keys"]["public"] = os.path.join(keys_dir, "public.json")
    with open(os.path.join(settings, "gateway.json"), "w") as f:
        json.dump(gateway, f)
    return settings


def start_gateway(binary, settings, log):
    env = dict(os.environ, FC_ENABLE="1", FC_SETTINGS=settings,
               FC_TEMPLATES=os.path.join(REPO, "krakend/templates"))
    return subprocess.Popen([binary, "run", "-c", os.path.join(REPO, "krakend/krakend.tmpl")],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stand-in", required=True)
    parser.add_argument("--krakend", help="a real KrakenD binary, measured beside the stand-in")
    parser.add_argument("--access-log", action="store_true",
                        help="keep the gateway's access log on (off by default, as in a cluster)")
    args = arguments(parser)
    s, c = args.seconds, args.connections

    services = Services(args.bin_dir)
    tmp = tempfile.mkdtemp(prefix="gateway-bench-")
    gateways = [("stand-in", args.stand_in)] + ([("KrakenD", args.krakend)] if args.krakend else [])
    gateway_url = f"http://127.0.0.1:{GATEWAY_PORT}/api/v1"
    rows = []
    try:
        keys = os.path.join(tmp, "keys")
        run([args.stand_in, "keys", "-dir", keys, "-kid", "microshop-gateway"])
        settings = gateway_settings(tmp, args.access_log, keys)
        session = services.fill_cart()
        for name, binary in gateways:
            with open(os.path.join(tmp, f"{name}.log"), "w") as log:
                gateway = start_gateway(binary, settings, log)
                try:
                    wait_ready(f"http://127.0.0.1:{GATEWAY_PORT}/__health")
                    for route, direct, through, with_session in [
                        ("catalog GET /products/{id}", f"{CATALOG_URL}/products/{PRODUCT}",
                         f"{gateway_url}/products/{PRODUCT}", False),
                        ("cart GET /cart", f"{CART_URL}/cart", f"{gateway_url}/cart", True),
                    ]:
                        measure = (lambda url: wrk_with_header(url, session, s, c)) if with_session \
                            else (lambda url: wrk(url, s, c))
                        d_rps, d_p99 = measure(direct)
                        g_rps, g_p99 = measure(through)
                        rows.append((name, route, d_rps, d_p99, g_rps, g_p99))
                finally:
                    gateway.terminate()
                    gateway.wait(timeout=30)
    finally:
        services.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    log_state = "on" if args.access_log else "off"
    print(f"\ngateway benchmark: {s}s per run, {c} connections, {os.cpu_count()} cores shared by "
          f"wrk, gateway, service and store; gateway access log {log_state}\n")
    print("| gateway | route | direct req/s | direct p99 ms | through req/s | through p99 ms | through/direct |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, route, d_rps, d_p99, g_rps, g_p99 in rows:
        print(f"| {name} | {route} | {d_rps:,.0f} | {d_p99:.2f} | {g_rps:,.0f} | {g_p99:.2f} | "
              f"{g_rps / d_rps:.2f} |")


if __name__ == "__main__":
    main()
