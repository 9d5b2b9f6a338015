/**
 * The ingest side of the derived tables: before a commit is recorded, derive `handshakes/`, `edges/` and
 * `flows_hourly/` for the partitions the commit changes (and their neighbouring days, see derive-tables.ts),
 * from the flows as they will be after the commit, into staging. The derived files join the commit as added files
 * and the partitions' previous derived files as retired ones, so the ledger transaction and the manifest swap that
 * publish the flows publish their derived tables too: a reader never sees flows without matching derived rows.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { affectedPartitions, deriveTables, replacedDerivedFiles } from '../analytics/derive-tables.ts';
import { partitionKey, type ManifestFile } from '../store/layout.ts';
import { liveFiles } from './ledger.ts';
import type { StagedFile } from './parquet-writer.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';

/** Derived files to add to a commit and committed derived files it retires. */
export interface DerivedChanges {
  readonly added: StagedFile[];
  readonly retired: string[];
}

/** The live files, the flows files after a commit, and the partitions whose flows it changes. */
async function commitPartitions(c: DuckDBConnection, staged: readonly StagedFile[], retired: readonly string[]) {
  const live = await liveFiles(c);
  const gone = new Set(retired);
  const stagedPaths = new Set(staged.map((f) => f.path));
  const flowsAfter: ManifestFile[] = [
    ...live.filter((f) => f.table === 'flows' && !gone.has(f.path)),
    ...staged.map((f) => ({ path: f.path, table: 'flows' as const, accountId: f.accountId, region: f.region, date: f.date, rows: f.rows, bytes: f.bytes })),
  ];
  const touched = new Map<string, ManifestFile>();
  for (const f of [...flowsAfter.filter((f) => stagedPaths.has(f.path)), ...live.filter((f) => gone.has(f.path))]) touched.set(partitionKey(f), f);
  return { live, flowsAfter, touched: [...touched.values()] };
}

/**
 * For a commit that does not derive (`flowql ingest --no-derive`): the committed derived files its flows changes make
 * stale, to retire in the same commit. Derived files are then always exact or absent, and a reader of a partition
 * without them falls back to the flows (connection-source.ts, aggregate-reader.ts) until `flowql derive` runs.
 */
export async function staleDerivedFiles(c: DuckDBConnection, staged: readonly StagedFile[], retired: readonly string[]): Promise<string[]> {
  const { live, touched } = await commitPartitions(c, staged, retired);
  return replacedDerivedFiles(live, { files: [], replaces: affectedPartitions(touched) }).map((f) => f.path);
}

/** Derives for a commit that adds `staged` flows files and retires the live files at `retired`. */
export async function deriveForCommit(
  db: DuckDBInstance,
  c: DuckDBConnection,
  storage: WarehouseStorage,
  staged: readonly StagedFile[],
  retired: readonly string[],
): Promise<DerivedChanges> {
  const { live, flowsAfter, touched } = await commitPartitions(c, staged, retired);
  if (touched.length === 0) return { added: [], retired: [] };
  const stagedAt = new Map(staged.map((f) => [f.path, f.stagedPath]));
  // Staged files sit flat in staging; readers take account/region/date from hive paths, so link them into one.
  const linked = join(storage.stagingDir, `derive-input-${randomUUID()}`);
  const locate = async (f: ManifestFile): Promise<string> => {
    const staged = stagedAt.get(f.path);
    if (staged === undefined) return storage.readableFile(f.path);
    const target = join(linked, ...f.path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await link(staged, target).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : copyFile(staged, target)));
    return target;
  };
  const result = await deriveTables({
    db,
    root: storage.stagingDir,
    files: flowsAfter,
    touched,
    locate,
    stagingDir: storage.stagingDir,
  }).finally(() => rm(linked, { recursive: true, force: true }));
  const added = result.files.map((f) => ({
    accountId: f.accountId,
    region: f.region,
    date: f.date,
    table: f.table,
    stagedPath: f.stagedPath!,
    path: f.path,
    rows: f.rows,
    bytes: f.bytes,
    sources: [],
  }));
  return { added, retired: replacedDerivedFiles(live, result).map((f) => f.path) };
}
