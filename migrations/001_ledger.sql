-- The ingest ledger: every source object, every committed Parquet file, which sources each file holds, and rejects.
-- One writer at a time (DuckDB's file lock on ledger.duckdb); no PRIMARY KEYs because DuckDB checks them eagerly
-- inside a transaction that deletes and re-inserts, and ids are allocated by the single writer.

-- One row per attempt at an object version. state: loaded | failed | superseded (a newer version replaced it).
CREATE TABLE sources (
  source_id INTEGER NOT NULL,
  uri VARCHAR NOT NULL,
  version VARCHAR NOT NULL,
  size BIGINT NOT NULL,
  format VARCHAR,
  key_account_id VARCHAR,
  key_region VARCHAR,
  key_date DATE,
  state VARCHAR NOT NULL,
  records BIGINT NOT NULL DEFAULT 0,
  rejects BIGINT NOT NULL DEFAULT 0,
  error VARCHAR,
  commit_id INTEGER,
  updated_at TIMESTAMP NOT NULL
);

-- One row per commit. kind: ingest | compact. state: committed (files may still need moving) | finished.
CREATE TABLE commits (
  commit_id INTEGER NOT NULL,
  kind VARCHAR NOT NULL,
  state VARCHAR NOT NULL,
  created_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP
);

-- Every Parquet file a commit published. state: live (in the manifest) | retired (to delete) | deleted.
-- staged_path: the local staged file a committed-but-unfinished commit still has to publish.
CREATE TABLE files (
  path VARCHAR NOT NULL,
  table_name VARCHAR NOT NULL,
  account_id VARCHAR NOT NULL,
  region VARCHAR NOT NULL,
  date DATE NOT NULL,
  rows BIGINT NOT NULL,
  bytes BIGINT NOT NULL,
  state VARCHAR NOT NULL,
  staged_path VARCHAR,
  commit_id INTEGER NOT NULL,
  retired_commit_id INTEGER
);

-- Rows of each source in each file: a changed object rewrites exactly the files that hold its old rows.
CREATE TABLE file_sources (
  path VARCHAR NOT NULL,
  source_id INTEGER NOT NULL,
  rows BIGINT NOT NULL
);

-- Lines that are not flow records: where, which field, why, and the text (shortened).
CREATE TABLE rejects (
  source_id INTEGER NOT NULL,
  line BIGINT NOT NULL,
  field VARCHAR,
  reason VARCHAR NOT NULL,
  text VARCHAR NOT NULL
);
