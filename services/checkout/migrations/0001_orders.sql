-- Orders, their lines, the outbox that carries order.placed to RabbitMQ, and the
-- idempotency keys of POST /orders. Money is integer minor units. No card number and
-- no CVV is ever stored: only brand, last four digits and expiry.

CREATE TABLE orders (
    id                     uuid PRIMARY KEY,
    -- Whose cart it came from: 's:{session uuid}' or 'u:{user uuid}'.
    owner                  text NOT NULL CHECK (owner ~ '^[su]:[0-9a-f-]{36}$'),
    user_id                uuid,
    email                  text NOT NULL,
    address                jsonb NOT NULL,
    status                 text NOT NULL CHECK (status IN ('placed', 'paid', 'payment_failed')),
    currency               char(3) NOT NULL,
    shipping_cost_minor    bigint NOT NULL CHECK (shipping_cost_minor >= 0),
    total_minor            bigint NOT NULL CHECK (total_minor >= 0),
    card_brand             text NOT NULL,
    card_last4             char(4) NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
    card_exp_month         smallint NOT NULL CHECK (card_exp_month BETWEEN 1 AND 12),
    card_exp_year          smallint NOT NULL,
    transaction_id         text,
    payment_failure_reason text,
    tracking_id            text,
    shipment_cancelled     boolean NOT NULL DEFAULT false,
    email_sent             boolean NOT NULL DEFAULT false,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK ((owner LIKE 'u:%') = (user_id IS NOT NULL))
);

-- GET /orders?user= lists a user's orders newest first.
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC) WHERE user_id IS NOT NULL;

CREATE TABLE order_lines (
    order_id         uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no          integer NOT NULL CHECK (line_no >= 0),
    product_id       text NOT NULL,
    name             text NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line_no)
);

-- Written in the transaction that takes the order; the relay publishes rows in id order
-- and sets sent_at only after the broker confirmed the message.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    body        jsonb NOT NULL,
    -- W3C trace context of the request that took the order, so the publish joins its trace.
    traceparent text,
    tracestate  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);

-- The relay only ever looks for unsent rows; sent ones stay out of the index.
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;

-- The primary key is what makes two concurrent POSTs with one key take ONE order:
-- the second insert waits for the first transaction and then fails.
CREATE TABLE idempotency_keys (
    owner        text NOT NULL,
    key          text NOT NULL,
    -- SHA-256 of the request as validated, with the card reduced to brand, last four
    -- and expiry (never a hash of the card number: that is guessable).
    request_hash bytea NOT NULL,
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key)
);
