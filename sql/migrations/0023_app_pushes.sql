-- Reminders for the app whose user was offline (issue 5, review): a `reminder.due` push
-- goes to the user's subscribed sessions, and a reminder that fired while the user had
-- none must not be lost. `app_pushed_at` is when the push first went to one of the user's
-- sessions (on any instance); rows without it are pushed when the user next calls
-- `notify.subscribe`, then marked. Rows written before this migration count as pushed.
ALTER TABLE chronicle ADD COLUMN app_pushed_at timestamptz;
UPDATE chronicle SET app_pushed_at = at WHERE push_app;
CREATE INDEX chronicle_app_unpushed_idx ON chronicle (user_id, id) WHERE push_app AND app_pushed_at IS NULL;
