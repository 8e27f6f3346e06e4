-- 0005 the unified address library: serials that are never reused, and every version of every
-- standard address, so that the library can be read as of any date.

-- The last serial handed out under a code prefix (e.g. a community's 'D' door serials). It only
-- grows: a retired code's serial is never handed out again.
CREATE TABLE twin.code_counter (
    prefix text PRIMARY KEY,
    last   bigint NOT NULL CHECK (last >= 0)
);

-- Earlier versions of addresses: the row as it was, valid from valid_from until valid_to.
CREATE TABLE twin.address_history (
    code            text NOT NULL,
    version         integer NOT NULL,
    level           text NOT NULL,
    text            text NOT NULL,
    parent_code     text,
    status          text NOT NULL,
    successor_codes text[] NOT NULL,
    elements        jsonb NOT NULL,
    geom            geometry(Point, 4326),
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz NOT NULL,
    changed_by      text NOT NULL,
    reason          text,
    PRIMARY KEY (code, version),
    CHECK (valid_to >= valid_from)
);
CREATE INDEX address_history_code_time_idx ON twin.address_history (code, valid_from, valid_to);

-- Every update of an address keeps the old row in the history, bumps the version and starts
-- the new version now. Who and why come from the session (twin.actor, twin.reason).
CREATE FUNCTION twin.address_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at timestamptz := clock_timestamp();
BEGIN
    IF NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;
    END IF;
    INSERT INTO twin.address_history (code, version, level, text, parent_code, status,
        successor_codes, elements, geom, valid_from, valid_to, changed_by, reason)
    VALUES (OLD.code, OLD.version, OLD.level, OLD.text, OLD.parent_code, OLD.status,
        OLD.successor_codes, OLD.elements, OLD.geom, OLD.valid_from, greatest(at, OLD.valid_from),
        coalesce(nullif(current_setting('twin.actor', true), ''), session_user),
        nullif(current_setting('twin.reason', true), ''));
    NEW.version := OLD.version + 1;
    NEW.valid_from := greatest(at, OLD.valid_from);
    -- A retired address's last version starts and ends at its retirement; reads as of any
    -- later date find it retired, with its successors.
    IF NEW.status = 'retired' THEN
        NEW.valid_to := NEW.valid_from;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER address_versioned BEFORE UPDATE ON twin.address
    FOR EACH ROW EXECUTE FUNCTION twin.address_versioned();
