/**
 * The ingest ledger's questions and its one write: `recordCommit` stores a whole commit (sources, rejects, files
 * added and retired) in a single DuckDB transaction, which is the moment a commit happens. Runs on the engine's
 * main connection, where `USE ledger` makes the ledger's tables the unqualified ones.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { ReferenceKind } from '../domain/reference-tables.ts';
import {
  TABLES,
  type AccountIngestCounts,
  type ManifestFile,
  type ManifestIngestSummary,
  type ManifestReference,
  type TableName,
} from '../store/layout.ts';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import type { RejectRow } from './text-load-result.ts';
import type { StagedFile } from './parquet-writer.ts';

/**
 * One attempt at one object version, as the commit records it. `state`: loaded; failed (a read failure: retried next
 * run); skipped (its content is not a flow log, `error` says why: not read again until its version changes).
 */
export interface SourceOutcome {
  readonly sourceId: number;
  readonly uri: string;
  readonly version: string;
  readonly size: number;
  readonly format: string | null;
  readonly keyAccountId: string | null;
  readonly keyRegion: string | null;
  readonly keyDate: string | null;
  readonly state: 'loaded' | 'failed' | 'skipped';
  readonly records: number;
  readonly rejects: number;
  readonly error: string | null;
}

/** Everything one commit changes. */
export interface CommitPlan {
  readonly commitId: number;
  readonly kind: 'ingest' | 'compact' | 'derive' | 'repair' | 'reference';
  readonly sources: readonly SourceOutcome[];
  /** Source ids whose rows this commit removes (older versions of changed objects). */
  readonly superseded: readonly number[];
  readonly rejects: readonly (RejectRow & { sourceId: number })[];
  readonly added: readonly StagedFile[];
  /** Paths of live files this commit replaces. */
  readonly retired: readonly string[];
  /** Reference snapshots whose files are among `added` (src/ingest/reference-import.ts). */
  readonly references?: readonly ReferenceSnapshot[];
}

/** A reference snapshot as the ledger records it. */
export interface ReferenceSnapshot {
  readonly kind: ReferenceKind;
  readonly version: string;
  readonly createdAt: string;
  readonly source: string;
  readonly path: string;
  readonly rows: number;
}

/** A committed commit whose files may not all be published yet. */
export interface UnfinishedCommit {
  readonly commitId: number;
  readonly publish: readonly { stagedPath: string; path: string }[];
  readonly retire: readonly string[];
}

async function q(c: DuckDBConnection, name: string, f: SqlFragment): Promise<Record<string, unknown>[]> {
  const query = build(name, f);
  return (await c.runAndReadAll(query.text, query.params as DuckDBValue[])).getRowObjectsJS();
}

async function exec(c: DuckDBConnection, name: string, f: SqlFragment): Promise<void> {
  const query = build(name, f);
  await c.run(query.text, query.params as DuckDBValue[]);
}

/** The loaded version and source id of every object, by uri. */
export async function loadedSources(c: DuckDBConnection): Promise<Map<string, { sourceId: number; version: string }>> {
  const rows = await q(c, 'ledger.loaded', sql`SELECT uri, version, source_id FROM sources WHERE state = 'loaded'`);
  return new Map(rows.map((r) => [String(r.uri), { sourceId: Number(r.source_id), version: String(r.version) }]));
}

/** The version of every object skipped as not a flow log, by uri: read again only when its version changes. */
export async function skippedSources(c: DuckDBConnection): Promise<Map<string, string>> {
  const rows = await q(c, 'ledger.skipped', sql`SELECT uri, version FROM sources WHERE state = 'skipped'`);
  return new Map(rows.map((r) => [String(r.uri), String(r.version)]));
}

/** The next free source id and commit id (the single writer allocates them). */
export async function nextIds(c: DuckDBConnection): Promise<{ sourceId: number; commitId: number }> {
  const [r] = await q(
    c,
    'ledger.next_ids',
    sql`SELECT (SELECT coalesce(max(source_id), 0) + 1 FROM sources) AS s, (SELECT coalesce(max(commit_id), 0) + 1 FROM commits) AS c`,
  );
  return { sourceId: Number(r!.s), commitId: Number(r!.c) };
}

/** Live files holding rows of any of `sourceIds`. */
export async function filesHoldingSources(c: DuckDBConnection, sourceIds: readonly number[]): Promise<ManifestFile[]> {
  if (sourceIds.length === 0) return [];
  const ids = raw(sourceIds.map((s) => Math.trunc(s)).join(', '));
  return toFiles(
    await q(
      c,
      'ledger.files_of_sources',
      sql`SELECT path, account_id, region, CAST(date AS VARCHAR) AS date, rows, bytes FROM files WHERE state = 'live' AND path IN (SELECT path FROM file_sources WHERE source_id IN (${ids})) ORDER BY path`,
    ),
  );
}

function toFiles(rows: Record<string, unknown>[]): ManifestFile[] {
  return rows.map((r) => ({
    path: String(r.path),
    table: (r.table_name ?? 'flows') as TableName,
    accountId: String(r.account_id),
    region: String(r.region),
    date: String(r.date),
    rows: Number(r.rows),
    bytes: Number(r.bytes),
  }));
}

// The warehouse tables' names as a literal list: reference snapshots are live files too, listed apart.
const WAREHOUSE_TABLES = raw(TABLES.map((t) => `'${t}'`).join(', '));

/** Every live file of the warehouse tables, in path order: the manifest's file list. */
export async function liveFiles(c: DuckDBConnection): Promise<ManifestFile[]> {
  return toFiles(
    await q(
      c,
      'ledger.live_files',
      sql`SELECT path, table_name, account_id, region, CAST(date AS VARCHAR) AS date, rows, bytes FROM files
           WHERE state = 'live' AND table_name IN (${WAREHOUSE_TABLES}) ORDER BY path`,
    ),
  );
}

/** The live snapshots of the reference tables (their files are live), for the manifest's `references`. */
export async function liveReferences(c: DuckDBConnection): Promise<ManifestReference[]> {
  const rows = await q(
    c,
    'ledger.live_references',
    sql`SELECT r.kind, r.version, r.created_at, r.source, r.path, r.rows, f.bytes,
               strftime(r.imported_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS imported_at
          FROM reference_snapshots r JOIN files f ON f.path = r.path AND f.state = 'live'
         ORDER BY r.kind, r.created_at`,
  );
  return rows.map((r) => ({
    kind: r.kind as ReferenceKind,
    path: String(r.path),
    version: String(r.version),
    createdAt: String(r.created_at),
    importedAt: String(r.imported_at),
    source: String(r.source),
    rows: Number(r.rows),
    bytes: Number(r.bytes),
  }));
}

/** Totals over loaded objects, and the number of objects skipped as not flow logs, for the manifest. */
export async function ingestTotals(c: DuckDBConnection): Promise<ManifestIngestSummary> {
  const [r] = await q(
    c,
    'ledger.totals',
    sql`SELECT count(*) FILTER (WHERE state = 'loaded') AS objects,
               coalesce(sum(records) FILTER (WHERE state = 'loaded'), 0) AS records,
               coalesce(sum(rejects) FILTER (WHERE state = 'loaded'), 0) AS rejects,
               strftime(max(updated_at) FILTER (WHERE state = 'loaded'), '%Y-%m-%dT%H:%M:%S.%gZ') AS last,
               count(*) FILTER (WHERE state = 'skipped') AS skipped
          FROM sources WHERE state IN ('loaded', 'skipped')`,
  );
  return {
    objects: Number(r!.objects),
    records: Number(r!.records),
    rejects: Number(r!.rejects),
    lastIngestAt: (r!.last as string | null) ?? null,
    skippedObjects: Number(r!.skipped),
    byAccounts: await ingestTotalsByAccounts(c),
  };
}

/**
 * The counts of `ingestTotals` per set of accounts an object belongs to: the account of its S3 key (the flow log's
 * owner) and the accounts of the live rows it holds (the interfaces' owners). Grouping by the whole set, not by each
 * account, lets a key allowed several accounts count an object that spans them once.
 */
async function ingestTotalsByAccounts(c: DuckDBConnection): Promise<AccountIngestCounts[]> {
  const rows = await q(
    c,
    'ledger.totals_by_accounts',
    sql`WITH object_accounts AS (
          SELECT source_id, key_account_id AS account_id FROM sources
           WHERE state IN ('loaded', 'skipped') AND key_account_id IS NOT NULL
          UNION
          SELECT fs.source_id, f.account_id FROM file_sources fs JOIN files f ON f.path = fs.path WHERE f.state = 'live'
        ), per_object AS (
          SELECT s.source_id, any_value(s.state) AS state, any_value(s.rejects) AS rejects,
                 list_sort(list(DISTINCT a.account_id) FILTER (WHERE a.account_id IS NOT NULL)) AS accounts
            FROM sources s LEFT JOIN object_accounts a ON a.source_id = s.source_id
           WHERE s.state IN ('loaded', 'skipped')
           GROUP BY s.source_id
        )
        SELECT coalesce(array_to_string(accounts, ','), '') AS accounts,
               count(*) FILTER (WHERE state = 'loaded') AS objects,
               coalesce(sum(rejects) FILTER (WHERE state = 'loaded'), 0) AS rejects,
               count(*) FILTER (WHERE state = 'skipped') AS skipped
          FROM per_object GROUP BY ALL ORDER BY accounts`,
  );
  return rows.map((r) => ({
    accounts: (r.accounts as string) === '' ? [] : (r.accounts as string).split(','),
    objects: Number(r.objects),
    rejects: Number(r.rejects),
    skippedObjects: Number(r.skipped),
  }));
}

// Memory tables the commit's rows travel through: appenders fill them outside the transaction, and the transaction
// copies each with one INSERT ... SELECT (a statement per source cost ~15 ms: a third of a small-object batch).
const STAGING_DDL = [
  'CREATE OR REPLACE TABLE memory.main.commit_rejects (source_id INTEGER, line BIGINT, field VARCHAR, reason VARCHAR, text VARCHAR)',
  `CREATE OR REPLACE TABLE memory.main.commit_sources (source_id INTEGER, uri VARCHAR, version VARCHAR, size BIGINT, format VARCHAR,
     key_account_id VARCHAR, key_region VARCHAR, key_date VARCHAR, state VARCHAR, records BIGINT, rejects BIGINT, error VARCHAR)`,
  'CREATE OR REPLACE TABLE memory.main.commit_files (path VARCHAR, table_name VARCHAR, account_id VARCHAR, region VARCHAR, date VARCHAR, rows BIGINT, bytes BIGINT, staged_path VARCHAR)',
  'CREATE OR REPLACE TABLE memory.main.commit_file_sources (path VARCHAR, source_id INTEGER, rows BIGINT)',
].join('; ');
const STAGING_DROP =
  'DROP TABLE IF EXISTS memory.main.commit_rejects; DROP TABLE IF EXISTS memory.main.commit_sources; ' +
  'DROP TABLE IF EXISTS memory.main.commit_files; DROP TABLE IF EXISTS memory.main.commit_file_sources';

type Cell = string | number | bigint | null;

/** Appends `rows` (cells in table order: string, integer, bigint or null) to memory table `table`. */
async function appendRows(c: DuckDBConnection, table: string, rows: readonly (readonly Cell[])[]): Promise<void> {
  if (rows.length === 0) return;
  const app = await c.createAppender(table, 'main', 'memory');
  for (const row of rows) {
    for (const v of row) {
      if (v === null) app.appendNull();
      else if (typeof v === 'string') app.appendVarchar(v);
      else if (typeof v === 'bigint') app.appendBigInt(v);
      else app.appendInteger(v);
    }
    app.endRow();
  }
  app.closeSync();
}

/** Stores a commit atomically: rows travel through memory tables so the transaction is a fixed handful of statements. */
export async function recordCommit(c: DuckDBConnection, plan: CommitPlan): Promise<void> {
  await c.run(STAGING_DDL);
  await appendRows(
    c,
    'commit_rejects',
    plan.rejects.map((r) => [r.sourceId, BigInt(r.line), r.field, r.reason, r.text]),
  );
  await appendRows(
    c,
    'commit_sources',
    plan.sources.map((s) => [
      s.sourceId,
      s.uri,
      s.version,
      BigInt(s.size),
      s.format,
      s.keyAccountId,
      s.keyRegion,
      s.keyDate,
      s.state,
      BigInt(s.records),
      BigInt(s.rejects),
      s.error,
    ]),
  );
  await appendRows(
    c,
    'commit_files',
    plan.added.map((f) => [
      f.path,
      f.table ?? 'flows',
      f.accountId,
      f.region,
      f.date,
      BigInt(f.rows),
      BigInt(f.bytes),
      f.stagedPath,
    ]),
  );
  await appendRows(
    c,
    'commit_file_sources',
    plan.added.flatMap((f) => f.sources.map((s) => [f.path, s.sourceId, BigInt(s.rows)])),
  );
  await c.run('BEGIN TRANSACTION');
  try {
    await exec(
      c,
      'ledger.commit',
      sql`INSERT INTO commits VALUES (${plan.commitId}, ${plan.kind}, 'committed', now()::TIMESTAMP, NULL)`,
    );
    // An object keeps one row for its last failed or skipped attempt (and none once loaded): a skipped object is
    // recorded once, and an object that fails on every run does not pile up rows.
    await c.run(
      `DELETE FROM sources WHERE state IN ('failed', 'skipped') AND uri IN (SELECT uri FROM memory.main.commit_sources)`,
    );
    await exec(
      c,
      'ledger.sources',
      sql`INSERT INTO sources SELECT source_id, uri, version, size, format, key_account_id, key_region, CAST(key_date AS DATE), state,
            records, rejects, error, ${plan.commitId}, now()::TIMESTAMP FROM memory.main.commit_sources ORDER BY source_id`,
    );
    if (plan.superseded.length > 0) {
      const ids = raw(plan.superseded.map((s) => Math.trunc(s)).join(', '));
      await exec(
        c,
        'ledger.supersede',
        sql`UPDATE sources SET state = 'superseded', updated_at = now()::TIMESTAMP WHERE source_id IN (${ids})`,
      );
    }
    await c.run('INSERT INTO rejects SELECT * FROM memory.main.commit_rejects');
    for (const path of plan.retired) {
      await exec(
        c,
        'ledger.retire',
        sql`UPDATE files SET state = 'retired', retired_commit_id = ${plan.commitId} WHERE path = ${path} AND state = 'live'`,
      );
    }
    await exec(
      c,
      'ledger.files',
      sql`INSERT INTO files SELECT path, table_name, account_id, region, CAST(date AS DATE), rows, bytes, 'live', staged_path, ${plan.commitId}, NULL
            FROM memory.main.commit_files`,
    );
    await c.run('INSERT INTO file_sources SELECT path, source_id, rows FROM memory.main.commit_file_sources');
    for (const r of plan.references ?? []) {
      await exec(
        c,
        'ledger.reference',
        sql`INSERT INTO reference_snapshots VALUES (${r.kind}, ${r.version}, ${r.createdAt}, ${r.source}, ${r.path},
              ${r.rows}, ${plan.commitId}, now()::TIMESTAMP)`,
      );
    }
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK');
    throw err;
  } finally {
    await c.run(STAGING_DROP);
  }
}

/** Commits recorded but not finished (a run died between the ledger commit and the end of publishing). */
export async function unfinishedCommits(c: DuckDBConnection): Promise<UnfinishedCommit[]> {
  const commits = await q(
    c,
    'ledger.unfinished',
    sql`SELECT commit_id FROM commits WHERE state = 'committed' ORDER BY commit_id`,
  );
  const out: UnfinishedCommit[] = [];
  for (const { commit_id } of commits) {
    const id = Number(commit_id);
    const publish = await q(
      c,
      'ledger.to_publish',
      sql`SELECT staged_path, path FROM files WHERE commit_id = ${id} AND staged_path IS NOT NULL`,
    );
    const retire = await q(
      c,
      'ledger.to_retire',
      sql`SELECT path FROM files WHERE retired_commit_id = ${id} AND state = 'retired'`,
    );
    out.push({
      commitId: id,
      publish: publish.map((r) => ({ stagedPath: String(r.staged_path), path: String(r.path) })),
      retire: retire.map((r) => String(r.path)),
    });
  }
  return out;
}

/**
 * Marks a commit's files published and the commit finished: the time its retired files left the manifest, from which
 * their grace period runs (src/ingest/retired-files.ts deletes them later).
 */
export async function finishCommit(c: DuckDBConnection, commitId: number): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  await exec(c, 'ledger.published', sql`UPDATE files SET staged_path = NULL WHERE commit_id = ${commitId}`);
  await exec(
    c,
    'ledger.finish',
    sql`UPDATE commits SET state = 'finished', finished_at = now()::TIMESTAMP WHERE commit_id = ${commitId}`,
  );
  await c.run('COMMIT');
}
