-- Storage schema, version 1: records (tombstones included) and the timestamp of each
-- (parent_id, collection_id) pair. Text columns use the "C" collation: ids sort by code point,
-- as on the other backends.

CREATE TABLE IF NOT EXISTS records (
    id text COLLATE "C" NOT NULL,
    parent_id text COLLATE "C" NOT NULL,
    collection_id text COLLATE "C" NOT NULL,
    last_modified bigint NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    deleted boolean NOT NULL DEFAULT FALSE,
    PRIMARY KEY (parent_id, collection_id, id)
);

-- The default listing (newest first), _since/_before and keyset pages on last_modified.
CREATE INDEX IF NOT EXISTS records_parent_collection_last_modified_idx
    ON records (parent_id, collection_id, last_modified DESC);

-- Equality and array containment filters, written as data @> '{"field": value}'.
CREATE INDEX IF NOT EXISTS records_data_path_ops_idx
    ON records USING gin (data jsonb_path_ops);

-- purge-deleted, which walks the tombstones of a collection across parents.
CREATE INDEX IF NOT EXISTS records_tombstones_idx
    ON records (collection_id, last_modified) WHERE deleted;

CREATE TABLE IF NOT EXISTS timestamps (
    parent_id text COLLATE "C" NOT NULL,
    collection_id text COLLATE "C" NOT NULL,
    last_modified bigint NOT NULL,
    PRIMARY KEY (parent_id, collection_id)
);
