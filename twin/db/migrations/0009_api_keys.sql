-- 0009 API keys and roles: who may call the API, with which role, within which block.
--
-- A key is shown once, at creation, as `twin_<key_id>_<secret>`; only the SHA-256 of the secret
-- is stored (the secret is 256 random bits, so a plain hash is enough: there is nothing to
-- guess). A grid worker's key is scoped to a community or grid; a system key has a rate
-- limit and a daily quota. Keys are revoked, never deleted, so the audit log keeps its names.
CREATE TABLE twin.api_key (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id          text NOT NULL UNIQUE CHECK (key_id ~ '^[0-9a-f]{12}$'),
    secret_sha256   text NOT NULL CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
    name            text NOT NULL CHECK (btrim(name) <> ''),
    role            text NOT NULL CHECK (role IN ('admin', 'supervisor', 'grid_worker',
                                                  'planner', 'system')),
    scope_code      text REFERENCES twin.admin_unit (code),
    rate_per_minute integer CHECK (rate_per_minute IS NULL OR rate_per_minute > 0),
    quota_per_day   integer CHECK (quota_per_day IS NULL OR quota_per_day > 0),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    revoked_at      timestamptz,
    CONSTRAINT api_key_grid_worker_scope CHECK (role <> 'grid_worker' OR scope_code IS NOT NULL)
);
CREATE TRIGGER api_key_audit AFTER INSERT OR UPDATE ON twin.api_key
    FOR EACH ROW EXECUTE FUNCTION twin.audit_row('key_id');
CREATE FUNCTION twin.api_key_not_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'API keys are revoked, not deleted' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER api_key_no_delete BEFORE DELETE ON twin.api_key
    FOR EACH ROW EXECUTE FUNCTION twin.api_key_not_deleted();
