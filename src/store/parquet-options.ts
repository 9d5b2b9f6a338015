/**
 * The COPY options of the Parquet files flowql writes, by how long a file stays as written.
 *
 * An ingest's files (a batch's flows, the hours it derives) are replaced within the day by `flowql compact`, and their
 * writing is the ingest's CPU time: DuckDB's default zstd level (3). The files `compact` writes (a closed day's merged
 * flows and derived files, its daily rollups) stay: zstd level 9. Measured on bench:ingest's 400,000 AWS-shaped v5
 * records, rewriting the same files at level 9 instead of 3: flows 13.31 -> 12.68 bytes/record, flows_hourly and
 * flows_daily 6-8% smaller, edges and handshakes 1-2%, for about 35% more CPU in those writes (level 12 saved 1% more
 * for 60%). Readers decode any level at the same speed.
 */

/** Files written by an ingest (and by `flowql derive`, `check --repair`, reference imports). */
export const PARQUET_WRITE_OPTIONS = 'FORMAT parquet, COMPRESSION zstd';

/** Files written by `flowql compact`, which stay as written. */
export const PARQUET_SETTLED_OPTIONS = 'FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 9';
