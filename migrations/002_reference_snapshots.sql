-- Reference tables (AWS ip-ranges, your own networks): one row per imported snapshot. Its Parquet file is also a row
-- of `files` (table_name ip_ranges | networks, account_id and region '', date the snapshot's date), so publishing,
-- retiring and sweeping work exactly as for flows files; a snapshot is live while its file is.
CREATE TABLE reference_snapshots (
  kind VARCHAR NOT NULL,
  version VARCHAR NOT NULL,
  created_at VARCHAR NOT NULL,
  source VARCHAR NOT NULL,
  path VARCHAR NOT NULL,
  rows BIGINT NOT NULL,
  commit_id INTEGER NOT NULL,
  imported_at TIMESTAMP NOT NULL
);
