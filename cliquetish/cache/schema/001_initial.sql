-- Table of the PostgreSQL cache backend. Idempotent: every statement can run again.
-- Values are kept as JSON text, exactly as encoded; keys use the "C" collation so that a flush
-- of one prefix (LIKE) can walk the primary key.

CREATE TABLE IF NOT EXISTS cache_entries (
    key TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Removal of expired entries.
CREATE INDEX IF NOT EXISTS idx_cache_entries_expires_at ON cache_entries (expires_at);
