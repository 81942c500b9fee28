-- One confirmation per order: the ledger that makes a redelivered order.placed a no-op
-- (email.sent is re-published, nothing is sent again). Written right after the send.
CREATE TABLE emails (
    order_id  uuid PRIMARY KEY,
    recipient text NOT NULL CHECK (recipient <> ''),
    subject   text NOT NULL CHECK (subject <> ''),
    sent_at   timestamptz NOT NULL DEFAULT now()
);
