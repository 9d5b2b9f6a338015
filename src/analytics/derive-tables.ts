/**
 * Derives the `handshakes/` and `edges/` tables (issue 5) for the partitions an ingest commit touched, so API queries
 * over long ranges read small pre-paired tables instead of pairing raw records every time; and `flows_hourly/`, the
 * flows summed per hour that one-day aggregates read instead of every record (src/store/queries/flows-hourly-query.ts).
 *
 * Exactness with late files: pairing and direction cross midnight (a SYN at 23:59:50 is answered after 00:00, a
 * handshake decides the direction of the next day's records), so a change to day D re-derives D-1, D and D+1, and
 * each derived day D is computed from the flows of D-1..D+1 but keeps only rows dated D (flows_hourly reads day D
 * alone, but is re-derived with its neighbours all the same: one rule for every derived table, and it costs about a
 * twentieth of the edges). Each derived partition is written as one new file; the caller commits it to the manifest and drops the partition's previous derived files
 * (`replaces`), in the same manifest swap as the flows, so a reader never sees a partition twice.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { partitionDir, type ManifestFile, type TableName } from '../store/layout.ts';
import { runQuery } from '../store/query-runner.ts';
import { CostMeter } from '../store/query-cost.ts';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import { hourlyRollupFromFlowsSql } from '../store/queries/flows-hourly-query.ts';
import { createWarehouseReader } from '../store/warehouse-reader.ts';
import { edgeRowsFromFlowsSql } from './edge-rows-query.ts';
import { handshakesFromFlowsSql } from './handshake-query.ts';

/** One (account, region, UTC date) partition. */
export interface PartitionKey {
  readonly accountId: string;
  readonly region: string;
  readonly date: string;
}

/** What to derive. */
export interface DeriveTablesOptions {
  /** A DuckDB instance allowed to write under `root` (the ingester's, not the locked-down API one). */
  readonly db: DuckDBInstance;
  /** Local warehouse root (where files are read from and written to unless `locate`/`stagingDir` say otherwise). */
  readonly root: string;
  /** The committed flows files (the manifest after the commit; other tables are ignored). */
  readonly files: readonly ManifestFile[];
  /** Partitions whose flows changed in the commit. */
  readonly touched: readonly PartitionKey[];
  /**
   * A local path DuckDB can read a flows file from. The ingester passes its staged copies of files not published yet
   * (and, for an S3 warehouse, downloaded copies), so derivation runs before the commit and joins its manifest swap.
   */
  readonly locate?: (file: ManifestFile) => string | Promise<string>;
  /** Write the derived files into this flat folder (as `stagedPath`) instead of their final place under `root`. */
  readonly stagingDir?: string;
}

/** A derived file; `stagedPath` is set when it was written to `stagingDir` and still has to be published to `path`. */
export type DerivedFile = ManifestFile & { readonly stagedPath?: string };

/** New derived files to add to the manifest, and the derived partitions whose previous files they replace or drop. */
export interface DeriveTablesResult {
  readonly files: DerivedFile[];
  readonly replaces: PartitionKey[];
}

const DAY_MS = 86_400_000;
/**
 * Windows of more records are read as a streamed source (flow-source.ts). Held in memory, a window costs about 1.2 KB
 * per record during a statement (1M AWS-shaped records over 3 days: 1.8 GiB peak RSS held, 0.7 GiB streamed, same
 * CPU). Re-reading costs CPU on smaller windows (bench:derive's 1M mixed records, windows of ~200,000: 10.0-10.7 s held,
 * 11.5 s streamed; +25% on 3,000 records), so windows up to 250,000 records (~300 MB) stay held.
 */
const STREAM_ABOVE_RECORDS = 250_000;
/** Time budget of one derivation statement (an ingest commit is not an API request; an hour bounds a runaway). */
const DERIVE_BUDGET_MS = 3_600_000;
const shiftDate = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const keyOf = (p: PartitionKey): string => `${p.accountId}/${p.region}/${p.date}`;

/** The partitions whose derived rows may change: each touched one and its neighbouring days. */
export function affectedPartitions(touched: readonly PartitionKey[]): PartitionKey[] {
  const out = new Map<string, PartitionKey>();
  for (const p of touched) {
    for (const d of [-1, 0, 1]) {
      const k = { accountId: p.accountId, region: p.region, date: shiftDate(p.date, d) };
      out.set(keyOf(k), k);
    }
  }
  return [...out.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

/** The partitions to re-derive: each touched one and its neighbouring days, where flows exist. */
export function partitionsToDerive(touched: readonly PartitionKey[], flows: readonly ManifestFile[]): PartitionKey[] {
  const present = new Set(flows.filter((f) => f.table === 'flows').map((f) => keyOf(f)));
  return affectedPartitions(touched).filter((k) => present.has(keyOf(k)));
}

// COPY's target cannot be a bound parameter; the path is ours (root or staging + a uuid), quoted as a literal.
function copyTo(select: SqlFragment, path: string): SqlFragment {
  return sql`COPY (${select}) TO ${raw(`'${path.replaceAll("'", "''")}'`)} (FORMAT parquet, COMPRESSION zstd)`;
}

/** Derives every derived table for the touched partitions (and neighbours); see the module comment. */
export async function deriveTables(opts: DeriveTablesOptions): Promise<DeriveTablesResult> {
  const flows = opts.files.filter((f) => f.table === 'flows');
  const targets = partitionsToDerive(opts.touched, flows);
  const ctx = {
    db: opts.db,
    warehouse: createWarehouseReader(opts.root),
    cost: new CostMeter(),
    deadline: Date.now() + DERIVE_BUDGET_MS,
    log: { info: () => undefined, warn: () => undefined },
  };
  const locate = opts.locate ?? ((f: ManifestFile) => join(opts.root, f.path));
  const written: DerivedFile[] = [];
  for (const p of targets) {
    const window = new Set([-1, 0, 1].map((d) => shiftDate(p.date, d)));
    const inWindow = flows.filter((f) => f.accountId === p.accountId && f.region === p.region && window.has(f.date));
    const records = inWindow.reduce((n, f) => n + f.rows, 0);
    const source = { files: await Promise.all(inWindow.map((f) => locate(f))), stream: records > STREAM_ABOVE_RECORDS };
    const derived: [TableName, SqlFragment][] = [
      ['handshakes', handshakesFromFlowsSql(source, p.date)],
      ['edges', edgeRowsFromFlowsSql(source, p.date)],
      ['flows_hourly', hourlyRollupFromFlowsSql(source.files, p.date)],
    ];
    for (const [table, select] of derived) {
      const id = randomUUID();
      const path = `${partitionDir(table, p.accountId, p.region, p.date)}/part-derived-${id}.parquet`;
      const absolute = opts.stagingDir ? join(opts.stagingDir, `${table}-derived-${id}.parquet`) : join(opts.root, path);
      await mkdir(dirname(absolute), { recursive: true });
      const rows = await runQuery(ctx, build(`${table}.derive`, copyTo(select, absolute)));
      const count = Number(Object.values(rows[0] ?? {})[0] ?? 0);
      const { size } = await stat(absolute);
      const file = { path, table, accountId: p.accountId, region: p.region, date: p.date, rows: count, bytes: size };
      written.push(opts.stagingDir ? { ...file, stagedPath: absolute } : file);
    }
  }
  // A partition left without flows (its only object was replaced by one without those records) loses its derived
  // files too: derived rows of day D always come from records starting on D.
  return { files: written, replaces: affectedPartitions(opts.touched) };
}

/** The manifest file list after a derivation: previous derived files of the re-derived partitions swapped for new ones. */
export function applyDerivedFiles(files: readonly ManifestFile[], result: DeriveTablesResult): ManifestFile[] {
  const replaced = new Set(result.replaces.map(keyOf));
  const kept = files.filter((f) => f.table === 'flows' || !replaced.has(keyOf(f)));
  return [...kept, ...result.files.map(({ stagedPath: _staged, ...f }) => f)];
}

/** The derived files of `files` that a derivation replaces (the ingester retires them in the same commit). */
export function replacedDerivedFiles(files: readonly ManifestFile[], result: DeriveTablesResult): ManifestFile[] {
  const replaced = new Set(result.replaces.map(keyOf));
  return files.filter((f) => f.table !== 'flows' && replaced.has(keyOf(f)));
}
