-- contact.import (issue 7): finding the company a spreadsheet row names, and the
-- person a row without phone, e-mail or messenger account names.
--
-- Names are compared by records_name_key: quote marks of any style dropped (ТОВ "Папір",
-- ТОВ «Папір» and ТОВ Папір are one name), runs of whitespace made one space, trimmed,
-- lower-cased. Company names are not unique (two firms may share one); the import takes
-- the one visible match, or reports several.

CREATE FUNCTION records_name_key(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN lower(btrim(regexp_replace(regexp_replace(t, '["«»“”„‟''’‘`]', '', 'g'), '\s+', ' ', 'g')));

CREATE INDEX companies_name_key_idx ON companies (records_name_key(name)) WHERE deleted_at IS NULL;
CREATE INDEX contacts_name_key_idx ON contacts (records_name_key(full_name)) WHERE deleted_at IS NULL AND full_name IS NOT NULL;
