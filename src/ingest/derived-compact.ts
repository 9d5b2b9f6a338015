/**
 * `flowql compact` for the derived tables: a partition's files (derive-tables.ts writes one per stretch of hours,
 * and one per hour for the newest) merged into one file per table and day, `part-derived-hAA-hBB-<id>.parquet`,
 * named by the hours it holds.
 *
 * Rows keep their order: each file is in row order and the files are read in hour order, so the merged file holds
 * row for row what the files held. Only days at least CLOSED_AFTER_DAYS old are merged: an ingest that
 * changes one hour of a merged file re-derives that hour and copies the file's other rows into new files
 * (derive-tables.ts), a cost the day still receiving deliveries should not pay at every delivery.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { derivedFileHours } from '../analytics/derived-hours.ts';
import { partitionDir, type ManifestFile } from '../store/layout.ts';
import { PARQUET_SETTLED_OPTIONS } from '../store/parquet-options.ts';
import type { StagedFile } from './parquet-writer.ts';

/** A day is merged once today (UTC) is at least this many days after it: AWS delivers within minutes, not days. */
export const CLOSED_AFTER_DAYS = 2;

/** Whether the derived files of UTC `date` may be merged at `now`. */
export function derivedDayClosed(date: string, now: Date): boolean {
  return Date.parse(`${date}T00:00:00Z`) + CLOSED_AFTER_DAYS * 86_400_000 <= now.getTime();
}

/** The derived files of one table and partition, in hour order (the order their rows follow each other). */
export function inHourOrder(files: readonly ManifestFile[]): ManifestFile[] {
  return [...files].sort(
    (a, b) => derivedFileHours(a.path)[0] - derivedFileHours(b.path)[0] || a.path.localeCompare(b.path),
  );
}

/** Merges `files` (one table and partition, in hour order) read from `inputs` into one staged file. */
export async function mergeDerivedFiles(
  c: DuckDBConnection,
  stagingDir: string,
  files: readonly ManifestFile[],
  inputs: readonly string[],
): Promise<StagedFile> {
  const first = files[0]!;
  const hours = files.map((f) => derivedFileHours(f.path));
  const [from, to] = [Math.min(...hours.map((h) => h[0])), Math.max(...hours.map((h) => h[1]))];
  const name = `part-derived-h${String(from).padStart(2, '0')}-h${String(to).padStart(2, '0')}-${randomUUID()}.parquet`;
  const staged = join(stagingDir, `${first.table}-${name}`);
  const list = inputs.map((p) => `'${p.replaceAll("'", "''")}'`).join(', ');
  const target = `'${staged.replaceAll("'", "''")}'`;
  // Paths are ours (the warehouse's files and staging + a uuid), quoted as literals: COPY takes no bound target.
  // hive_partitioning = false: the partition values live in the path, not in the file (DuckDB would detect them from
  // the paths and write account_id, region and date into the merged file, unlike the hour files).
  const copied = await c.runAndReadAll(
    `COPY (SELECT * FROM read_parquet([${list}], hive_partitioning = false)) TO ${target} (${PARQUET_SETTLED_OPTIONS})`,
  );
  return {
    accountId: first.accountId,
    region: first.region,
    date: first.date,
    table: first.table,
    stagedPath: staged,
    path: `${partitionDir(first.table, first.accountId, first.region, first.date)}/${name}`,
    rows: Number(copied.getRows()[0]?.[0] ?? 0),
    bytes: (await stat(staged)).size,
    sources: [],
  };
}
