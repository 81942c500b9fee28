-- One mock shipment per order: the ledger that makes redelivered messages no-ops and
-- remembers a cancellation that arrived before the order (payment.failed can overtake
-- order.placed), so a late order.placed does not ship.
CREATE TABLE shipments (
    order_id    uuid PRIMARY KEY,
    tracking_id text NOT NULL CHECK (tracking_id ~ '^1Z[0-9A-F]{16}$'),
    status      text NOT NULL CHECK (status IN ('created', 'cancelled')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
