/**
 * Writing derived files (derive-tables.ts): one run of hours of one scope computed into a temp table, then its rows
 * copied to Parquet files of one region and a stretch of hours each (runFiles), in the warehouse or in the
 * ingester's staging folder; and the rows of committed files' hours that were not re-derived, copied as they are.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { partitionDir, type ManifestFile, type TableName } from '../store/layout.ts';
import { PARQUET_WRITE_OPTIONS } from '../store/parquet-options.ts';
import { runBound } from '../store/query-runner.ts';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import { HOUR_MS, dateOf, dayStart, derivedFileName, type CarriedFile, type PartitionKey } from './derived-hours.ts';
import type { FlowSource } from './flow-source.ts';
import type { HourlyAdditions } from '../store/queries/flows-hourly-query.ts';
import { HOUR_OF } from './normalized-records-query.ts';

/** A derived file; `stagedPath` is set when it was written to `stagingDir` and still has to be published to `path`. */
export type DerivedFile = ManifestFile & { readonly stagedPath?: string };

/** Where derived files go: under `root`, or flat into `stagingDir` (as `stagedPath`) when it is set. */
export interface WriteTarget {
  readonly root: string;
  readonly stagingDir?: string;
}

/** A run's source with its units: what a derived table's statements read. */
export type RunSource = FlowSource & {
  readonly units: NonNullable<FlowSource['units']>;
  /** For an additive table, what an ingest that only adds records changes (flows-hourly-query.ts). */
  readonly additions?: HourlyAdditions;
};

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
  /** The column whose UTC hour is a row's hour (its `unit`): what carryRows selects a file's hours by. */
  readonly hourColumn: string;
  /**
   * Rows are sums of their hour's own records (no context): where a commit only adds records to a derived partition,
   * its runs get `additions` and sum the added records into the committed rows (derive-tables.ts).
   */
  readonly additive?: boolean;
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
  return sql`COPY (${select}) TO ${raw(`'${path.replaceAll("'", "''")}'`)} (${raw(PARQUET_WRITE_OPTIONS)})`;
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
 * The files one run's rows go to, per region: one per UTC date and stretch of consecutive `planned` hours before
 * `openFrom` (an epoch hour), named by its first and last hour holding rows, and one per hour from `openFrom` on. A
 * file never spans an hour that is not planned, whose rows may be in another file (carried, derived-hours.ts).
 * Hours still receiving deliveries stay in files of their own, so the next delivery replaces only those; older hours
 * share a file, since every file costs its own write (bench:ingest's 400,000 records: writing 216 hour files took 0.95
 * of the derivation's 4.5 CPU s, its 24 files now 0.24).
 */
export function runFiles(
  places: readonly (readonly [number, string])[],
  planned: ReadonlySet<number>,
  openFrom: number,
): { region: string; date: string; first: number; last: number }[] {
  const out: { region: string; date: string; first: number; last: number }[] = [];
  const sorted = [...places].sort(([u1, r1], [u2, r2]) => r1.localeCompare(r2) || u1 - u2);
  for (const [unit, region] of sorted) {
    const date = dateOf(unit * HOUR_MS);
    const prev = out[out.length - 1];
    let joins = prev !== undefined && prev.region === region && prev.date === date && unit < openFrom;
    for (let h = (prev?.last ?? unit) + 1; joins && h < unit; h++) joins = planned.has(h);
    if (joins) prev!.last = unit;
    else out.push({ region, date, first: unit, last: unit });
  }
  return out;
}

/**
 * Derives one run of hours of one scope into a temp table with one statement, then writes its rows to files
 * (runFiles; an hour and region without rows has none). The temp table keeps the SELECT's order, and a filtered scan
 * keeps the table's: files are in row order. `shared`: from the run's prepared temp tables (`spec.shared`, created by
 * prepareRun), else from the records in one statement.
 */
export async function deriveRun(
  c: DuckDBConnection,
  target: WriteTarget,
  spec: DerivedTableSpec,
  key: PartitionKey,
  source: RunSource,
  shared: boolean,
  files: { readonly planned: ReadonlySet<number>; readonly openFrom: number },
): Promise<WrittenFile[]> {
  const rows = raw(rowsTable(spec));
  const select = shared && spec.shared ? spec.shared.select(source, key) : spec.select(source, key);
  await runBound(c, build(`${spec.table}.derive`, sql`CREATE OR REPLACE TEMP TABLE ${rows} AS ${select}`));
  const places = await runBound(
    c,
    build(`${spec.table}.places`, sql`SELECT DISTINCT unit, place_region FROM ${rows} ORDER BY unit, place_region`),
  );
  const out: WrittenFile[] = [];
  const placed = places.getRows().map(([unit, region]): [number, string] => {
    if (typeof region !== 'string') throw new Error(`${spec.table}: a derived row has no region to be filed under`);
    return [Number(unit), region];
  });
  for (const { region, date, first, last } of runFiles(placed, files.planned, files.openFrom)) {
    const hourOfDay = (h: number) => (h * HOUR_MS - dayStart(date)) / HOUR_MS;
    const fileRows = sql`SELECT * EXCLUDE (unit, place_region) FROM ${rows}
WHERE unit BETWEEN ${first} AND ${last} AND place_region = ${region}`;
    const p = { accountId: key.accountId, region, date };
    out.push(await writeDerivedFile(c, target, spec.table, p, [hourOfDay(first), hourOfDay(last)], fileRows));
  }
  return out;
}

/**
 * The rows of committed derived files (derived-hours.ts CarriedFile) of the hours they keep, copied as they are into
 * new files, one per stretch of hours (none for a stretch without rows). `hourColumn` is the column whose hour files
 * a row (its `unit`): a filtered scan keeps the file's order, which is the order a derivation writes them in.
 */
export async function carryRows(
  c: DuckDBConnection,
  target: WriteTarget,
  carried: readonly CarriedFile[],
  locate: (file: ManifestFile) => string | Promise<string>,
  hourColumn: string,
): Promise<WrittenFile[]> {
  const out: WrittenFile[] = [];
  for (const { file, keep } of carried) {
    const path = await locate(file);
    const base = dayStart(file.date) / HOUR_MS;
    for (const [first, last] of keep) {
      const rows = sql`SELECT * FROM read_parquet(${[path]}, hive_partitioning = false)
WHERE ${raw(HOUR_OF(hourColumn))} BETWEEN ${base + first} AND ${base + last}`;
      const p = { accountId: file.accountId, region: file.region, date: file.date };
      const written = await writeDerivedFile(c, target, file.table, p, [first, last], rows);
      if (written.rows > 0) out.push(written);
      else await rm(written.absolute, { force: true });
    }
  }
  return out;
}
