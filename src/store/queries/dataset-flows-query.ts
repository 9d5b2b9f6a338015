/**
 * `datasets.flows`: the flow records of a filter as a flat table for BI tools, oldest first by the unique key
 * (start_time, flow_id), so two downloads of the same window list rows in the same order. Columns: the partition
 * columns first (account_id, region, date), then every stored column under its AWS-derived name. `extra` (fields of
 * future flow-log versions, a MAP) is left out: BI tools have no type for it; GraphQL serves it.
 */
import { PARTITION_COLUMNS, STORED_COLUMNS } from '../../domain/flow-schema.ts';
import { build, raw, sql, type SqlFragment, type SqlQuery } from '../sql.ts';
import { parquetSourceSql } from './parquet-source-query.ts';

/** The flows dataset's columns, in output order. */
export const DATASET_FLOW_COLUMNS: readonly string[] = [
  ...PARTITION_COLUMNS.map((c) => c.column),
  ...STORED_COLUMNS.map((c) => c.column).filter((c) => c !== 'extra'),
];

const SELECT = raw(DATASET_FLOW_COLUMNS.map((c) => (c === 'end' ? '"end"' : c)).join(', '));

/** Rows of `files` matching `where` (from flowFilterSql), oldest first, at most `limit`. */
export function datasetFlowsQuery(input: { files: readonly string[]; where: SqlFragment; limit: number }): SqlQuery {
  return datasetFlowsRunQuery({ ...input, startUs: null, endUs: null });
}

/** One run of a large flows export: the rows from `startUs` (inclusive) to the next run's start (exclusive). */
export interface FlowRun {
  /** start_time of the run's first row, in microseconds (exact). */
  readonly startUs: bigint;
  /** How many rows of the selection come before the run. */
  readonly firstRow: number;
  readonly rows: number;
}

/**
 * `datasets.flows.runs`: the selection cut into runs of about `runRows` rows, in start_time order, for an export
 * that sorts one run at a time. Rows are counted per distinct start_time (a few per second of the window, however
 * many rows), and a start_time goes to run (rows before it) / runRows, so a run never splits one start_time: its
 * rows sort by flow_id inside the run, and run bounds are plain start_time ranges, which DuckDB pushes into the
 * Parquet scan to skip row groups (ingest writes files sorted by time). A run holds at most runRows rows plus
 * those of its last start_time.
 */
export function datasetFlowRunsQuery(input: {
  files: readonly string[];
  where: SqlFragment;
  runRows: number;
}): SqlQuery {
  return build(
    'datasets.flows.runs',
    sql`WITH times AS (
  SELECT start_time, count(*) AS n
  FROM ${parquetSourceSql(input.files)}
  WHERE ${input.where}
  GROUP BY start_time
), placed AS (
  SELECT start_time, n, sum(n) OVER (ORDER BY start_time ROWS UNBOUNDED PRECEDING) - n AS before
  FROM times
)
SELECT epoch_us(min(start_time)) AS start_us, CAST(min(before) AS BIGINT) AS first_row, CAST(sum(n) AS BIGINT) AS rows
FROM placed
GROUP BY before // ${input.runRows}
ORDER BY start_us`,
  );
}

/**
 * One run of the flows dataset: rows with start_time from `start` (inclusive; null: no lower bound) to `end`
 * (exclusive; null: no upper bound) in (start_time, flow_id) order, cut at `limit` rows when the export's row limit
 * falls inside the run.
 */
export function datasetFlowsRunQuery(input: {
  files: readonly string[];
  where: SqlFragment;
  startUs: bigint | null;
  endUs: bigint | null;
  limit: number | null;
}): SqlQuery {
  const lower =
    input.startUs === null
      ? raw('')
      : sql`
  AND start_time >= make_timestamp(${input.startUs})`;
  const upper = input.endUs === null ? raw('') : sql` AND start_time < make_timestamp(${input.endUs})`;
  const limit =
    input.limit === null
      ? raw('')
      : sql`
LIMIT ${input.limit}`;
  return build(
    'datasets.flows',
    sql`SELECT ${SELECT}
FROM ${parquetSourceSql(input.files)}
WHERE ${input.where}${lower}${upper}
ORDER BY start_time, flow_id${limit}`,
  );
}

/**
 * The sorted run files of one export (written from datasetFlowsRunQuery, in key order) read back as one relation in
 * that order: DuckDB's multi-file scan keeps file order while insertion order is preserved (its default).
 */
export function datasetRunsQuery(runFiles: readonly string[]): SqlQuery {
  return build('datasets.flows', sql`SELECT * FROM read_parquet(${runFiles}, hive_partitioning = false)`);
}
