-- Every change to products is announced on the channel `products_changed`, after its
-- transaction commits; catalog listens and drops the answers it keeps in memory.
CREATE FUNCTION announce_products_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('products_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER products_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION announce_products_changed();
