/**
 * Writes flows Parquet files into the staging folder: zstd files per partition, rows ordered by the hour of
 * start_time, then by source object and line (FILE_ORDER), DuckDB's default row-group size. Used for new batches, for
 * rewriting files without a replaced source's rows, and for compaction.
 *
 * Why that order (measured on a compacted day of AWS-shaped v5 records, docs/ARCHITECTURE.md "Flows file layout"):
 * within an hour the records stay as the producer wrote them, which keeps the observations of one exchange next to
 * each other and makes source_line and flow_id nearly sequential: 12.9 bytes/record against 18.3 when sorted by
 * (start_time, interface_id, srcaddr). Time filters still skip row groups by their start_time min/max: a row group
 * (122,880 rows) spans several hours anyway, so an hour's disorder does not widen it. No reader depends on the file
 * order for correctness; every ordered read says ORDER BY.
 */
import { randomUUID } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { STORED_COLUMNS } from '../domain/flow-schema.ts';
import type { ReferenceKind } from '../domain/reference-tables.ts';
import { HOUR_OF } from '../analytics/normalized-records-query.ts';
import { undirectedFromFooters, undirectedKvOption, undirectedRecordSql } from '../analytics/undirected-records.ts';
import { partitionDir, type TableName } from '../store/layout.ts';
import { PARQUET_WRITE_OPTIONS } from '../store/parquet-options.ts';
import { build, raw, sql, type SqlFragment } from '../store/sql.ts';
import type { BatchTables } from './ingest-batch-tables.ts';

/** A partition of the flows table. */
export interface PartitionKey {
  readonly accountId: string;
  readonly region: string;
  /** YYYY-MM-DD */
  readonly date: string;
}

/** A Parquet file written to staging, with what the ledger needs to know about it. */
export interface StagedFile extends PartitionKey {
  readonly stagedPath: string;
  /** Final path relative to the warehouse root. */
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  /** The table the file belongs to (absent: flows; derived handshakes/edges files are added by ingest-derive.ts). */
  readonly table?: TableName | ReferenceKind;
  /** Rows per source object, so a changed object can be removed from exactly the files holding it. */
  readonly sources: readonly { sourceId: number; rows: number }[];
}

/** Row order of a flows file (see the module comment). */
export const FILE_ORDER = "date_trunc('hour', start_time), source_id, source_line";
const COLUMNS = STORED_COLUMNS.map((c) => c.column).join(', ');

function literal(path: string): string {
  return `'${path.replaceAll("'", "''")}'`;
}

async function rows(c: DuckDBConnection, name: string, f: SqlFragment): Promise<Record<string, unknown>[]> {
  const q = build(name, f);
  return (await c.runAndReadAll(q.text, q.params as DuckDBValue[])).getRowObjectsJS();
}

/** Writes `select` as a flows file, its footer saying whether it holds records without flow-direction. */
async function copyTo(
  c: DuckDBConnection,
  select: SqlFragment,
  staged: string,
  undirected: boolean,
  options = PARQUET_WRITE_OPTIONS,
): Promise<void> {
  const all = `${options}, ${undirectedKvOption(undirected)}`;
  const q = build('ingest.copy_parquet', sql`COPY (${select}) TO ${raw(literal(staged))} (${raw(all)})`);
  await c.run(q.text, q.params as DuckDBValue[]);
}

async function describe(
  c: DuckDBConnection,
  stagingDir: string,
  part: PartitionKey,
  staged: string,
): Promise<StagedFile> {
  const counts = await rows(
    c,
    'ingest.staged_sources',
    sql`SELECT source_id, count(*) AS n FROM read_parquet(${staged}) GROUP BY source_id ORDER BY source_id`,
  );
  const sources = counts.map((r) => ({ sourceId: Number(r.source_id), rows: Number(r.n) }));
  return {
    ...part,
    stagedPath: staged,
    path: `${partitionDir('flows', part.accountId, part.region, part.date)}/${staged.slice(stagingDir.length + 1)}`,
    rows: sources.reduce((a, s) => a + s.rows, 0),
    bytes: (await stat(staged)).size,
    sources,
  };
}

function stagedName(stagingDir: string): string {
  return join(stagingDir, `part-${randomUUID()}.parquet`);
}

const FLOW_ID = 'CAST(source_id AS BIGINT) * 4294967296 + source_line';

/**
 * `SELECT` list of a flows file over a relation holding only `filled` columns: the rest are typed NULLs, added after
 * the sort so that neither the sort nor the scan carries them (the Parquet writer still writes every column).
 */
function paddedColumns(filled: ReadonlySet<string>): string {
  return STORED_COLUMNS.map(({ column, type }) => {
    if (column === 'flow_id') return `${FLOW_ID} AS flow_id`;
    return filled.has(column) ? column : `CAST(NULL AS ${type}) AS ${column}`;
  }).join(', ');
}

/**
 * Most rows of one partition a flush sorts and writes as one file. A flush sorts a partition's rows in one statement:
 * a 2M-record batch of bench:scale's 100M-record set (6 flow logs) held partitions of up to 640,000 rows, and
 * sorting one raised the ingester's RSS by 250-300 MiB, the highest point of the whole ingest. A larger partition is
 * written as several files of consecutive hours (FILE_ORDER leads with the hour, so together they hold the same order);
 * an hour holding more than this is still one file. `flowql compact` merges a day's files.
 */
export const FLUSH_FILE_ROWS = 300_000;

/** Rows of one partition's batch in one hour (null: records without start_time) from one source. */
export interface HourCount {
  readonly hour: number | null;
  readonly sourceId: number;
  readonly rows: number;
  /** Whether some of them lack flow-direction (undirected-records.ts). */
  readonly undirected: boolean;
}

/**
 * One staged file of a flush: the first and last epoch hour it holds (null when it holds only records without
 * start_time), whether it holds those too, and its rows per source.
 */
export interface FileSlice {
  readonly from: number | null;
  readonly to: number | null;
  readonly withoutStart: boolean;
  readonly sources: { sourceId: number; rows: number }[];
  /** Whether it holds records without flow-direction (undirected-records.ts). */
  readonly undirected: boolean;
}

/**
 * A partition's batch rows cut into consecutive hour ranges of at most `maxRows` rows (an hour above it alone), the
 * rows without start_time in the last range (FILE_ORDER puts them last).
 */
export function fileSlices(counts: readonly HourCount[], maxRows = FLUSH_FILE_ROWS): FileSlice[] {
  const byHour = new Map<number | null, HourCount[]>();
  for (const c of counts) byHour.set(c.hour, [...(byHour.get(c.hour) ?? []), c]);
  const hours = [...byHour.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));
  // Consecutive hours go together while they fit; the rows without start_time (sorted last) join the last slice.
  const cut: { hours: (number | null)[]; rows: number }[] = [];
  for (const hour of hours) {
    const rows = byHour.get(hour)!.reduce((a, c) => a + c.rows, 0);
    const last = cut.at(-1);
    if (last !== undefined && (hour === null || last.rows + rows <= maxRows)) {
      last.hours.push(hour);
      last.rows += rows;
    } else cut.push({ hours: [hour], rows });
  }
  return cut.map(({ hours: held }) => {
    const timed = held.filter((h): h is number => h !== null);
    const perSource = new Map<number, number>();
    for (const c of held.flatMap((h) => byHour.get(h)!))
      perSource.set(c.sourceId, (perSource.get(c.sourceId) ?? 0) + c.rows);
    return {
      from: timed[0] ?? null,
      to: timed.at(-1) ?? null,
      withoutStart: held.includes(null),
      sources: [...perSource].sort(([a], [b]) => a - b).map(([sourceId, rows]) => ({ sourceId, rows })),
      undirected: held.some((h) => byHour.get(h)!.some((c) => c.undirected)),
    };
  });
}

/**
 * Writes the batch (every batch table, see ingest-batch-tables.ts) as sorted staged files per partition (one unless
 * it holds more than FLUSH_FILE_ROWS rows), then drops its tables. Rows per file and source come from the batch
 * itself, so staged files are not read back.
 */
export async function flushBatch(
  c: DuckDBConnection,
  stagingDir: string,
  batches: BatchTables,
  maxFileRows = FLUSH_FILE_ROWS,
): Promise<StagedFile[]> {
  await batches.consolidate(c);
  const tables = await batches.tables();
  if (tables.length === 0) return [];
  // Tables of different layouts meet by name; a column one of them lacks reads as NULL there.
  const source = raw(
    tables.length === 1
      ? tables[0]!.name
      : `(${tables.map((t) => `SELECT * FROM ${t.name}`).join(' UNION ALL BY NAME ')})`,
  );
  const filled = new Set(tables.flatMap((t) => t.columns));
  const hourOf = raw(filled.has('start_time') ? HOUR_OF('start_time') : 'NULL::BIGINT');
  const counts = await rows(
    c,
    'ingest.batch_counts',
    sql`SELECT account_id, region, CAST(date AS VARCHAR) AS date, ${hourOf} AS hour, source_id, count(*) AS n,
               bool_or(${raw(undirectedRecordSql((col) => filled.has(col)))}) AS undirected
        FROM ${source} GROUP BY ALL ORDER BY ALL`,
  );
  const parts = new Map<string, { part: PartitionKey; hours: HourCount[] }>();
  for (const r of counts) {
    const part = { accountId: String(r.account_id), region: String(r.region), date: String(r.date) };
    const k = `${part.accountId}/${part.region}/${part.date}`;
    if (!parts.has(k)) parts.set(k, { part, hours: [] });
    const hour = r.hour === null ? null : Number(r.hour);
    parts
      .get(k)!
      .hours.push({ hour, sourceId: Number(r.source_id), rows: Number(r.n), undirected: r.undirected === true });
  }
  const keep = STORED_COLUMNS.map((col) => col.column).filter((col) => filled.has(col));
  const inner = raw(keep.join(', '));
  const outer = raw(paddedColumns(filled));
  // A batch without start_time (NULL in every row) is in source order already.
  const orderBy = raw(filled.has('start_time') ? FILE_ORDER : 'source_id, source_line');
  const out: StagedFile[] = [];
  for (const { part, hours } of parts.values()) {
    const slices = fileSlices(hours, maxFileRows);
    for (const slice of slices) {
      // One slice: the whole partition, no hour condition (its rows without start_time included). Several: each has
      // its first and last hour, and the rows without start_time go with the last (fileSlices).
      const withoutStart = raw(slice.withoutStart ? ' OR start_time IS NULL' : '');
      const inHours =
        slices.length === 1
          ? raw('TRUE')
          : sql`(${hourOf} BETWEEN ${slice.from ?? 0} AND ${slice.to ?? 0}${withoutStart})`;
      const staged = stagedName(stagingDir);
      await copyTo(
        c,
        sql`SELECT ${outer} FROM (
            SELECT ${inner} FROM ${source}
            WHERE account_id = ${part.accountId} AND region = ${part.region} AND date = CAST(${part.date} AS DATE)
              AND ${inHours}
            ORDER BY ${orderBy})`,
        staged,
        slice.undirected,
      );
      out.push({
        ...part,
        stagedPath: staged,
        path: `${partitionDir('flows', part.accountId, part.region, part.date)}/${staged.slice(stagingDir.length + 1)}`,
        rows: slice.sources.reduce((a, x) => a + x.rows, 0),
        bytes: (await stat(staged)).size,
        sources: slice.sources,
      });
    }
  }
  await batches.clear(c);
  return out;
}

/**
 * Whether the rows a rewrite keeps hold records without flow-direction: from the inputs' footers when every input
 * has the key and no rows are dropped (a compaction), else by reading the rows kept.
 */
async function rewrittenUndirected(
  c: DuckDBConnection,
  inputs: readonly string[],
  dropSources: readonly number[],
  drop: SqlFragment,
): Promise<boolean> {
  const said = await undirectedFromFooters(c, inputs);
  if (dropSources.length === 0 && inputs.every((p) => said.has(p))) return inputs.some((p) => said.get(p));
  const [kept] = await rows(
    c,
    'ingest.rewrite_undirected',
    sql`SELECT coalesce(bool_or(${raw(undirectedRecordSql())}), false) AS undirected
        FROM read_parquet(${raw(`[${inputs.map(literal).join(', ')}]`)}, union_by_name = true) ${drop}`,
  );
  return kept?.undirected === true;
}

/**
 * Writes the rows of committed files `inputs` (local paths, same partition) minus those of `dropSources` as one
 * sorted staged file; null when no row is left. Compaction passes no sources to drop, and its `options`
 * (src/store/parquet-options.ts).
 */
export async function rewriteFiles(
  c: DuckDBConnection,
  stagingDir: string,
  part: PartitionKey,
  inputs: readonly string[],
  dropSources: readonly number[] = [],
  options = PARQUET_WRITE_OPTIONS,
): Promise<StagedFile | null> {
  const list = raw(`[${inputs.map(literal).join(', ')}]`);
  const drop =
    dropSources.length > 0
      ? raw(`WHERE source_id NOT IN (${dropSources.map((s) => Math.trunc(s)).join(', ')})`)
      : raw('');
  const staged = stagedName(stagingDir);
  await copyTo(
    c,
    sql`SELECT ${raw(COLUMNS)} FROM read_parquet(${list}, union_by_name = true) ${drop} ORDER BY ${raw(FILE_ORDER)}`,
    staged,
    await rewrittenUndirected(c, inputs, dropSources, drop),
    options,
  );
  const file = await describe(c, stagingDir, part, staged);
  if (file.rows > 0) return file;
  await rm(staged, { force: true });
  return null;
}
