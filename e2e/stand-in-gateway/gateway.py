#!/usr/bin/env python3
"""A STAND-IN for the KrakenD gateway, used only while KrakenD CE cannot be built here.

It serves DESIGN.md's public routes under /api/v1 by forwarding each to its service,
the way the KrakenD configuration would: it signs identity's token claims (HS256 with a
key made at start), checks the bearer token on /me routes and passes its `sub` on as
X-User-Id, drops any X-User-Id a caller sends, and passes the W3C trace headers through
unchanged. It makes no spans of its own (KrakenD would), so a trace goes from the
frontend's client span straight to the service's server span. Standard library only.

Settings (environment): PORT (8000), CATALOG_URL, CART_URL, IDENTITY_URL, CHECKOUT_URL,
SHIPPING_URL, JWT_SECRET (random when unset).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICES = {
    name: os.environ.get(f"{name.upper()}_URL", f"http://127.0.0.1:{port}")
    for name, port in [
        ("catalog", 8101),
        ("cart", 8102),
        ("identity", 8103),
        ("checkout", 8104),
        ("shipping", 8105),
    ]
}
SECRET = os.environ.get("JWT_SECRET", "").encode() or secrets.token_bytes(32)
FORWARDED = ["content-type", "accept", "traceparent", "tracestate", "baggage",
             "x-session-id", "idempotency-key"]

# (methods, public path pattern, needs a token, service, backend path template)
ROUTES = [
    ("GET", r"/products", False, "catalog", "/products"),
    ("GET", r"/products/(?P<id>[^/]+)", False, "catalog", "/products/{id}"),
    ("GET", r"/categories", False, "catalog", "/categories"),
    ("GET DELETE", r"/cart", False, "cart", "/cart"),
    ("POST", r"/cart/items", False, "cart", "/cart/items"),
    ("PUT DELETE", r"/cart/items/(?P<id>[^/]+)", False, "cart", "/cart/items/{id}"),
    ("GET DELETE", r"/me/cart", True, "cart", "/cart"),
    ("POST", r"/me/cart/items", True, "cart", "/cart/items"),
    ("PUT DELETE", r"/me/cart/items/(?P<id>[^/]+)", True, "cart", "/cart/items/{id}"),
    ("POST", r"/me/cart/merge", True, "cart", "/cart/merge"),
    ("POST", r"/shipping/quote", False, "shipping", "/quotes"),
    ("POST", r"/checkout", False, "checkout", "/orders"),
    ("POST", r"/me/checkout", True, "checkout", "/orders"),
    ("GET", r"/orders/(?P<id>[^/]+)", False, "checkout", "/orders/{id}"),
    ("GET", r"/me/orders", True, "checkout", "/orders?user={sub}"),
    ("POST", r"/auth/(?P<id>register|login)", False, "identity", "/auth/{id}"),
    ("GET PATCH DELETE", r"/me", True, "identity", "/me"),
    ("PUT", r"/me/password", True, "identity", "/me/password"),
]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: dict) -> str:
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    mac = hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def subject(authorization: str):
    """The `sub` of a valid, unexpired bearer token, else None."""
    if not authorization.startswith("Bearer "):
        return None
    try:
        head, body, mac = authorization[7:].split(".")
        expected = hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, unb64(mac)):
            return None
        claims = json.loads(unb64(body))
        return claims["sub"] if claims.get("exp", 0) > time.time() else None
    except (ValueError, KeyError):
        return None


def problem(status: int, title: str) -> tuple:
    body = {"type": "about:blank", "title": title, "status": status}
    return status, {"content-type": "application/problem+json"}, json.dumps(body).encode()


class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        status, headers, body = self.route()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/__health":
            return 200, {"content-type": "text/plain"}, b"ok"
        if not url.path.startswith("/api/v1/"):
            return problem(404, "no such route")
        path = url.path[len("/api/v1"):]
        for methods, pattern, token, service, target in ROUTES:
            found = re.fullmatch(pattern, path)
            if found and self.command in methods.split():
                break
        else:
            return problem(404, "no such route")
        sub = subject(self.headers.get("authorization", ""))
        if token and sub is None:
            return problem(401, "a valid bearer token is required")
        backend = target.format(sub=sub, **found.groupdict())
        if url.query:
            backend += ("&" if "?" in backend else "?") + url.query
        headers = {n: self.headers[n] for n in FORWARDED if self.headers.get(n)}
        if sub is not None and (token or service == "checkout"):
            headers["x-user-id"] = sub
        length = int(self.headers.get("content-length") or 0)
        data = self.rfile.read(length) if length else None
        request = urllib.request.Request(SERVICES[service] + backend, data=data,
                                         headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, answer_headers, body = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as refused:
            status, answer_headers, body = refused.code, refused.headers, refused.read()
        except OSError as err:
            return problem(502, f"{service} unreachable: {err}")
        if status in (200, 201) and service == "identity" and path.startswith("/auth/"):
            answer = json.loads(body)
            answer["access_token"] = sign(answer["access_token"])
            body = json.dumps(answer).encode()
        kept = {n: answer_headers[n] for n in ["content-type", "location", "retry-after"]
                if answer_headers.get(n)}
        return status, kept, body

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("127.0.0.1", port), Gateway)
    print(f"stand-in gateway (not KrakenD) on http://127.0.0.1:{port}/api/v1", flush=True)
    server.serve_forever()
