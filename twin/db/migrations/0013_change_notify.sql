-- Change notifications for the API's in-memory caches.
--
-- twin_library: any change of the standard addresses or the administrative units (one
-- notification per statement, whatever the rows) empties the API's cache of matched codes'
-- standard texts and locations (api/changes.py), so a geocoding answer never shows a text or
-- a location older than the library's.
-- twin_keys: a key changed or deleted (revoked, expired early, renamed) is dropped at once
-- from the API's cache of verified keys, instead of being trusted until the cache's expiry.
--
-- ENABLE ALWAYS: bulk sessions (session_replication_role = replica) notify too.

CREATE FUNCTION twin.notify_library() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('twin_library', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TRIGGER address_library_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON twin.address
    FOR EACH STATEMENT EXECUTE FUNCTION twin.notify_library();
CREATE TRIGGER admin_unit_library_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON twin.admin_unit
    FOR EACH STATEMENT EXECUTE FUNCTION twin.notify_library();
ALTER TABLE twin.address ENABLE ALWAYS TRIGGER address_library_notify;
ALTER TABLE twin.admin_unit ENABLE ALWAYS TRIGGER admin_unit_library_notify;

CREATE FUNCTION twin.notify_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('twin_keys', OLD.key_id);
    RETURN NULL;
END $$;

CREATE TRIGGER api_key_notify AFTER UPDATE OR DELETE ON twin.api_key
    FOR EACH ROW EXECUTE FUNCTION twin.notify_key();
ALTER TABLE twin.api_key ENABLE ALWAYS TRIGGER api_key_notify;
