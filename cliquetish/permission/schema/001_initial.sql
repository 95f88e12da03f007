-- Tables of the PostgreSQL permission backend. Idempotent: every statement can run again.
-- object_id uses the "C" collation so that prefix matches (LIKE) can walk the indexes.

CREATE TABLE IF NOT EXISTS access_control_entries (
    object_id TEXT COLLATE "C" NOT NULL,
    permission TEXT NOT NULL,
    principal TEXT NOT NULL,
    PRIMARY KEY (object_id, permission, principal)
);

-- accessible_objects(): principal and permission first, then the object id prefix.
CREATE INDEX IF NOT EXISTS idx_access_control_entries_principal
    ON access_control_entries (principal, permission, object_id);

CREATE TABLE IF NOT EXISTS user_principals (
    user_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    PRIMARY KEY (user_id, principal)
);
