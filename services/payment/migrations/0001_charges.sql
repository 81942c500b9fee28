-- One mock charge per order: the ledger that makes a redelivered order.placed a no-op
-- (its first decision is read back and re-published). Never a card number: last four only.
CREATE TABLE charges (
    order_id       uuid PRIMARY KEY,
    transaction_id text NOT NULL CHECK (transaction_id <> ''),
    outcome        text NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    -- Set exactly when the charge failed: card_declined, insufficient_funds.
    reason         text CHECK ((outcome = 'failed') = (reason IS NOT NULL)),
    amount_minor   bigint NOT NULL CHECK (amount_minor >= 0),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    card_last4     text NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
    created_at     timestamptz NOT NULL DEFAULT now()
);
