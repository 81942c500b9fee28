#!/usr/bin/env python3
"""One purchase is one trace: buys through the frontend's pages of a running local stack
(`e2e/local-stack.sh --traces`), then reads the trace back from Jaeger's query API and
checks that it holds every part of the purchase, synchronous and asynchronous, with
correct parent links and no orphans, that the gateway's own spans stand between the
frontend and every service it calls, and that the services' logs carry its trace id.

Usage: purchase_trace.py LOG_DIR [--picture FILE.svg]. Standard library only.
"""

import http.cookiejar
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

SHOP = "http://127.0.0.1:8080"
API = "http://127.0.0.1:8000/api/v1"
JAEGER = "http://127.0.0.1:16686"
PRODUCT = "cast-iron-skillet"

# (service, span name) that the purchase's trace must hold, at least once each.
EXPECTED = [
    ("frontend", "POST /checkout"),
    ("frontend", "POST"),  # its client span to the gateway
    ("gateway", "/api/v1/checkout"),  # KrakenD names its server span by the request path
    ("checkout", "POST /orders"),
    ("cart", "GET /cart"),
    ("cart", "DELETE /cart"),
    ("catalog", "GET /products/{id}"),
    ("shipping", "POST /quotes"),
    ("checkout", "outbox.relay"),
    ("checkout", "orders publish"),
    ("payment", "payment.order-placed process"),
    ("payment", "order-events publish"),
    ("shipping", "shipping.order-placed process"),
    ("email", "email.order-placed process"),
    ("checkout", "checkout.order-events process"),
]


def fail(message: str):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


class Browser:
    """Cookies and redirects, as a browser keeps them."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(SHOP + path, timeout=20) as page:
            return page.read().decode()

    def post(self, path: str, form: dict) -> tuple:
        data = urllib.parse.urlencode(form).encode()
        with self.opener.open(SHOP + path, data=data, timeout=20) as page:
            return page.geturl(), page.read().decode()


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    if not found:
        fail(f"no {name} in the page")
    return found.group(1)


def buy() -> str:
    browser = Browser()
    product = browser.get(f"/products/{PRODUCT}")
    browser.post("/cart/add", {"csrf_token": hidden(product, "csrf_token"),
                               "product_id": PRODUCT, "quantity": "2"})
    page = browser.get("/checkout")
    landed, _ = browser.post("/checkout", {
        "csrf_token": hidden(page, "csrf_token"),
        "idempotency_key": hidden(page, "idempotency_key"),
        "email": "trace@example.com",
        "address.name": "Ada Lovelace", "address.street": "12 Analytical Row",
        "address.postal_code": "NW1 2AB", "address.city": "London", "address.country": "GB",
        "card.number": "4242 4242 4242 4242", "card.exp_month": "12",
        "card.exp_year": str(time.gmtime().tm_year + 2), "card.cvv": "123",
    })
    found = re.search(r"/orders/([0-9a-f-]{36})$", landed)
    if not found:
        fail(f"checkout did not land on an order page but on {landed}")
    return found.group(1)


def wait_until_settled(order_id: str) -> dict:
    for _ in range(300):
        with urllib.request.urlopen(f"{API}/orders/{order_id}", timeout=10) as answer:
            order = json.load(answer)
        if order["status"] == "paid" and order.get("tracking_id") and order.get("email_sent"):
            return order
        time.sleep(0.2)
    fail(f"order {order_id} never settled: {order}")


def jaeger(path: str) -> dict:
    with urllib.request.urlopen(JAEGER + path, timeout=10) as answer:
        return json.load(answer)


def purchase_trace(order_id: str) -> dict:
    """The trace that relayed this order, once every expected span is in."""
    query = urllib.parse.urlencode({"service": "checkout", "operation": "outbox.relay",
                                    "lookback": "1h", "limit": "50",
                                    "tags": json.dumps({"order.id": order_id})})
    trace = None
    for _ in range(60):
        found = jaeger(f"/api/traces?{query}")["data"] or []
        if len(found) > 1:
            fail(f"order {order_id} is in {len(found)} traces")
        if found:
            trace = jaeger(f"/api/traces/{found[0]['traceID']}")["data"][0]
            if not missing(trace):
                return trace
        time.sleep(1)
    fail(f"spans missing from the trace after 60 s: {missing(trace) if trace else 'no trace'}")


def names(trace: dict) -> list:
    processes = trace["processes"]
    return [(processes[s["processID"]]["serviceName"], s["operationName"])
            for s in trace["spans"]]


def missing(trace: dict) -> list:
    have = set(names(trace))
    return [wanted for wanted in EXPECTED if wanted not in have]


def tags(item: dict) -> dict:
    return {t["key"]: t["value"] for t in item.get("tags", [])}


def check_structure(trace: dict):
    spans = {s["spanID"]: s for s in trace["spans"]}
    service = {s["spanID"]: trace["processes"][s["processID"]]["serviceName"]
               for s in trace["spans"]}
    roots = []
    for span in spans.values():
        if span["traceID"] != trace["traceID"]:
            fail(f"span {span['operationName']} is in another trace")
        parents = [r["spanID"] for r in span.get("references", []) if r["refType"] == "CHILD_OF"]
        if not parents:
            roots.append(span)
        elif parents[0] not in spans:
            fail(f"orphan span {service[span['spanID']]} {span['operationName']}: "
                 f"its parent {parents[0]} is not in the trace")
    if [(service[r["spanID"]], r["operationName"]) for r in roots] != [("frontend", "POST /checkout")]:
        fail(f"the trace must have one root, the frontend's POST /checkout, not {roots}")

    def parent_of(span):
        ref = next(r for r in span["references"] if r["refType"] == "CHILD_OF")
        return spans[ref["spanID"]]

    for span in spans.values():
        kind = tags(span).get("span.kind")
        who = f"{service[span['spanID']]} {span['operationName']}"
        attrs = tags(span)
        if kind == "server":
            for key in ["http.request.method", "http.route", "http.response.status_code"]:
                if key not in attrs:
                    fail(f"server span {who} lacks {key}")
            if span["references"] and tags(parent_of(span)).get("span.kind") != "client":
                fail(f"server span {who} is not the child of a client span")
        if kind == "client" and "db.system.name" not in attrs:
            for key in ["http.request.method", "server.address", "url.full"]:
                if key not in attrs:
                    fail(f"client span {who} lacks {key}")
        if kind in ("producer", "consumer"):
            if attrs.get("messaging.system") != "rabbitmq":
                fail(f"{who} lacks messaging.system=rabbitmq")
            if "messaging.destination.name" not in attrs:
                fail(f"{who} lacks messaging.destination.name")
        if kind == "consumer" and tags(parent_of(span)).get("span.kind") != "producer":
            fail(f"consumer span {who} is not the child of a publish span")
    # The frontend reaches the shop through the gateway only: every span whose parent is the
    # frontend's is the gateway's or the frontend's own, and checkout's order is taken
    # under a gateway span.
    for span in spans.values():
        if not span["references"]:
            continue
        parent = parent_of(span)
        if service[parent["spanID"]] == "frontend" and service[span["spanID"]] not in ("frontend", "gateway"):
            fail(f"{service[span['spanID']]} {span['operationName']} is called by the frontend "
                 "directly, not through the gateway")
    orders = [s for s in spans.values()
              if service[s["spanID"]] == "checkout" and s["operationName"] == "POST /orders"]
    if not orders or service[parent_of(orders[0])["spanID"]] != "gateway":
        fail("checkout's POST /orders is not the child of a gateway span")
    for process in trace["processes"].values():
        attrs = tags(process)
        # KrakenD's resource names its environment (deploy_env) but no namespace or version.
        wanted = (["deployment.environment"] if process["serviceName"] == "gateway" else
                  ["service.namespace", "service.version", "deployment.environment.name"])
        for key in wanted:
            if key not in attrs and f"{key}.name" not in attrs:
                fail(f"{process['serviceName']} resource lacks {key}")


def check_logs(log_dir: Path, trace_id: str):
    carrying = {}
    for name in ["frontend", "checkout", "payment", "shipping", "email"]:
        for line in (log_dir / f"{name}.log").read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                fail(f"{name}.log has a line that is not JSON: {line[:120]}")
            if entry.get("trace_id") == trace_id:
                carrying[name] = carrying.get(name, 0) + 1
    for name in ["checkout", "payment", "shipping", "email"]:
        if not carrying.get(name):
            fail(f"no line of {name}.log carries the purchase's trace id {trace_id}")
    return carrying


def main():
    log_dir = Path(sys.argv[1])
    order_id = buy()
    order = wait_until_settled(order_id)
    trace = purchase_trace(order_id)
    check_structure(trace)
    carrying = check_logs(log_dir, trace["traceID"])
    services = sorted({s for s, _ in names(trace)})
    print(f"order {order_id} {order['status']}: trace {trace['traceID']} holds "
          f"{len(trace['spans'])} spans from {', '.join(services)}; "
          f"log lines carrying it: {carrying}")
    if "--picture" in sys.argv:
        from picture import draw
        out = Path(sys.argv[sys.argv.index("--picture") + 1])
        out.write_text(draw(trace))
        print(f"picture: {out}")


if __name__ == "__main__":
    main()
