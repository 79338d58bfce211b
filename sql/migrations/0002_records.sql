-- Sales records (issue 3): companies, counterparties, contacts with their phones,
-- e-mails and messenger ids, comments, the audit log, and the hooks later issues extend:
--
--   * contact_merge_refs        tables whose rows follow a contact into a merge
--   * records_contact_calls     the view the company card reads its last call from
--   * records_contact_activity  trigger function to attach to tables feeding that view
--
-- Times come from the server clock (bind parameters), never from now(): tests move it.
-- "Live" means not soft-deleted. docs/RECORDS.md explains the hooks.

-- ---------------------------------------------------------------------------
-- Companies and counterparties

CREATE TABLE companies (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    website         text CHECK (length(website) BETWEEN 1 AND 300),
    address         text CHECK (length(address) BETWEEN 1 AND 1000),
    notes           text CHECK (length(notes) BETWEEN 1 AND 10000),
    owner_id        bigint REFERENCES users(id),
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    created_by      bigint REFERENCES users(id),
    updated_at      timestamptz NOT NULL,
    updated_by      bigint REFERENCES users(id),
    deleted_at      timestamptz,
    deleted_by      bigint REFERENCES users(id),
    -- Derived (see "Company card derived fields" below); never written by repositories.
    last_change_at  timestamptz NOT NULL,
    last_call_at    timestamptz,
    last_call_kind  text
);
CREATE INDEX companies_last_change_idx ON companies (last_change_at DESC, id DESC);
CREATE INDEX companies_owner_idx ON companies (owner_id);
CREATE INDEX companies_name_trgm_idx ON companies USING gin (name gin_trgm_ops);

CREATE TABLE counterparties (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id  bigint NOT NULL REFERENCES companies(id),
    legal_name  text NOT NULL CHECK (length(legal_name) BETWEEN 1 AND 300),
    -- ЄДРПОУ (8 digits) of a legal entity, or РНОКПП (10 digits) of a sole trader.
    edrpou      text CHECK (edrpou ~ '^[0-9]{8}([0-9]{2})?$'),
    vat_number  text CHECK (vat_number ~ '^([0-9]{10}|[0-9]{12})$'),
    address     text CHECK (length(address) BETWEEN 1 AND 1000),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    created_by  bigint REFERENCES users(id),
    updated_at  timestamptz NOT NULL,
    updated_by  bigint REFERENCES users(id)
);
CREATE UNIQUE INDEX counterparties_edrpou_key ON counterparties (edrpou) WHERE edrpou IS NOT NULL;
CREATE INDEX counterparties_company_idx ON counterparties (company_id);

-- ---------------------------------------------------------------------------
-- Contacts

CREATE TABLE contacts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    full_name       text CHECK (length(full_name) BETWEEN 1 AND 200),
    position        text CHECK (length(position) BETWEEN 1 AND 200),
    -- The organisation the person named, as written (before or without a company card).
    organization    text CHECK (length(organization) BETWEEN 1 AND 300),
    company_id      bigint REFERENCES companies(id),
    contact_group   text NOT NULL CONSTRAINT contacts_group_check CHECK (contact_group IN ('lead', 'contact', 'client')),
    source          text NOT NULL CONSTRAINT contacts_source_check
                    CHECK (source IN ('phone', 'email', 'telegram', 'viber', 'facebook', 'instagram', 'site', 'manual', 'import')),
    owner_id        bigint REFERENCES users(id),
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    created_by      bigint REFERENCES users(id),
    updated_at      timestamptz NOT NULL,   -- the card's last change
    updated_by      bigint REFERENCES users(id),
    deleted_at      timestamptz,
    deleted_by      bigint REFERENCES users(id),
    merged_into_id  bigint REFERENCES contacts(id),
    CHECK (merged_into_id IS NULL OR deleted_at IS NOT NULL),
    CHECK (merged_into_id IS DISTINCT FROM id)
);
CREATE INDEX contacts_changed_idx ON contacts (updated_at DESC, id DESC);
CREATE INDEX contacts_owner_idx ON contacts (owner_id);
CREATE INDEX contacts_company_idx ON contacts (company_id);
CREATE INDEX contacts_merged_into_idx ON contacts (merged_into_id) WHERE merged_into_id IS NOT NULL;
CREATE INDEX contacts_name_trgm_idx ON contacts USING gin (full_name gin_trgm_ops);
CREATE INDEX contacts_organization_trgm_idx ON contacts USING gin (organization gin_trgm_ops);

-- Phones: as written and as E.164. A number libphonenumber cannot read keeps e164 NULL
-- (flagged on the wire as parsed=false) and stays searchable by its digits (search_key).
-- `live` mirrors "the contact is not deleted" (maintained by triggers below) so that the
-- uniqueness of a number across live contacts is a plain partial unique index.
CREATE TABLE contact_phones (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id  bigint NOT NULL REFERENCES contacts(id),
    position    integer NOT NULL,            -- 0 = primary
    label       text CHECK (length(label) BETWEEN 1 AND 40),
    written     text NOT NULL CHECK (length(written) BETWEEN 1 AND 100),
    e164        text CHECK (e164 ~ '^\+[1-9][0-9]{1,14}$'),
    extension   text CHECK (extension ~ '^[0-9]{1,20}$'),
    search_key  text NOT NULL,               -- digits only
    valid       boolean NOT NULL,
    kind        text NOT NULL,
    live        boolean NOT NULL DEFAULT true
);
-- One person, one card: a line (number + extension) belongs to one live contact.
CREATE UNIQUE INDEX contact_phones_live_number_key ON contact_phones (e164, (coalesce(extension, '')))
    WHERE live AND e164 IS NOT NULL;
CREATE INDEX contact_phones_contact_idx ON contact_phones (contact_id, position);
CREATE INDEX contact_phones_search_trgm_idx ON contact_phones USING gin (search_key gin_trgm_ops);

CREATE TABLE contact_emails (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id  bigint NOT NULL REFERENCES contacts(id),
    position    integer NOT NULL,
    label       text CHECK (length(label) BETWEEN 1 AND 40),
    address     text NOT NULL CHECK (length(address) BETWEEN 3 AND 320),   -- cleaned, case as written
    normalized  text NOT NULL CHECK (length(normalized) BETWEEN 3 AND 320), -- lower case, NFC: the key
    live        boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX contact_emails_live_key ON contact_emails (normalized) WHERE live;
CREATE INDEX contact_emails_contact_idx ON contact_emails (contact_id, position);

-- Messenger accounts: the network's stable user id (external_id) and/or the public
-- handle (@username). Either identifies one person on that network.
CREATE TABLE contact_messengers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id   bigint NOT NULL REFERENCES contacts(id),
    position     integer NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('telegram', 'viber', 'facebook', 'instagram')),
    external_id  text CHECK (length(external_id) BETWEEN 1 AND 200),
    handle       text CHECK (length(handle) BETWEEN 1 AND 100),   -- without '@', lower case
    live         boolean NOT NULL DEFAULT true,
    CHECK (external_id IS NOT NULL OR handle IS NOT NULL)
);
CREATE UNIQUE INDEX contact_messengers_live_id_key ON contact_messengers (kind, external_id)
    WHERE live AND external_id IS NOT NULL;
CREATE UNIQUE INDEX contact_messengers_live_handle_key ON contact_messengers (kind, handle)
    WHERE live AND handle IS NOT NULL;
CREATE INDEX contact_messengers_contact_idx ON contact_messengers (contact_id, position);

-- A child row is live when its contact is. Set on insert and when the row moves to
-- another contact (merge).
CREATE FUNCTION records_child_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.live := EXISTS (SELECT 1 FROM contacts WHERE id = NEW.contact_id AND deleted_at IS NULL);
    RETURN NEW;
END $$;
CREATE TRIGGER contact_phones_live BEFORE INSERT OR UPDATE OF contact_id ON contact_phones
    FOR EACH ROW EXECUTE FUNCTION records_child_live();
CREATE TRIGGER contact_emails_live BEFORE INSERT OR UPDATE OF contact_id ON contact_emails
    FOR EACH ROW EXECUTE FUNCTION records_child_live();
CREATE TRIGGER contact_messengers_live BEFORE INSERT OR UPDATE OF contact_id ON contact_messengers
    FOR EACH ROW EXECUTE FUNCTION records_child_live();

-- Deleting or restoring a contact flips its children; a restore that would make a number
-- live twice fails here with a unique violation (the repository answers `duplicate`).
CREATE FUNCTION records_contact_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE contact_phones SET live = (NEW.deleted_at IS NULL) WHERE contact_id = NEW.id;
    UPDATE contact_emails SET live = (NEW.deleted_at IS NULL) WHERE contact_id = NEW.id;
    UPDATE contact_messengers SET live = (NEW.deleted_at IS NULL) WHERE contact_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER contacts_live AFTER UPDATE OF deleted_at ON contacts
    FOR EACH ROW WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at) EXECUTE FUNCTION records_contact_live();

-- ---------------------------------------------------------------------------
-- Comments: on a contact (company_id = the contact's company when written, so the
-- comment stays in that company's history) or on a company (contact_id NULL). A company
-- card shows its own comments, those written while a contact belonged to it, and those
-- of its current live contacts.

CREATE TABLE comments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id  bigint REFERENCES contacts(id),
    company_id  bigint REFERENCES companies(id),
    author_id   bigint REFERENCES users(id),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at  timestamptz NOT NULL,
    CHECK (contact_id IS NOT NULL OR company_id IS NOT NULL)
);
CREATE INDEX comments_contact_idx ON comments (contact_id, created_at);
CREATE INDEX comments_company_idx ON comments (company_id, created_at);

-- ---------------------------------------------------------------------------
-- Company card derived fields: last_change_at, last_call_at, last_call_kind.
-- This section is the only place they are computed.
--
-- last_change_at: the latest of the company card's own changes, any change of a contact
--   card linked to it (or leaving it), a counterparty change, a comment on it or on one
--   of its contacts. Monotonic.
-- last_call_at / last_call_kind: the latest row of records_contact_calls over the
--   company's live contacts. Recomputed by records_refresh_company_calls(company_id).

-- The calls the company card sees. Issue 4 replaces the body in its own migration,
-- keeping the three columns, e.g.
--   CREATE OR REPLACE VIEW records_contact_calls AS
--       SELECT contact_id, started_at AS at, kind FROM calls WHERE contact_id IS NOT NULL;
-- and attaches records_contact_activity() to the calls table (see below).
CREATE VIEW records_contact_calls AS
    SELECT NULL::bigint AS contact_id, NULL::timestamptz AS at, NULL::text AS kind WHERE false;

CREATE FUNCTION records_refresh_company_calls(p_company_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_at timestamptz;
    v_kind text;
BEGIN
    IF p_company_id IS NULL THEN RETURN; END IF;
    SELECT x.at, x.kind INTO v_at, v_kind
    FROM records_contact_calls x JOIN contacts c ON c.id = x.contact_id
    WHERE c.company_id = p_company_id AND c.deleted_at IS NULL
    ORDER BY x.at DESC NULLS LAST
    LIMIT 1;
    UPDATE companies SET last_call_at = v_at, last_call_kind = v_kind
    WHERE id = p_company_id AND (last_call_at, last_call_kind) IS DISTINCT FROM (v_at, v_kind);
END $$;

-- Trigger function for any table with a contact_id column whose rows feed
-- records_contact_calls (issue 4: AFTER INSERT OR UPDATE OR DELETE ON calls FOR EACH ROW).
CREATE FUNCTION records_contact_activity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_new bigint;
    v_old bigint;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        SELECT company_id INTO v_new FROM contacts WHERE id = NEW.contact_id;
        PERFORM records_refresh_company_calls(v_new);
    END IF;
    IF TG_OP <> 'INSERT' THEN
        SELECT company_id INTO v_old FROM contacts WHERE id = OLD.contact_id;
        IF v_old IS DISTINCT FROM v_new THEN PERFORM records_refresh_company_calls(v_old); END IF;
    END IF;
    RETURN NULL;
END $$;

-- Moves last_change_at forward to p_at (never back).
CREATE FUNCTION records_touch_company(p_company_id bigint, p_at timestamptz) RETURNS void LANGUAGE sql AS $$
    UPDATE companies SET last_change_at = p_at WHERE id = p_company_id AND last_change_at < p_at;
$$;

CREATE FUNCTION records_company_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_change_at := greatest(NEW.last_change_at, NEW.updated_at);
    RETURN NEW;
END $$;
CREATE TRIGGER companies_stamp BEFORE INSERT OR UPDATE ON companies
    FOR EACH ROW EXECUTE FUNCTION records_company_stamp();

CREATE FUNCTION records_contact_company_activity() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_company bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.company_id IS DISTINCT FROM NEW.company_id THEN
        -- The contact left one company for another: both cards changed. Lock them in id
        -- order so that two opposite moves cannot deadlock.
        FOR v_company IN SELECT x FROM unnest(ARRAY[OLD.company_id, NEW.company_id]) AS x WHERE x IS NOT NULL ORDER BY x LOOP
            PERFORM records_touch_company(v_company, NEW.updated_at);
            PERFORM records_refresh_company_calls(v_company);
        END LOOP;
    ELSE
        PERFORM records_touch_company(NEW.company_id, NEW.updated_at);
        IF TG_OP = 'UPDATE' AND OLD.deleted_at IS DISTINCT FROM NEW.deleted_at THEN
            PERFORM records_refresh_company_calls(NEW.company_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER contacts_company_activity AFTER INSERT OR UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION records_contact_company_activity();

CREATE FUNCTION records_counterparty_company_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM records_touch_company(NEW.company_id, NEW.updated_at);
    IF TG_OP = 'UPDATE' AND OLD.company_id IS DISTINCT FROM NEW.company_id THEN
        PERFORM records_touch_company(OLD.company_id, NEW.updated_at);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER counterparties_company_activity AFTER INSERT OR UPDATE ON counterparties
    FOR EACH ROW EXECUTE FUNCTION records_counterparty_company_activity();

CREATE FUNCTION records_comment_company_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM records_touch_company(NEW.company_id, NEW.created_at);
    IF NEW.contact_id IS NOT NULL THEN
        PERFORM records_touch_company(c.company_id, NEW.created_at)
        FROM contacts c WHERE c.id = NEW.contact_id AND c.company_id IS DISTINCT FROM NEW.company_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER comments_company_activity AFTER INSERT ON comments
    FOR EACH ROW EXECUTE FUNCTION records_comment_company_activity();

-- ---------------------------------------------------------------------------
-- Merge hook: every (table, column) referencing contacts(id) whose rows must follow a
-- contact merged into another. Later issues register their tables in their own
-- migrations:
--   INSERT INTO contact_merge_refs (table_name, column_name) VALUES ('leads', 'contact_id');
-- A table needing more than "repoint the column" (e.g. a unique per contact) names a
-- function f(p_from bigint, p_into bigint) RETURNS bigint (rows moved) in `mover`.
-- A test fails when a foreign key to contacts(id) is neither registered here nor in
-- contact_merge_exempt.

CREATE TABLE contact_merge_refs (
    table_name   text NOT NULL,
    column_name  text NOT NULL,
    mover        regproc,
    PRIMARY KEY (table_name, column_name)
);
INSERT INTO contact_merge_refs (table_name, column_name) VALUES
    ('contact_phones', 'contact_id'),
    ('contact_emails', 'contact_id'),
    ('contact_messengers', 'contact_id'),
    ('comments', 'contact_id');

-- Foreign keys to contacts(id) that deliberately do not move in a merge.
CREATE TABLE contact_merge_exempt (
    table_name   text NOT NULL,
    column_name  text NOT NULL,
    reason       text NOT NULL,
    PRIMARY KEY (table_name, column_name)
);
INSERT INTO contact_merge_exempt VALUES
    ('contacts', 'merged_into_id', 'the merge itself: points from the merged card to the survivor');

-- Moves every registered reference from p_from to p_into. Returns {"table.column": rows}.
CREATE FUNCTION records_move_contact_refs(p_from bigint, p_into bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n bigint;
    moved jsonb := '{}';
BEGIN
    FOR r IN SELECT table_name, column_name, mover FROM contact_merge_refs ORDER BY table_name, column_name LOOP
        IF r.mover IS NOT NULL THEN
            EXECUTE format('SELECT %s($1, $2)', r.mover) INTO n USING p_from, p_into;
        ELSE
            EXECUTE format('UPDATE %I SET %I = $1 WHERE %I = $2', r.table_name, r.column_name, r.column_name)
                USING p_into, p_from;
            GET DIAGNOSTICS n = ROW_COUNT;
        END IF;
        moved := moved || jsonb_build_object(r.table_name || '.' || r.column_name, coalesce(n, 0));
    END LOOP;
    RETURN moved;
END $$;

-- ---------------------------------------------------------------------------
-- Audit log: who, when, which method, before/after of the changed fields. Written in
-- the same transaction as the change (AuditRepository.record). Entities of later
-- issues write here too, with their own `entity` names.

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    bigint REFERENCES users(id),
    method      text NOT NULL,
    request_id  text,
    entity      text NOT NULL,
    entity_id   bigint NOT NULL,
    action      text NOT NULL,
    changes     jsonb NOT NULL    -- {"field": {"before": ..., "after": ...}, ...}
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);

-- {"k": {"before": a->k, "after": b->k}} for every key whose value differs.
CREATE FUNCTION records_jsonb_diff(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(k, jsonb_build_object('before', coalesce(a -> k, 'null'), 'after', coalesce(b -> k, 'null'))), '{}')
    FROM (SELECT jsonb_object_keys(coalesce(a, '{}')) UNION SELECT jsonb_object_keys(coalesce(b, '{}'))) AS keys(k)
    WHERE coalesce(a -> k, 'null') IS DISTINCT FROM coalesce(b -> k, 'null')
$$;

-- Snapshots: the audited fields of one record as JSON (NULL when it does not exist).
CREATE FUNCTION records_contact_snapshot(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'full_name', c.full_name, 'position', c.position, 'organization', c.organization,
        'company_id', c.company_id, 'group', c.contact_group, 'source', c.source, 'owner_id', c.owner_id,
        'deleted_at', c.deleted_at, 'merged_into_id', c.merged_into_id,
        'phones', coalesce((SELECT jsonb_agg(jsonb_build_object('number', p.written, 'e164', p.e164, 'label', p.label) ORDER BY p.position, p.id)
                            FROM contact_phones p WHERE p.contact_id = c.id), '[]'),
        'emails', coalesce((SELECT jsonb_agg(jsonb_build_object('address', e.address, 'label', e.label) ORDER BY e.position, e.id)
                            FROM contact_emails e WHERE e.contact_id = c.id), '[]'),
        'messengers', coalesce((SELECT jsonb_agg(jsonb_build_object('kind', m.kind, 'external_id', m.external_id, 'handle', m.handle) ORDER BY m.position, m.id)
                                FROM contact_messengers m WHERE m.contact_id = c.id), '[]'))
    FROM contacts c WHERE c.id = p_id
$$;

CREATE FUNCTION records_company_snapshot(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('name', name, 'website', website, 'address', address, 'notes', notes,
                              'owner_id', owner_id, 'deleted_at', deleted_at)
    FROM companies WHERE id = p_id
$$;

CREATE FUNCTION records_counterparty_snapshot(p_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('company_id', company_id, 'legal_name', legal_name, 'edrpou', edrpou,
                              'vat_number', vat_number, 'address', address)
    FROM counterparties WHERE id = p_id
$$;
