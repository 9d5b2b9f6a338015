/**
 * Writing derived files (derive-tables.ts): one run of hours of one scope computed into a temp table, then each hour's
 * rows of each region copied to their own Parquet file, in the warehouse or in the ingester's staging folder.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { partitionDir, type ManifestFile, type TableName } from '../store/layout.ts';
import { runBound } from '../store/query-runner.ts';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import { HOUR_MS, dateOf, dayStart, derivedFileName, type PartitionKey } from './derived-hours.ts';
import type { FlowSource } from './flow-source.ts';

/** A derived file; `stagedPath` is set when it was written to `stagingDir` and still has to be published to `path`. */
export type DerivedFile = ManifestFile & { readonly stagedPath?: string };

/** Where derived files go: under `root`, or flat into `stagingDir` (as `stagedPath`) when it is set. */
export interface WriteTarget {
  readonly root: string;
  readonly stagingDir?: string;
}

/** A run's source with its units: what a derived table's statements read. */
export type RunSource = FlowSource & { readonly units: NonNullable<FlowSource['units']> };

/**
 * Temp tables computed once per run (prepareRun) and read by the SELECT of every table that shares them, named
 * `name` (the tables of one run that name the same preparation derive together, derive-tables.ts).
 */
export interface RunPreparation {
  readonly name: string;
  readonly tables: readonly { readonly table: string; readonly select: (source: RunSource) => SqlFragment }[];
}

/** One derived table: how far around an hour its rows look, and the SELECT of its rows led by their `unit`. */
export interface DerivedTableSpec {
  readonly table: TableName;
  readonly contextMs: number;
  /** Rows of the scope `key`, led by `unit` and followed by `place_region`, the region each row is filed under. */
  readonly select: (source: RunSource, key: PartitionKey) => SqlFragment;
  /** The same rows from temp tables created once per run (prepareRun) for every table naming the same `prepare`. */
  readonly shared?: {
    readonly prepare: RunPreparation;
    readonly select: (source: RunSource, key: PartitionKey) => SqlFragment;
  };
}

/** The temp table holding a table's rows of the current run (`derived_<table>`). */
export const rowsTable = (spec: DerivedTableSpec): string => `derived_${spec.table}`;

/** Creates (or replaces) the temp tables of `prep` for one run, in order: later ones may read earlier ones. */
export async function prepareRun(c: DuckDBConnection, prep: RunPreparation, source: RunSource): Promise<void> {
  for (const { table, select } of prep.tables)
    await runBound(
      c,
      build(`${prep.name}.${table}`, sql`CREATE OR REPLACE TEMP TABLE ${raw(table)} AS ${select(source)}`),
    );
}

// COPY's target cannot be a bound parameter; the path is ours (root or staging + a uuid), quoted as a literal.
function copyTo(select: SqlFragment, path: string): SqlFragment {
  return sql`COPY (${select}) TO ${raw(`'${path.replaceAll("'", "''")}'`)} (FORMAT parquet, COMPRESSION zstd)`;
}

/** A derived file as written, and where (staging or the warehouse). */
export type WrittenFile = DerivedFile & { readonly absolute: string };
export const withoutPath = ({ absolute: _absolute, ...file }: WrittenFile): DerivedFile => file;

/** Writes `select` (over a rowsTable) as the derived file of `table` in partition `p` holding hours first..last. */
export async function writeDerivedFile(
  c: DuckDBConnection,
  target: WriteTarget,
  table: TableName,
  p: PartitionKey,
  [first, last]: readonly [number, number],
  select: SqlFragment,
): Promise<WrittenFile> {
  const path = `${partitionDir(table, p.accountId, p.region, p.date)}/${derivedFileName(first, last)}`;
  const absolute = target.stagingDir
    ? join(target.stagingDir, `${table}-${path.split('/').pop()!}`)
    : join(target.root, path);
  await mkdir(dirname(absolute), { recursive: true });
  const copied = await runBound(c, build(`${table}.write`, copyTo(select, absolute)));
  const rows = Number(copied.getRows()[0]?.[0] ?? 0);
  const file = { path, table, ...p, rows, bytes: (await stat(absolute)).size, absolute };
  return target.stagingDir ? { ...file, stagedPath: absolute } : file;
}

/**
 * Derives one run of hours of one scope into a temp table with one statement, then writes each hour's rows of each
 * region to their own file (an hour and region without rows has no file). The temp table keeps the SELECT's order,
 * and a filtered scan keeps the table's: files are in row order. `shared`: from the run's prepared temp tables
 * (`spec.shared`, created by prepareRun), else from the records in one statement.
 */
export async function deriveRun(
  c: DuckDBConnection,
  target: WriteTarget,
  spec: DerivedTableSpec,
  key: PartitionKey,
  source: RunSource,
  shared: boolean,
): Promise<WrittenFile[]> {
  const rows = raw(rowsTable(spec));
  const select = shared && spec.shared ? spec.shared.select(source, key) : spec.select(source, key);
  await runBound(c, build(`${spec.table}.derive`, sql`CREATE OR REPLACE TEMP TABLE ${rows} AS ${select}`));
  const places = await runBound(
    c,
    build(`${spec.table}.places`, sql`SELECT DISTINCT unit, place_region FROM ${rows} ORDER BY unit, place_region`),
  );
  const out: WrittenFile[] = [];
  for (const [unit, region] of places.getRows()) {
    if (typeof region !== 'string') throw new Error(`${spec.table}: a derived row has no region to be filed under`);
    const h = Number(unit);
    const date = dateOf(h * HOUR_MS);
    const hour = (h * HOUR_MS - dayStart(date)) / HOUR_MS;
    const hourRows = sql`SELECT * EXCLUDE (unit, place_region) FROM ${rows} WHERE unit = ${h} AND place_region = ${region}`;
    out.push(
      await writeDerivedFile(c, target, spec.table, { accountId: key.accountId, region, date }, [hour, hour], hourRows),
    );
  }
  return out;
}
