-- Responses as events, and indexes for the waiting lists (issue 4, second review).
--
-- A response to a client (an answered inbound or outbound call, a manager's written
-- reply, `inquiry.respond`) used to exist only as `first_response_at` on the inquiries
-- it answered at the moment it was recorded. Robots deliver out of order, so an inquiry
-- delivered after the response that answered it found nothing and waited for ever.
-- Every response is now kept here too; a new inquiry takes the earliest one at or after
-- its reception (docs/LEADS.md, "Responses and waiting").

CREATE TABLE contact_responses (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id        bigint NOT NULL REFERENCES contacts(id),
    at                timestamptz NOT NULL,
    by_id             bigint REFERENCES users(id),
    kind              text NOT NULL CHECK (kind IN ('call_answered', 'call_outbound', 'message_outbound', 'manual')),
    -- Whose inquiries it may answer: the responder's Visibility when it was recorded
    -- (ingestion answers for everyone; a user only inside their department, which is
    -- what `inquiry.respond` answered at the time).
    scope_all         boolean NOT NULL,
    scope_department  text CHECK (scope_department IN ('development', 'service')),
    created_at        timestamptz NOT NULL
);
CREATE INDEX contact_responses_contact_idx ON contact_responses (contact_id, at);

-- A response follows its contact into a merge, like the inquiries it answers.
INSERT INTO contact_merge_refs (table_name, column_name) VALUES ('contact_responses', 'contact_id');

-- `lead.list {"waiting_over": T}` and the waiting buckets: open leads first (newest
-- first, as lists page), then whether one of their inquiries is unanswered since before
-- now − T.
CREATE INDEX leads_open_created_idx ON leads (created_at DESC, id DESC)
    WHERE status IN ('inquiry', 'identification', 'overdue_identification');
CREATE INDEX inquiries_lead_unanswered_idx ON inquiries (lead_id, received_at) WHERE first_response_at IS NULL;
CREATE INDEX inquiries_unanswered_received_idx ON inquiries (received_at, lead_id) WHERE first_response_at IS NULL;
