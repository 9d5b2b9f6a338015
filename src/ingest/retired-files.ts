/**
 * Retired files outlive their readers. A commit that replaces files (compaction, a changed object, re-derivation)
 * only takes them out of the manifest: a request that planned on the previous generation, a replica that has not
 * synced yet, or Athena/Trino globbing the prefix may still be reading them. The ledger keeps them as `retired`
 * with the commit that retired them; the commit's `finished_at` (set right after the manifest swap) is the retire
 * time, and the first commit, compaction or recovery after `storage.retireGraceMs` deletes them.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { RetiredFile } from '../store/layout.ts';
import { build, sql } from '../store/sql.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';

interface RetiredRow {
  readonly path: string;
  /** Epoch ms of the retire (now for a commit not finished yet: its manifest is being written). */
  readonly retiredMs: number;
  readonly nowMs: number;
  /** Whether the retiring commit has finished (its manifest is committed); an unfinished one's files are never swept. */
  readonly finished: boolean;
}

async function retiredRows(c: DuckDBConnection): Promise<RetiredRow[]> {
  // Times stay in the ledger's own clock (now()::TIMESTAMP, as finished_at was written), compared as epoch ms.
  const q = build(
    'ledger.retired_files',
    sql`SELECT f.path, epoch_ms(coalesce(k.finished_at, now()::TIMESTAMP)) AS retired_ms, epoch_ms(now()::TIMESTAMP) AS now_ms,
               coalesce(k.state = 'finished', false) AS finished
          FROM files f LEFT JOIN commits k ON k.commit_id = f.retired_commit_id
         WHERE f.state = 'retired' ORDER BY f.path`,
  );
  const rows = (await c.runAndReadAll(q.text, q.params as DuckDBValue[])).getRowObjectsJS();
  return rows.map((r) => ({
    path: String(r.path),
    retiredMs: Number(r.retired_ms),
    nowMs: Number(r.now_ms),
    finished: r.finished === true,
  }));
}

/** Retired files not deleted yet, as the manifest lists them. */
export async function retiredFiles(c: DuckDBConnection, graceMs: number): Promise<RetiredFile[]> {
  return (await retiredRows(c)).map((r) => ({
    path: r.path,
    retiredAt: new Date(r.retiredMs).toISOString(),
    deleteAfter: new Date(r.retiredMs + graceMs).toISOString(),
  }));
}

/**
 * Deletes the retired files whose grace period has passed and marks them deleted in the ledger (delete first: a run
 * killed in between deletes them again, which is a no-op). Returns how many it deleted. The caller saves the ledger.
 */
export async function sweepRetiredFiles(c: DuckDBConnection, storage: WarehouseStorage): Promise<number> {
  const expired = (await retiredRows(c)).filter((r) => r.finished && r.nowMs - r.retiredMs >= storage.retireGraceMs);
  for (const { path } of expired) {
    await storage.deleteFile(path);
    const q = build(
      'ledger.retired_deleted',
      sql`UPDATE files SET state = 'deleted' WHERE path = ${path} AND state = 'retired'`,
    );
    await c.run(q.text, q.params as DuckDBValue[]);
  }
  return expired.length;
}
