/**
 * The ingest ledger's questions and its one write: `recordCommit` stores a whole commit (sources, rejects, files
 * added and retired) in a single DuckDB transaction, which is the moment a commit happens. Runs on the engine's
 * main connection, where `USE ledger` makes the ledger's tables the unqualified ones.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { ManifestFile, ManifestIngestSummary, TableName } from '../store/layout.ts';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import type { RejectRow } from './ingest-load-text.ts';
import type { StagedFile } from './parquet-writer.ts';

/** One attempt at one object version, as the commit records it. */
export interface SourceOutcome {
  readonly sourceId: number;
  readonly uri: string;
  readonly version: string;
  readonly size: number;
  readonly format: string | null;
  readonly keyAccountId: string | null;
  readonly keyRegion: string | null;
  readonly keyDate: string | null;
  readonly state: 'loaded' | 'failed';
  readonly records: number;
  readonly rejects: number;
  readonly error: string | null;
}

/** Everything one commit changes. */
export interface CommitPlan {
  readonly commitId: number;
  readonly kind: 'ingest' | 'compact';
  readonly sources: readonly SourceOutcome[];
  /** Source ids whose rows this commit removes (older versions of changed objects). */
  readonly superseded: readonly number[];
  readonly rejects: readonly (RejectRow & { sourceId: number })[];
  readonly added: readonly StagedFile[];
  /** Paths of live files this commit replaces. */
  readonly retired: readonly string[];
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

/** Every live file, in path order: the manifest's file list. */
export async function liveFiles(c: DuckDBConnection): Promise<ManifestFile[]> {
  return toFiles(
    await q(c, 'ledger.live_files', sql`SELECT path, table_name, account_id, region, CAST(date AS VARCHAR) AS date, rows, bytes FROM files WHERE state = 'live' ORDER BY path`),
  );
}

/** Totals over loaded objects, for the manifest. */
export async function ingestTotals(c: DuckDBConnection): Promise<ManifestIngestSummary> {
  const [r] = await q(
    c,
    'ledger.totals',
    sql`SELECT count(*) AS objects, coalesce(sum(records), 0) AS records, coalesce(sum(rejects), 0) AS rejects,
               strftime(max(updated_at), '%Y-%m-%dT%H:%M:%S.%gZ') AS last FROM sources WHERE state = 'loaded'`,
  );
  return { objects: Number(r!.objects), records: Number(r!.records), rejects: Number(r!.rejects), lastIngestAt: (r!.last as string | null) ?? null };
}

/** Stores a commit atomically. Rejects travel through a memory table so the transaction stays one SQL batch. */
export async function recordCommit(c: DuckDBConnection, plan: CommitPlan): Promise<void> {
  await c.run('CREATE OR REPLACE TABLE memory.main.commit_rejects (source_id INTEGER, line BIGINT, field VARCHAR, reason VARCHAR, text VARCHAR)');
  if (plan.rejects.length > 0) {
    const app = await c.createAppender('commit_rejects', 'main', 'memory');
    for (const r of plan.rejects) {
      app.appendInteger(r.sourceId);
      app.appendBigInt(BigInt(r.line));
      if (r.field === null) app.appendNull();
      else app.appendVarchar(r.field);
      app.appendVarchar(r.reason);
      app.appendVarchar(r.text);
      app.endRow();
    }
    app.closeSync();
  }
  await c.run('BEGIN TRANSACTION');
  try {
    await exec(c, 'ledger.commit', sql`INSERT INTO commits VALUES (${plan.commitId}, ${plan.kind}, 'committed', now()::TIMESTAMP, NULL)`);
    for (const s of plan.sources) {
      if (s.state === 'loaded') await exec(c, 'ledger.clear_failed', sql`DELETE FROM sources WHERE uri = ${s.uri} AND state = 'failed'`);
      await exec(
        c,
        'ledger.source',
        sql`INSERT INTO sources VALUES (${s.sourceId}, ${s.uri}, ${s.version}, ${s.size}, ${s.format}, ${s.keyAccountId},
              ${s.keyRegion}, CAST(${s.keyDate} AS DATE), ${s.state}, ${s.records}, ${s.rejects}, ${s.error}, ${plan.commitId}, now()::TIMESTAMP)`,
      );
    }
    if (plan.superseded.length > 0) {
      const ids = raw(plan.superseded.map((s) => Math.trunc(s)).join(', '));
      await exec(c, 'ledger.supersede', sql`UPDATE sources SET state = 'superseded', updated_at = now()::TIMESTAMP WHERE source_id IN (${ids})`);
    }
    await c.run('INSERT INTO rejects SELECT * FROM memory.main.commit_rejects');
    for (const path of plan.retired) {
      await exec(c, 'ledger.retire', sql`UPDATE files SET state = 'retired', retired_commit_id = ${plan.commitId} WHERE path = ${path} AND state = 'live'`);
    }
    for (const f of plan.added) {
      await exec(
        c,
        'ledger.file',
        sql`INSERT INTO files VALUES (${f.path}, ${f.table ?? 'flows'}, ${f.accountId}, ${f.region}, CAST(${f.date} AS DATE), ${f.rows}, ${f.bytes},
              'live', ${f.stagedPath}, ${plan.commitId}, NULL)`,
      );
      for (const s of f.sources) {
        await exec(c, 'ledger.file_source', sql`INSERT INTO file_sources VALUES (${f.path}, ${s.sourceId}, ${s.rows})`);
      }
    }
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK');
    throw err;
  } finally {
    await c.run('DROP TABLE IF EXISTS memory.main.commit_rejects');
  }
}

/** Commits recorded but not finished (a run died between the ledger commit and the end of publishing). */
export async function unfinishedCommits(c: DuckDBConnection): Promise<UnfinishedCommit[]> {
  const commits = await q(c, 'ledger.unfinished', sql`SELECT commit_id FROM commits WHERE state = 'committed' ORDER BY commit_id`);
  const out: UnfinishedCommit[] = [];
  for (const { commit_id } of commits) {
    const id = Number(commit_id);
    const publish = await q(c, 'ledger.to_publish', sql`SELECT staged_path, path FROM files WHERE commit_id = ${id} AND staged_path IS NOT NULL`);
    const retire = await q(c, 'ledger.to_retire', sql`SELECT path FROM files WHERE retired_commit_id = ${id} AND state = 'retired'`);
    out.push({
      commitId: id,
      publish: publish.map((r) => ({ stagedPath: String(r.staged_path), path: String(r.path) })),
      retire: retire.map((r) => String(r.path)),
    });
  }
  return out;
}

/** Marks a commit's files published and its retired files deleted. */
export async function finishCommit(c: DuckDBConnection, commitId: number): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  await exec(c, 'ledger.published', sql`UPDATE files SET staged_path = NULL WHERE commit_id = ${commitId}`);
  await exec(c, 'ledger.deleted', sql`UPDATE files SET state = 'deleted' WHERE retired_commit_id = ${commitId}`);
  await exec(c, 'ledger.finish', sql`UPDATE commits SET state = 'finished', finished_at = now()::TIMESTAMP WHERE commit_id = ${commitId}`);
  await c.run('COMMIT');
}
