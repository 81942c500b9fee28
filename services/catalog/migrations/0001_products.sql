-- Products and their search document. Prices are integer minor units.
CREATE TABLE products (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9-]{1,64}$'),
    name        text NOT NULL CHECK (name <> ''),
    description text NOT NULL,
    picture     text NOT NULL,
    price_minor bigint NOT NULL CHECK (price_minor >= 0),
    currency    char(3) NOT NULL DEFAULT 'USD',
    categories  text[] NOT NULL DEFAULT '{}',
    -- Name weighs more than description when ranking.
    search      tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('english', name), 'A') ||
                    setweight(to_tsvector('english', description), 'B')
                ) STORED
);

CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_categories_idx ON products USING gin (categories);
