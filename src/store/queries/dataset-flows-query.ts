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
