-- Foundation: users, sessions, robot tokens, login throttling, settings.
-- Times are timestamptz; business days/months are computed in the business time zone.

CREATE EXTENSION IF NOT EXISTS pgcrypto;   -- crypt()/gen_salt('bf') for passwords, digest() for tokens
CREATE EXTENSION IF NOT EXISTS pg_trgm;    -- trigram indexes for name search

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         text NOT NULL CHECK (login ~ '^[A-Za-z0-9._@-]{2,64}$'),
    full_name     text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    role          text NOT NULL CHECK (role IN ('user', 'admin', 'tech_admin', 'robot')),
    department    text CHECK (department IN ('development', 'service')),
    email         text,
    -- bcrypt hash from pgcrypto crypt(password, gen_salt('bf', cost)); NULL = cannot log in by password.
    password_hash text,
    active        boolean NOT NULL DEFAULT true,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_login_key ON users (lower(login));

CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id),
    token_hash   bytea NOT NULL UNIQUE,         -- sha256 of the session token; the token itself is never stored
    peer         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE robot_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id),
    label        text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,         -- sha256 of the token, shown once at creation
    created_by   bigint REFERENCES users(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Failed logins, for throttling per login and per peer address.
CREATE TABLE login_failures (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login  text NOT NULL,
    peer   text NOT NULL,
    at     timestamptz NOT NULL
);
CREATE INDEX login_failures_login_idx ON login_failures (lower(login), at);
CREATE INDEX login_failures_peer_idx ON login_failures (peer, at);

-- Configurable values (own phone lines, thresholds, windows...), one JSON value per key.
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint REFERENCES users(id)
);

-- Every kontord instance caches who is logged in; these notifications invalidate it
-- whatever changed the row (a method, psql, a migration).
CREATE FUNCTION kontor_notify_auth() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kontor_auth', TG_ARGV[0] || ':' || NEW.id);
    RETURN NEW;
END $$;

CREATE TRIGGER users_notify_auth AFTER UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION kontor_notify_auth('u');
CREATE TRIGGER sessions_notify_auth AFTER UPDATE OF revoked_at, expires_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION kontor_notify_auth('s');
CREATE TRIGGER robot_tokens_notify_auth AFTER UPDATE OF revoked_at ON robot_tokens
    FOR EACH ROW EXECUTE FUNCTION kontor_notify_auth('t');
