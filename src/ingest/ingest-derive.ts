/**
 * The ingest side of the derived tables: before a commit is recorded, derive `handshakes/`, `edges/` and
 * `flows_hourly/` for the hours the commit changes (and the neighbouring hours their records reach, see
 * derive-tables.ts), from the flows as they will be after the commit, into staging. The derived files join the commit
 * as added files and the files of those hours as retired ones, so the ledger transaction and the manifest swap that
 * publish the flows publish their derived tables too: a reader never sees flows without matching derived rows.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { deriveTables } from '../analytics/derive-tables.ts';
import { undirectedRecordSql } from '../analytics/undirected-records.ts';
import { staleDerivedFiles as staleForChanges, type FlowChange, type TimeSpan } from '../analytics/derived-hours.ts';
import { partitionKey, type ManifestFile } from '../store/layout.ts';
import { runBound } from '../store/query-runner.ts';
import { build, raw, sql } from '../store/sql.ts';
import { liveFiles } from './ledger.ts';
import type { StagedFile } from './parquet-writer.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';

/** Derived files to add to a commit and committed derived files it retires. */
export interface DerivedChanges {
  readonly added: StagedFile[];
  readonly retired: string[];
}

/** What a commit changes in the flows: files it stages and retires, and the sources whose records come or go. */
export interface FlowsCommit {
  readonly staged: readonly StagedFile[];
  readonly retired: readonly string[];
  /** Sources whose records the commit adds (new objects) or removes (replaced objects). */
  readonly changedSources: readonly number[];
}

/** The live files, the flows files after a commit, and the changed records' starts per partition and hour. */
async function commitChanges(c: DuckDBConnection, storage: WarehouseStorage, commit: FlowsCommit) {
  const live = await liveFiles(c);
  const gone = new Set(commit.retired);
  const flowsAfter: ManifestFile[] = [
    ...live.filter((f) => f.table === 'flows' && !gone.has(f.path)),
    ...commit.staged.map((f) => ({
      path: f.path,
      table: 'flows' as const,
      accountId: f.accountId,
      region: f.region,
      date: f.date,
      rows: f.rows,
      bytes: f.bytes,
    })),
  ];
  // The changed records are those of the changed sources, in the staged files (added) and the retired ones (removed;
  // a retired file rewritten without a replaced object is staged again with its other records, which did not change).
  const read = new Map<string, ManifestFile>();
  for (const f of commit.staged) read.set(f.stagedPath, { ...f, table: 'flows' });
  for (const f of live.filter((f) => f.table === 'flows' && gone.has(f.path)))
    read.set(await storage.readableFile(f.path), f);
  const byPartition = new Map<string, { partition: ManifestFile; starts: TimeSpan[]; undirected: boolean }>();
  if (read.size > 0 && commit.changedSources.length > 0) {
    const q = build(
      'derive.changedHours',
      sql`SELECT filename AS file, min(start_time) AS lo, max(start_time) AS hi, bool_or(${raw(undirectedRecordSql())}) AS undirected
FROM read_parquet(${[...read.keys()]}, filename = true)
WHERE list_contains(${commit.changedSources}, source_id)
GROUP BY filename, date_trunc('hour', start_time)`,
    );
    for (const r of (await runBound(c, q)).getRowObjectsJS()) {
      const f = read.get(String(r.file))!;
      const entry = byPartition.get(partitionKey(f)) ?? { partition: f, starts: [], undirected: false };
      entry.undirected ||= r.undirected === true;
      // Records without a start belong to no hour's derived rows; they still mark their partition changed (a
      // partition never derived is then derived whole).
      if (r.lo instanceof Date && r.hi instanceof Date)
        entry.starts.push({ from: r.lo, to: new Date(r.hi.getTime() + 1) });
      byPartition.set(partitionKey(f), entry);
    }
  }
  const changes: FlowChange[] = [...byPartition.values()].map(({ partition: p, starts, undirected }) => ({
    partition: { accountId: p.accountId, region: p.region, date: p.date },
    starts,
    undirected,
  }));
  return { live, flowsAfter, changes };
}

/**
 * For a commit that does not derive (`flowql ingest --no-derive`): the committed derived files its flows changes make
 * stale, to retire in the same commit. Derived files are then always exact or absent, and a reader of a partition
 * without them falls back to the flows (connection-source.ts, aggregate-reader.ts) until `flowql derive` runs.
 */
export async function staleDerivedFiles(c: DuckDBConnection, commit: FlowsCommit): Promise<string[]> {
  if (commit.changedSources.length === 0) return [];
  const live = await liveFiles(c);
  const gone = new Set(commit.retired);
  // Staleness goes by partition only (derived-hours.ts), and every flows file a commit stages or retires holds records
  // of its changed sources (new objects, or the old versions of replaced ones): their partitions are the changed ones,
  // without reading the records' hours as derivation must (commitChanges).
  const changed = [...commit.staged, ...live.filter((f) => f.table === 'flows' && gone.has(f.path))];
  const changes: FlowChange[] = changed.map((f) => ({
    partition: { accountId: f.accountId, region: f.region, date: f.date },
    starts: [],
    undirected: false,
  }));
  return staleForChanges(live, changes).map((f) => f.path);
}

/** Derives the hours a commit changes (derive-tables.ts), into staging, to join the commit. */
export async function deriveForCommit(
  db: DuckDBInstance,
  c: DuckDBConnection,
  storage: WarehouseStorage,
  commit: FlowsCommit,
): Promise<DerivedChanges> {
  const { live, flowsAfter, changes } = await commitChanges(c, storage, commit);
  if (changes.length === 0) return { added: [], retired: [] };
  const stagedAt = new Map(commit.staged.map((f) => [f.path, f.stagedPath]));
  // Staged files sit flat in staging; readers take account/region/date from hive paths, so link them into one.
  const linked = join(storage.stagingDir, `derive-input-${randomUUID()}`);
  const locate = async (f: ManifestFile): Promise<string> => {
    const staged = stagedAt.get(f.path);
    if (staged === undefined) return storage.readableFile(f.path);
    const target = join(linked, ...f.path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await link(staged, target).catch((err: NodeJS.ErrnoException) =>
      err.code === 'EEXIST' ? undefined : copyFile(staged, target),
    );
    return target;
  };
  const result = await deriveTables({
    db,
    root: storage.stagingDir,
    files: [...flowsAfter, ...live.filter((f) => f.table !== 'flows')],
    changes,
    locate,
    stagingDir: storage.stagingDir,
    // A commit that retires no flows file removes no record (a replaced object's rows go with a rewrite of its file):
    // its staged files hold every record it adds, which flows_hourly can sum into its committed rows.
    addedFlows: commit.retired.length === 0 ? commit.staged.map((f) => f.path) : undefined,
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
  return { added, retired: result.retired.map((f) => f.path) };
}
