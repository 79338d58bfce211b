-- Responses as events (issue 4, second review).
--
-- A response to a client (an answered inbound or outbound call, a manager's written
-- reply, `inquiry.respond`) used to exist only as `first_response_at` on the inquiries
-- it answered at the moment it was recorded. Robots deliver out of order, so an inquiry
-- delivered after the response that answered it found nothing and waited for ever (a
-- callback delivered before the missed call, a reply before the client's e-mail).
-- Every response is now kept here too; an inquiry recorded later takes the earliest one
-- at or after its reception that may answer its lead (docs/LEADS.md, "Responses and
-- waiting"), so the order of delivery does not change the outcome.

CREATE TABLE contact_responses (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id        bigint NOT NULL REFERENCES contacts(id),
    at                timestamptz NOT NULL,
    by_id             bigint REFERENCES users(id),
    kind              text NOT NULL CHECK (kind IN ('call_answered', 'call_outbound', 'message_outbound', 'manual')),
    -- Whose leads it may answer: the responder's Visibility (KontorDomain) when it was
    -- recorded. Robots answer for everyone (scope_all); a manager's `inquiry.respond`
    -- answers only leads they can see: unowned ones and those of their department
    -- (scope_department; NULL with scope_all false = unowned leads only).
    scope_all         boolean NOT NULL,
    scope_department  text CHECK (scope_department IN ('development', 'service')),
    created_at        timestamptz NOT NULL,
    CHECK (NOT (scope_all AND scope_department IS NOT NULL))
);
CREATE INDEX contact_responses_contact_idx ON contact_responses (contact_id, at);
CREATE INDEX contact_responses_by_idx ON contact_responses (by_id) WHERE by_id IS NOT NULL;

-- A response follows its contact into a merge, like the inquiries it answers.
INSERT INTO contact_merge_refs (table_name, column_name) VALUES ('contact_responses', 'contact_id');
