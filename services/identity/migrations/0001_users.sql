-- Accounts. The e-mail keeps the case the user typed; uniqueness ignores case.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CHECK (email <> ''),
    name          text NOT NULL CHECK (name <> ''),
    -- A PHC string; anything but argon2id here would be a bug in the service.
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    address       jsonb CHECK (address IS NULL OR jsonb_typeof(address) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Login and the uniqueness check both look accounts up by lower(email).
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
