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
  return build(
    'datasets.flows',
    sql`SELECT ${SELECT}
FROM ${parquetSourceSql(input.files)}
WHERE ${input.where}
ORDER BY start_time, flow_id
LIMIT ${input.limit}`,
  );
}

/** Position of a page's first row in (start_time, flow_id) order; start_time in microseconds (exact). */
export interface FlowPageStart {
  readonly startUs: bigint;
  readonly flowId: bigint;
}

/**
 * `datasets.flows.pages`: the key of every `pageSize`-th row (1st, pageSize+1-th, ...) among the first `limit` rows in
 * (start_time, flow_id) order. Sorting just the two key columns stays small where sorting whole rows did not (a
 * million 80-column rows took ~500 MB); each page is then a top-N of `pageSize` rows from its start key.
 */
export function datasetFlowPageStartsQuery(input: { files: readonly string[]; where: SqlFragment; limit: number; pageSize: number }): SqlQuery {
  return build(
    'datasets.flows.pages',
    sql`SELECT epoch_us(start_time) AS start_us, flow_id
FROM (
  SELECT start_time, flow_id, row_number() OVER (ORDER BY start_time, flow_id) AS n
  FROM ${parquetSourceSql(input.files)}
  WHERE ${input.where}
)
WHERE n <= ${input.limit} AND (n - 1) % ${input.pageSize} = 0
ORDER BY n`,
  );
}

/** One page of the flows dataset: `limit` rows from `start` (inclusive) in (start_time, flow_id) order. */
export function datasetFlowsPageQuery(input: { files: readonly string[]; where: SqlFragment; start: FlowPageStart; limit: number }): SqlQuery {
  const t = input.start.startUs;
  return build(
    'datasets.flows',
    sql`SELECT ${SELECT}
FROM ${parquetSourceSql(input.files)}
WHERE ${input.where}
  AND (start_time > make_timestamp(${t}) OR (start_time = make_timestamp(${t}) AND flow_id >= ${input.start.flowId}))
ORDER BY start_time, flow_id
LIMIT ${input.limit}`,
  );
}
