/**
 * Where a warehouse lives: the seam between the ingester and its storage (a local folder, or an S3 prefix).
 *
 * DuckDB only writes local files, so the ingester always writes Parquet into a local staging folder and the ledger
 * into a local DuckDB file; a storage then publishes them. The commit protocol (src/ingest/ingest-commit.ts) calls
 * these methods in this order, and every method must be idempotent so that a run killed at any moment can be rolled
 * forward by the next one:
 *
 *   1. Parquet files are written under `stagingDir` (local disk).
 *   2. The ledger records the commit (files to publish, files to retire) and `saveLedger` makes it durable.
 *   3. `publishFile(staged, path)` moves/uploads each staged file to its partition path.
 *   4. `writeManifest` replaces the manifest atomically: readers now see the new file set. Files the commit retires
 *      are listed under the manifest's `retired`, still on storage.
 *   5. The ledger marks the commit finished (the retire time); `saveLedger` again.
 *
 * A retired file is deleted (`deleteFile`) only by a later commit, compaction or recovery, once `retireGraceMs` has
 * passed since its commit finished: a request that planned on the previous manifest, or another engine globbing the
 * prefix, may still be reading it (src/ingest/retired-files.ts).
 *
 * Paths (`path` arguments) are relative to the warehouse root with `/` separators, as in the manifest.
 */
import type { Manifest } from '../store/layout.ts';

/** A file found under the warehouse root (for recovery's orphan sweep). */
export interface StoredFile {
  readonly path: string;
  readonly bytes: number;
}

/**
 * How long a retired file outlives the manifest that dropped it, by default: longer than any request can run under
 * the serve defaults (10 s per GraphQL request, 120 s per download) with room for an Athena/Trino query of the prefix.
 */
export const DEFAULT_RETIRE_GRACE_MS = 10 * 60_000;

/** Options every storage takes. */
export interface StorageOptions {
  /** Milliseconds a retired file is kept after its commit (default DEFAULT_RETIRE_GRACE_MS; 0 = next commit). */
  readonly retireGraceMs?: number;
}

/** The storage a warehouse is kept in. Implementations: local-warehouse-storage.ts, and one for S3 prefixes. */
export interface WarehouseStorage {
  /** `file:///abs/root` or `s3://bucket/prefix`, for messages and the summary. */
  readonly location: string;
  /** Milliseconds a retired file outlives the manifest that dropped it (DEFAULT_RETIRE_GRACE_MS unless configured). */
  readonly retireGraceMs: number;
  /** A local folder the ingester may write staged Parquet files into (and DuckDB may spill into). */
  readonly stagingDir: string;
  /** A local path of the ledger DuckDB file to open; an S3 storage downloads it first (absent: a new ledger). */
  ledgerPath(): Promise<string>;
  /** Makes the ledger's committed state durable (local: nothing to do; S3: upload the checkpointed file). */
  saveLedger(localLedgerPath: string): Promise<void>;
  /** Moves (or uploads) a staged local file to `path`. Idempotent: if the staged file is gone and `path` exists, done. */
  publishFile(stagedLocalPath: string, path: string): Promise<void>;
  /** Deletes a committed file; deleting a missing file is not an error. */
  deleteFile(path: string): Promise<void>;
  /** Files under a relative prefix (`flows/`), recursively, for the orphan sweep. */
  listFiles(prefix: string): Promise<StoredFile[]>;
  /** A local path from which DuckDB can read the committed file `path` (S3: a downloaded copy in staging). */
  readableFile(path: string): Promise<string>;
  /** The committed manifest, or null when none was ever written. */
  readManifest(): Promise<Manifest | null>;
  /** Replaces the manifest atomically (temp file + rename, or a single PUT). */
  writeManifest(manifest: Manifest): Promise<void>;
}
