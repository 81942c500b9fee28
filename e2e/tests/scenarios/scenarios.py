#!/usr/bin/env python3
"""HTTP scenarios against the public API, wherever it is served: the local stack's
gateway (`--api http://127.0.0.1:8000/api/v1`, the default) or a cluster's.

Each scenario is a function that drives the API as a client would and checks every
answer against DESIGN.md's payload shapes. One line is printed per scenario; the first
failure stops the run with a message naming the request and what was wrong, and the
exit status is 1.

Usage: scenarios.py [--api URL] [--only NAME ...] [--settle-seconds N]
       [--signing-jwks FILE] [--restart-redis COMMAND]
       [--restart-rabbitmq COMMAND [--emails-command COMMAND]]

The answers checked are KrakenD's (the real one or the stand-in that reads the same
configuration): a backend's problem passes through untouched, but register and login go
through KrakenD's auth/signer, which answers any refusal with a bare 400.

The tokens are signed by the gateway (EdDSA). A token whose `exp` is past can only be
told apart from a forged one if it is correctly signed: when `--signing-jwks` names the
gateway's private JWK set (the local stack's is ~/.cache/microshop/gateway/keys/
private.json), the expired token is signed with it, and a fresh token signed the same way
is checked to be accepted first. Without it, the expired token carries the original
signature (refused for two reasons, which proves less) and the line says so.

Standard library only, and Python's `cryptography` package when `--signing-jwks` is given.
"""

import argparse
import base64
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

APPROVED = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"
PASSWORD = "correct horse battery staple"


class Failure(Exception):
    """A scenario's expectation that the API did not meet."""


class Answer:
    def __init__(self, method, url, status, headers, raw):
        self.method, self.url, self.status = method, url, status
        self.headers, self.raw = headers, raw

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip()

    @property
    def body(self):
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            raise Failure(f"{self}: the body is not JSON: {self.raw[:200]!r}") from None

    def __str__(self):
        return f"{self.method} {self.url} -> {self.status}"


class Api:
    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def call(self, method, path, body=None, *, raw=None, session=None, token=None,
             headers=None, content_type="application/json") -> Answer:
        url = self.base + path
        sent = {"accept": "application/json"}
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            sent["content-type"] = content_type
        if session:
            sent["x-session-id"] = str(session)
        if token:
            sent["authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        request = urllib.request.Request(url, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return Answer(method, path, answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as refused:
            return Answer(method, path, refused.code, refused.headers, refused.read())
        except OSError as err:
            raise Failure(f"{method} {url}: {err}") from None

    def expect(self, status: int, method, path, body=None, **kw):
        """The JSON body of an answer that must have this status."""
        answer = self.call(method, path, body, **kw)
        if answer.status != status:
            raise Failure(f"{answer}, expected {status}: {answer.raw[:300].decode(errors='replace')}")
        if answer.raw and answer.content_type != "application/json":
            raise Failure(f"{answer}: content-type {answer.content_type!r}, expected application/json")
        return answer.body


def check(condition, message):
    if not condition:
        raise Failure(message)


# ---- shapes (DESIGN.md "Payload shapes") ----

def is_uuid(text, version=None) -> bool:
    try:
        parsed = uuid.UUID(str(text))
    except ValueError:
        return False
    return version is None or parsed.version == version


def check_money(value, where):
    check(isinstance(value, dict) and isinstance(value.get("currency"), str)
          and len(value["currency"]) == 3 and value["currency"].isupper()
          and type(value.get("amount_minor")) is int,
          f"{where} is not money {{currency, amount_minor: integer}}: {value!r}")


def check_order(order, where):
    for key in ["id", "status", "items", "shipping_cost", "total", "card", "transaction_id",
                "tracking_id", "email_sent", "created_at", "updated_at"]:
        check(key in order, f"{where}: the order lacks {key!r}: {order}")
    check(order["status"] in ("placed", "paid", "payment_failed"),
          f"{where}: unknown status {order['status']!r}")
    check(is_uuid(order["id"], version=4), f"{where}: the order id is not a UUID v4")
    for line in order["items"]:
        for key in ["product_id", "name", "quantity", "unit_price"]:
            check(key in line, f"{where}: an order line lacks {key!r}: {line}")
        check_money(line["unit_price"], f"{where}: unit_price")
    check_money(order["shipping_cost"], f"{where}: shipping_cost")
    check_money(order["total"], f"{where}: total")
    lines = sum(l["unit_price"]["amount_minor"] * l["quantity"] for l in order["items"])
    check(order["total"]["amount_minor"] == lines + order["shipping_cost"]["amount_minor"],
          f"{where}: total {order['total']} is not the lines ({lines}) plus shipping "
          f"{order['shipping_cost']}")


def lines_of(cart) -> dict:
    check(isinstance(cart, dict) and isinstance(cart.get("items"), list) and "updated_at" in cart,
          f"not a cart {{items, updated_at}}: {cart!r}")
    return {line["product_id"]: line["quantity"] for line in cart["items"]}


def problem(api: Api, status_class, field, method, path, body=None, *, type_=None, **kw):
    """Checks a refusal: 4xx, application/problem+json, the field named. Returns it."""
    answer = api.call(method, path, body, **kw)
    what = f"{answer} (expected a 4xx naming {field!r})"
    check(400 <= answer.status < 500, f"{what}: {answer.raw[:300]!r}")
    if status_class:
        check(answer.status == status_class, f"{what}: expected {status_class}")
    check(answer.content_type == "application/problem+json",
          f"{what}: content-type {answer.content_type!r}")
    found = answer.body
    check(found.get("status") == answer.status and found.get("title") and found.get("type"),
          f"{what}: not an RFC 9457 problem: {found}")
    if field is not None:
        check(found.get("field") == field, f"{what}: the problem names {found.get('field')!r}: {found}")
    if type_ is not None:
        check(found["type"].endswith("/" + type_), f"{what}: type {found['type']!r}, expected …/{type_}")
    return found


# ---- helpers ----

def address():
    return {"name": "Ada Lovelace", "street": "12 Analytical Row", "city": "London",
            "postal_code": "NW1 2AB", "country": "GB"}


def checkout_body(email, number=APPROVED):
    return {"email": email, "address": address(),
            "card": {"number": number, "cvv": "123", "exp_month": 12,
                     "exp_year": time.gmtime().tm_year + 2}}


def new_email(tag):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def two_products(api: Api):
    listing = api.expect(200, "GET", "/products?per_page=5")
    for key in ["items", "total", "page", "per_page"]:
        check(key in listing, f"GET /products: the list lacks {key!r}")
    check(len(listing["items"]) >= 2, f"GET /products: fewer than two products: {listing}")
    for product in listing["items"]:
        for key in ["id", "name", "description", "picture", "price", "categories"]:
            check(key in product, f"GET /products: a product lacks {key!r}: {product}")
        check_money(product["price"], f"product {product['id']} price")
    first, second = listing["items"][:2]
    one = api.expect(200, "GET", f"/products/{first['id']}")
    check(one["id"] == first["id"] and one["price"] == first["price"],
          f"GET /products/{first['id']} disagrees with the list: {one}")
    return first, second


def wait_for_order(api: Api, order_id, done, timeout, token=None):
    """Polls GET /orders/{id} (an account's: /me/orders/{id}) until done(order); the last
    order seen otherwise fails."""
    deadline = time.monotonic() + timeout
    path = f"/me/orders/{order_id}" if token else f"/orders/{order_id}"
    while True:
        order = api.expect(200, "GET", path, token=token)
        check_order(order, f"GET {path}")
        if done(order):
            return order
        if time.monotonic() > deadline:
            raise Failure(f"order {order_id} did not settle within {timeout} s: {order}")
        time.sleep(0.25)


def settled_paid(order):
    if order["status"] == "payment_failed":
        raise Failure(f"order {order['id']} failed payment with an approving card: {order}")
    return (order["status"] == "paid" and order["transaction_id"] and order["tracking_id"]
            and order["email_sent"] is True)


def register(api: Api, tag):
    email = new_email(tag)
    # KrakenD's signer answers 200 whatever identity said (201).
    answer = api.expect(200, "POST", "/auth/register",
                        {"email": email, "password": PASSWORD, "name": "Grace Hopper"})
    token = answer.get("access_token")
    check(isinstance(token, str) and token.count(".") == 2,
          f"POST /auth/register: access_token is not a signed JWT string: {answer}")
    check(type(answer.get("expires_in")) is int and answer["expires_in"] > 0,
          f"POST /auth/register: expires_in is not a positive integer: {answer}")
    head, claims = jwt_part(token, 0), jwt_part(token, 1)
    check(head.get("alg") not in (None, "none") and jwt_signature(token),
          f"POST /auth/register: the token is not signed: header {head}")
    check(is_uuid(claims.get("sub")) and claims.get("exp", 0) > time.time(),
          f"POST /auth/register: the token's claims lack sub or a future exp: {claims}")
    return email, token, claims


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_part(token, index):
    try:
        return json.loads(unb64(token.split(".")[index]))
    except (ValueError, IndexError):
        raise Failure(f"the token's part {index} is not base64url JSON: {token[:60]}…") from None


def jwt_signature(token):
    return token.split(".")[2]


def encode(header: dict, claims: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def ed25519_key(jwks_file):
    """The first key of a private JWK set (an Ed25519 OKP key), to sign with."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    with open(jwks_file) as f:
        key = json.load(f)["keys"][0]
    check(key.get("kty") == "OKP" and key.get("crv") == "Ed25519" and "d" in key,
          f"{jwks_file}: not a private Ed25519 JWK set")
    return Ed25519PrivateKey.from_private_bytes(unb64(key["d"]))


def another_ed25519_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    return Ed25519PrivateKey.generate()


def eddsa(key, header: dict, claims: dict) -> str:
    signing_input = encode(header, claims)
    return f"{signing_input}.{b64(key.sign(signing_input.encode()))}"


# ---- scenarios ----

def guest_purchase(api: Api, settings) -> str:
    first, second = two_products(api)
    session = uuid.uuid4()
    check(lines_of(api.expect(200, "GET", "/cart", session=session)) == {},
          "a new session's cart is not empty")
    api.expect(200, "POST", "/cart/items", {"product_id": first["id"], "quantity": 1}, session=session)
    cart = api.expect(200, "POST", "/cart/items", {"product_id": first["id"], "quantity": 2},
                      session=session)
    check(lines_of(cart) == {first["id"]: 3}, f"adding to an existing line did not add: {cart}")
    api.expect(200, "POST", "/cart/items", {"product_id": second["id"], "quantity": 1}, session=session)
    cart = api.expect(200, "PUT", f"/cart/items/{first['id']}", {"quantity": 2}, session=session)
    want = {first["id"]: 2, second["id"]: 1}
    check(lines_of(cart) == want, f"PUT /cart/items set the wrong lines: {cart}")
    check(lines_of(api.expect(200, "GET", "/cart", session=session)) == want,
          "GET /cart does not show what was written")

    items = [{"product_id": p, "quantity": q} for p, q in want.items()]
    quote = api.expect(200, "POST", "/shipping/quote", {"address": address(), "items": items})
    check_money(quote.get("cost"), "POST /shipping/quote cost")

    key = str(uuid.uuid4())
    email = new_email("guest")
    body = checkout_body(email)
    placed = api.expect(201, "POST", "/checkout", body, session=session,
                        headers={"Idempotency-Key": key})
    check_order(placed, "POST /checkout")
    order_id = placed["id"]
    check(placed["status"] == "placed", f"a new order is {placed['status']!r}, not placed")
    check({l["product_id"]: l["quantity"] for l in placed["items"]} == want,
          f"the order's lines are not the cart's: {placed['items']}")
    prices = {first["id"]: first["price"], second["id"]: second["price"]}
    for line in placed["items"]:
        check(line["unit_price"] == prices[line["product_id"]],
              f"{line['product_id']} priced {line['unit_price']}, catalog says "
              f"{prices[line['product_id']]}")
    check(placed["shipping_cost"] == quote["cost"],
          f"shipping {placed['shipping_cost']} differs from the quote {quote['cost']}")
    check(placed["card"] == {"brand": "visa", "last4": "4242"} or
          (placed["card"].get("brand") == "visa" and placed["card"].get("last4") == "4242"),
          f"card summary {placed['card']}")
    digits = APPROVED.replace(" ", "")
    check(digits not in json.dumps(placed), "the order answer holds the full card number")
    check(lines_of(api.expect(200, "GET", "/cart", session=session)) == {},
          "the cart was not emptied by the checkout")

    paid = wait_for_order(api, order_id, settled_paid, settings.settle_seconds)

    again = api.expect(201, "POST", "/checkout", body, session=session,
                       headers={"Idempotency-Key": key})
    check(again["id"] == order_id, f"the same Idempotency-Key made a second order {again['id']}")
    other = dict(body, email=new_email("other"))
    problem(api, 422, "Idempotency-Key", "POST", "/checkout", other, session=session,
            headers={"Idempotency-Key": key}, type_="idempotency-key-reused")
    return (f"order {order_id} paid (transaction {paid['transaction_id']}, tracking "
            f"{paid['tracking_id']}, e-mail sent); the same key answers the same order, "
            "another body under it is refused")


def registered_purchase(api: Api, settings) -> str:
    first, second = two_products(api)
    session = uuid.uuid4()
    api.expect(200, "POST", "/cart/items", {"product_id": first["id"], "quantity": 2}, session=session)
    api.expect(200, "POST", "/cart/items", {"product_id": second["id"], "quantity": 1}, session=session)

    email, token, claims = register(api, "member")
    me = api.expect(200, "GET", "/me", token=token)
    check(me.get("id") == claims["sub"] and me.get("email") == email and "name" in me
          and "address" in me, f"GET /me: {me}")
    # The user's own cart already holds one of the products: the merge adds to it.
    api.expect(200, "POST", "/me/cart/items", {"product_id": first["id"], "quantity": 1}, token=token)
    merged = api.expect(200, "POST", "/me/cart/merge", token=token, session=session)
    want = {first["id"]: 3, second["id"]: 1}
    check(lines_of(merged) == want, f"POST /me/cart/merge answered {merged}, expected lines {want}")
    check(lines_of(api.expect(200, "GET", "/me/cart", token=token)) == want,
          "GET /me/cart does not hold the merged lines")
    check(lines_of(api.expect(200, "GET", "/cart", session=session)) == {},
          "the session's cart is still there after the merge")

    login = api.expect(200, "POST", "/auth/login", {"email": email.upper(), "password": PASSWORD})
    check(jwt_part(login["access_token"], 1).get("sub") == claims["sub"],
          "logging in (e-mail in capitals) gave a token for another subject")
    token = login["access_token"]

    placed = api.expect(201, "POST", "/me/checkout", checkout_body(email), token=token,
                        headers={"Idempotency-Key": str(uuid.uuid4())})
    check_order(placed, "POST /me/checkout")
    check({l["product_id"]: l["quantity"] for l in placed["items"]} == want,
          f"the order's lines are not the merged cart's: {placed['items']}")
    check(lines_of(api.expect(200, "GET", "/me/cart", token=token)) == {},
          "the user's cart was not emptied by the checkout")
    paid = wait_for_order(api, placed["id"], settled_paid, settings.settle_seconds, token=token)

    mine = api.expect(200, "GET", "/me/orders", token=token)
    ids = [order["id"] for order in mine.get("items", [])]
    check(ids == [placed["id"]], f"GET /me/orders lists {ids}, expected [{placed['id']}]")
    check_order(mine["items"][0], "GET /me/orders")

    _, stranger, _ = register(api, "stranger")
    api_404 = api.call("GET", f"/me/orders/{placed['id']}", token=stranger)
    check(api_404.status == 404, f"another user reads the order: {api_404}")
    check(api.call("GET", f"/me/orders/{placed['id']}").status == 401,
          "an account's order route answers without a token")
    check(api.expect(200, "GET", "/me/orders", token=stranger).get("items") == [],
          "another user's order list is not empty")
    return (f"guest cart merged into the account ({want}), order {placed['id']} "
            f"{paid['status']}, listed by /me/orders, hidden from another account")


def declined_card(api: Api, settings) -> str:
    first, _ = two_products(api)
    session = uuid.uuid4()
    api.expect(200, "POST", "/cart/items", {"product_id": first["id"], "quantity": 1}, session=session)
    placed = api.expect(201, "POST", "/checkout", checkout_body(new_email("declined"), DECLINED),
                        session=session, headers={"Idempotency-Key": str(uuid.uuid4())})
    check(placed["card"].get("last4") == "0002", f"card summary {placed['card']}")

    def failed(order):
        check(order["status"] != "paid", f"a declined card paid order {order['id']}: {order}")
        return order["status"] == "payment_failed"

    order = wait_for_order(api, placed["id"], failed, settings.settle_seconds)
    check(not order["transaction_id"], f"a failed payment has a transaction id: {order}")
    time.sleep(1)
    later = api.expect(200, "GET", f"/orders/{placed['id']}")
    check(later["status"] == "payment_failed", f"the failed order moved on: {later}")
    reason = order.get("payment_failure_reason")
    return f"order {placed['id']} payment_failed" + (f" ({reason})" if reason else "")


def bad_inputs(api: Api, settings) -> str:
    first, _ = two_products(api)
    session = uuid.uuid4()
    api.expect(200, "POST", "/cart/items", {"product_id": first["id"], "quantity": 1}, session=session)
    cases = 0

    def refused(field, method, path, body=None, **kw):
        nonlocal cases
        cases += 1
        return problem(api, kw.pop("status", None), field, method, path, body, **kw)

    item = {"product_id": first["id"], "quantity": 1}
    # The cart.
    refused("quantity", "POST", "/cart/items", dict(item, quantity=0), session=session, status=422)
    refused("quantity", "POST", "/cart/items", dict(item, quantity=100), session=session, status=422)
    refused("quantity", "POST", "/cart/items", dict(item, quantity="2"), session=session)
    refused("quantity", "POST", "/cart/items", {"product_id": first["id"]}, session=session)
    refused("quantity", "PUT", f"/cart/items/{first['id']}", {"quantity": 100}, session=session)
    refused("product_id", "POST", "/cart/items", dict(item, product_id="no-such-product"),
            session=session)
    refused("product_id", "POST", "/cart/items", dict(item, product_id="Not An Id"), session=session)
    refused("product_id", "PUT", "/cart/items/no-such-product", {"quantity": 1}, session=session)
    refused(None, "POST", "/cart/items", raw=b'{"product_id": "x", "quantity": 1',
            session=session, status=400, type_="malformed-body")
    refused(None, "POST", "/cart/items", raw=json.dumps(item).encode(), session=session,
            content_type="text/plain", status=415)
    refused("X-Session-Id", "GET", "/cart")
    refused("X-Session-Id", "GET", "/cart", headers={"x-session-id": "not-a-uuid"})
    check(lines_of(api.expect(200, "GET", "/cart", session=session)) == {first["id"]: 1},
          "a refused request changed the cart")
    # The catalog.
    refused("id", "GET", "/products/no-such-product", status=404)
    refused("per_page", "GET", "/products?per_page=0")
    refused("page", "GET", "/products?page=abc")
    # A shipping quote.
    good_items = [{"product_id": first["id"], "quantity": 1}]
    refused("items[0].quantity", "POST", "/shipping/quote",
            {"address": address(), "items": [dict(good_items[0], quantity=0)]})
    refused("items", "POST", "/shipping/quote", {"address": address(), "items": []})
    refused("address", "POST", "/shipping/quote", {"items": good_items})
    # Checkout: each body differs from a good one in one field.
    def with_(path, value):
        body = checkout_body(new_email("bad"))
        *parents, last = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
        return body

    for field, value in [
        ("email", "ada.example.org"),
        ("email", KeyError),
        ("card.number", "4242 4242 4242 4241"),   # fails the Luhn check
        ("card.number", "12"),
        ("card.cvv", "1"),
        ("card.exp_month", 13),
        ("card.exp_year", 2020),
        ("address.city", KeyError),
        ("address.postal_code", KeyError),
        ("address.name", ""),
        ("address.country", "UK"),
    ]:
        refused(field, "POST", "/checkout", with_(field, value), session=session, status=422)
    refused("extra", "POST", "/checkout", dict(checkout_body("a@example.com"), extra=1),
            session=session)
    refused(None, "POST", "/checkout", raw=b"{not json", session=session, status=400)
    refused("Idempotency-Key", "POST", "/checkout", checkout_body("a@example.com"),
            session=session, headers={"Idempotency-Key": "has spaces in it"})
    refused("cart", "POST", "/checkout", checkout_body("a@example.com"), session=uuid.uuid4())
    check(lines_of(api.expect(200, "GET", "/cart", session=session)) == {first["id"]: 1},
          "a refused checkout emptied the cart")
    # A control character in any text is refused, naming the field (a NUL would reach
    # PostgreSQL, which cannot hold one).
    nul = "\u0000"
    refused("q", "GET", "/products?q=%00", status=422)
    refused("category", "GET", "/products?category=%00", status=422)
    refused("product_id", "POST", "/cart/items", dict(item, product_id="a" + nul),
            session=session, status=422)
    refused("address.city", "POST", "/shipping/quote",
            {"address": dict(address(), city="Lon" + nul + "don"), "items": good_items},
            status=422)
    refused("email", "POST", "/checkout", with_("email", "a" + nul + "@example.com"),
            session=session, status=422)
    refused("address.street", "POST", "/checkout", with_("address.street", "12\tRow"),
            session=session, status=422)
    refused("card.number", "POST", "/checkout", with_("card.number", "4242" + nul),
            session=session, status=422)
    # Orders and accounts.
    refused("id", "GET", f"/orders/{uuid.uuid4()}", status=404)
    refused("id", "GET", "/orders/not-a-uuid", status=404)
    # Accounts: KrakenD's signer answers every refusal of identity's with a bare 400.
    account = {"email": new_email("bad"), "password": PASSWORD, "name": "Ada"}
    signer_refusals = [
        ("/auth/register", dict(account, email="nobody")),
        ("/auth/register", dict(account, password="short")),
        ("/auth/register", {"email": account["email"], "password": PASSWORD}),
        ("/auth/login", {"email": account["email"], "password": PASSWORD}),
        ("/auth/login", {"email": account["email"]}),
    ]
    signer_refusals.append(("/auth/register", dict(account, name="Ada" + nul)))
    for path, body in signer_refusals:
        answer = api.call("POST", path, body)
        check(answer.status == 400 and not answer.raw.strip(),
              f"{answer}: expected the signer's bare 400, got {answer.raw[:200]!r}")
    _, token, _ = register(api, "nul")
    refused("name", "PATCH", "/me", {"name": "Ada" + nul}, token=token, status=422)
    refused("address.city", "PATCH", "/me",
            {"address": dict(address(), city="Lon" + nul + "don")}, token=token, status=422)
    return (f"{cases} refusals, each a 4xx application/problem+json naming its field; "
            f"{len(signer_refusals)} refused sign-ups and sign-ins, each the signer's bare 400")


def unauthorised_me(api: Api, settings) -> str:
    _, token, claims = register(api, "auth")
    api.expect(200, "GET", "/me", token=token)
    head, signature = jwt_part(token, 0), jwt_signature(token)
    _, other_token, _ = register(api, "auth-other")
    other_sub = jwt_part(other_token, 1)["sub"]
    key = ed25519_key(settings.signing_jwks) if settings.signing_jwks else None

    forged = {
        "no token": None,
        "not a JWT": "not-a-token",
        "another sub, same signature": f"{encode(head, dict(claims, sub=other_sub))}.{signature}",
        "another role claim, same signature":
            f"{encode(head, dict(claims, roles=['admin']))}.{signature}",
        "the other token's signature": f"{token.rsplit('.', 1)[0]}.{jwt_signature(other_token)}",
        "a flipped signature": f"{token.rsplit('.', 1)[0]}."
                               f"{b64(bytes(b ^ 1 for b in unb64(signature)))}",
        "alg none, no signature": f"{encode({'alg': 'none', 'typ': 'JWT'}, dict(claims, sub=other_sub))}.",
        "alg none, original claims": f"{encode({'alg': 'none', 'typ': 'JWT'}, claims)}.",
    }
    past = dict(claims, iat=int(time.time()) - 7200, exp=int(time.time()) - 60)
    if key:
        # Proves the key is the gateway's: a token signed with it is accepted...
        fresh = eddsa(key, head, dict(claims, iat=int(time.time()), exp=int(time.time()) + 300))
        answer = api.call("GET", "/me", token=fresh)
        check(answer.status == 200, f"a token signed with {settings.signing_jwks} was refused "
              f"({answer}): is that the gateway's private key set?")
        # ...so the expired one below is refused for its exp alone, and so on.
        forged["a past exp, correctly signed"] = eddsa(key, head, past)
        forged["another issuer, correctly signed"] = eddsa(key, head, dict(claims, iss="someone-else"))
        forged["another audience, correctly signed"] = eddsa(key, head, dict(claims, aud="someone-else"))
        forged["a token signed with another key"] = eddsa(another_ed25519_key(), head, claims)
        expiry_note = "the expired token correctly signed"
    else:
        forged["a past exp, original signature"] = f"{encode(head, past)}.{signature}"
        expiry_note = "the expired token not re-signed (no gateway key given)"
    for path in ["/me", "/me/cart", "/me/orders"]:
        for name, bad in forged.items():
            answer = api.call("GET", path, token=bad)
            check(answer.status == 401, f"{name}: {answer}, expected 401")
    answer = api.call("GET", "/me/orders", headers={"x-user-id": claims["sub"]})
    check(answer.status == 401, f"an X-User-Id header without a token: {answer}, expected 401")
    answer = api.call("GET", "/me", token=other_token, headers={"x-user-id": claims["sub"]})
    check(answer.status == 200 and answer.body.get("id") == other_sub,
          f"a caller's X-User-Id overrode its token's sub: {answer} {answer.raw[:200]!r}")
    api.expect(200, "GET", "/me", token=token)
    return (f"{len(forged)} bad tokens refused with 401 on /me, /me/cart and /me/orders "
            f"({expiry_note}); a sent X-User-Id is ignored")


def private_routes(api: Api, settings) -> str:
    """Only DESIGN.md's routes are public: no backend's /metrics, /healthz or /readyz,
    nothing outside /api/v1."""
    root = api.base.rsplit("/api/v1", 1)[0]
    paths = ["/metrics", "/healthz", "/readyz", "/emails", "/quotes", "/orders", "/auth/me",
             "/products/../metrics", "/cart/merge"]
    outside = ["/metrics", "/healthz", "/readyz", "/products", "/api/products"]
    for path in paths:
        answer = api.call("GET", path)
        check(answer.status in (404, 405), f"{answer}: a private path answered")
    for path in outside:
        request = urllib.request.Request(root + path, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as refused:
            status = refused.code
        check(status in (404, 405), f"GET {root}{path} -> {status}: a path outside /api/v1 answered")
    request = urllib.request.Request(root + "/__health")
    with urllib.request.urlopen(request, timeout=10) as answer:
        check(answer.status == 200, f"GET /__health -> {answer.status}")
    return f"{len(paths) + len(outside)} private paths not served; /__health answers"


def rate_limits(api: Api, settings) -> str:
    """Placing orders is limited per client (a guest's session): past the limit the
    gateway answers 429 before checkout sees the request; another session is unaffected."""
    session = uuid.uuid4()
    body = checkout_body(new_email("limited"))
    statuses = []
    for _ in range(60):
        # An empty cart: checkout refuses it, so the loop creates nothing.
        answer = api.call("POST", "/checkout", body, session=session,
                          headers={"Idempotency-Key": str(uuid.uuid4())})
        statuses.append(answer.status)
        if answer.status == 429:
            break
    check(statuses[-1] == 429, f"60 checkouts in a row from one session were never limited: {statuses}")
    check(all(400 <= s < 500 and s != 429 for s in statuses[:-1]),
          f"before the limit, checkout answered {statuses}")
    other = api.call("POST", "/checkout", body, session=uuid.uuid4(),
                     headers={"Idempotency-Key": str(uuid.uuid4())})
    check(other.status == statuses[0], f"another session was limited too: {other}")
    return (f"checkout number {len(statuses)} from one session got 429; "
            "another session went through")


def cart_survives_a_redis_restart(api: Api, settings) -> str:
    """Carts are kept across a restart of their Redis (its append-only file): a cart
    written before reads back the same after, once the cart service has reconnected."""
    if not settings.restart_redis:
        return "skipped (no --restart-redis command given)"
    first, second = two_products(api)
    session = uuid.uuid4()
    api.expect(200, "POST", "/cart/items", {"product_id": first["id"], "quantity": 2}, session=session)
    cart = api.expect(200, "POST", "/cart/items", {"product_id": second["id"], "quantity": 1},
                      session=session)
    before = lines_of(cart)
    began = time.monotonic()
    subprocess.run(settings.restart_redis, shell=True, check=True, stdout=subprocess.DEVNULL)
    deadline = began + 60
    while True:
        answer = api.call("GET", "/cart", session=session)
        if answer.status == 200:
            break
        check(answer.status == 503 and time.monotonic() < deadline,
              f"{answer} while Redis restarts (expected 503 for a while, then 200): {answer.raw[:200]!r}")
        time.sleep(0.25)
    after = lines_of(answer.body)
    check(after == before, f"the cart was {before} before Redis restarted, {after} after")
    return f"the cart {before} read back the same {time.monotonic() - began:.1f} s after the restart"


def orders_survive_a_rabbitmq_restart(api: Api, settings) -> str:
    """Checkouts go on while RabbitMQ's pod is deleted and comes back (orders wait in
    checkout's outbox), and every order placed before, during and after reaches its end:
    paid, shipped and mailed. None is lost and none counts twice: the account lists each
    order once, and the e-mail service's outbox (when --emails-command prints it) holds
    exactly one confirmation per order, although messages in flight were redelivered."""
    if not settings.restart_rabbitmq:
        return "skipped (no --restart-rabbitmq command given)"
    first, second = two_products(api)
    email, token, _ = register(api, "broker")
    placed = []

    def place():
        product = (first, second)[len(placed) % 2]
        api.expect(200, "POST", "/me/cart/items",
                   {"product_id": product["id"], "quantity": 1 + len(placed) % 3}, token=token)
        key = str(uuid.uuid4())
        order = api.expect(201, "POST", "/me/checkout", checkout_body(email), token=token,
                           headers={"Idempotency-Key": key})
        check_order(order, "POST /me/checkout")
        check(order["status"] == "placed", f"a new order is {order['status']!r}, not placed")
        placed.append((order["id"], key))

    # Checkouts are limited to 30 a minute per account: a few before, one every second
    # while the pod is deleted and comes back (at most 20), one after.
    for _ in range(3):
        place()
    began = time.monotonic()
    restart = subprocess.Popen(settings.restart_rabbitmq, shell=True, stdout=subprocess.DEVNULL)
    during = 0
    try:
        while restart.poll() is None and during < 20:
            place()
            during += 1
            time.sleep(1)
        status = restart.wait(timeout=180)
    finally:
        if restart.poll() is None:
            restart.kill()
    check(status == 0, f"the RabbitMQ restart command failed ({status})")
    restarted = time.monotonic() - began
    place()

    for order_id, _ in placed:
        wait_for_order(api, order_id, settled_paid, max(settings.settle_seconds, 120), token=token)
    settled = time.monotonic() - began
    ids = [order_id for order_id, _ in placed]
    listed = [o["id"] for o in api.expect(200, "GET", "/me/orders", token=token)["items"]]
    check(sorted(listed) == sorted(ids),
          f"GET /me/orders lists {len(listed)} orders ({len(set(listed))} distinct), "
          f"{len(ids)} were placed")
    # A client retrying a checkout it sent while the broker was away gets the same order.
    retried_id, retried_key = placed[3] if during else placed[0]
    again = api.expect(201, "POST", "/me/checkout", checkout_body(email), token=token,
                       headers={"Idempotency-Key": retried_key})
    check(again["id"] == retried_id,
          f"a retried checkout answered order {again['id']}, not {retried_id}")
    mails = ""
    if settings.emails_command:
        out = subprocess.run(settings.emails_command, shell=True, check=True,
                             capture_output=True, text=True).stdout
        kept = [m.get("order_id") for doc in out.split("\n") if doc.strip()
                for m in json.loads(doc).get("items", [])]
        counts = {order_id: kept.count(order_id) for order_id in ids}
        wrong = {order_id: n for order_id, n in counts.items() if n != 1}
        check(not wrong, f"confirmation mails per order, expected exactly 1: {wrong}")
        mails = ", one confirmation mail each"
    return (f"{len(ids)} orders ({during} placed while RabbitMQ's pod was deleted and came "
            f"back in {restarted:.1f} s) all paid, shipped and mailed {settled:.1f} s after the "
            f"deletion; listed once each{mails}")


SCENARIOS = [guest_purchase, registered_purchase, declined_card, bad_inputs, unauthorised_me,
             private_routes, rate_limits, cart_survives_a_redis_restart,
             orders_survive_a_rabbitmq_restart]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000/api/v1",
                        help="the public API's base URL (default: the local stack's gateway)")
    parser.add_argument("--only", nargs="+", choices=[s.__name__ for s in SCENARIOS],
                        help="run only these scenarios")
    parser.add_argument("--settle-seconds", type=float, default=60,
                        help="how long an order may take to be paid or failed (default 60)")
    parser.add_argument("--restart-redis", metavar="COMMAND",
                        help="a shell command restarting the carts' Redis (the restart scenario "
                             "is skipped without it)")
    parser.add_argument("--restart-rabbitmq", metavar="COMMAND",
                        help="a shell command deleting RabbitMQ's pod and waiting for its successor "
                             "(the broker scenario is skipped without it)")
    parser.add_argument("--emails-command", metavar="COMMAND",
                        help="a shell command printing the e-mail service's GET /emails (JSON, one "
                             "document a line: one per pod), to count the confirmations per order")
    parser.add_argument("--signing-jwks", metavar="FILE",
                        help="the gateway's private JWK set, if known (signs test tokens)")
    settings = parser.parse_args()
    api = Api(settings.api)
    started = time.monotonic()
    chosen = [s for s in SCENARIOS if not settings.only or s.__name__ in settings.only]
    for scenario in chosen:
        name = scenario.__name__.replace("_", " ")
        began = time.monotonic()
        try:
            summary = scenario(api, settings)
        except Failure as failure:
            print(f"FAIL {name} ({time.monotonic() - began:.1f} s): {failure}", flush=True)
            sys.exit(1)
        print(f"ok   {name} ({time.monotonic() - began:.1f} s): {summary}", flush=True)
    print(f"{len(chosen)} scenarios passed against {settings.api} in "
          f"{time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
