/**
 * One page of flow records in keyset order: (start_time, flow_id), ascending or descending. flow_id is unique, so the
 * pair is a total order and paging never repeats or skips a record, however many share a start second. The cursor
 * carries start_time in microseconds (exact) and flow_id; the page reads `limit + 1` rows to learn whether more follow.
 */
import type { FlowOrder } from '../../domain/flow-order.ts';
import { PARTITION_COLUMNS, READABLE_COLUMNS, STORED_COLUMNS } from '../../domain/flow-schema.ts';
import { build, ident, join, raw, sql, type SqlFragment, type SqlQuery } from '../sql.ts';
import { parquetSourceSql } from './parquet-source-query.ts';

/** Position after which a page starts. */
export interface FlowKey {
  /** start_time in microseconds since the epoch. */
  readonly startUs: bigint;
  readonly flowId: bigint;
}

/** Inputs of a page query; `where` comes from flowFilterSql. */
export interface FlowsPageInput {
  readonly files: readonly string[];
  readonly where: SqlFragment;
  readonly order: FlowOrder;
  readonly after: FlowKey | null;
  /** Rows wanted; the query asks for one more. */
  readonly limit: number;
  /** Columns the caller will read (flow_id is always added); null for every stored and partition column. */
  readonly columns?: readonly string[] | null;
}

/** Column alias of the exact cursor time in page rows. */
export const CURSOR_US = 'cursor_start_us';

/** Every readable column, in file order then partition order. */
const ALL_FLOW_COLUMNS: readonly string[] = [...STORED_COLUMNS, ...PARTITION_COLUMNS].map((c) => c.column);

function selectList(columns: readonly string[] | null | undefined): SqlFragment {
  const wanted = columns ? [...new Set([...columns, 'flow_id'])] : ALL_FLOW_COLUMNS;
  return join(
    wanted.map((c) => ident(c, READABLE_COLUMNS)),
    ', ',
  );
}

/**
 * `flows.page`: the rows of one page plus one look-ahead row, in one statement. DuckDB plans `ORDER BY ... LIMIT` as a
 * top-N whose running bound is pushed into the Parquet scan as a dynamic filter, so once the page is full the row
 * groups past it are skipped by their start_time min/max (files are sorted by start_time). The keyset condition
 * repeats its time bound as a plain range so the scan also skips the row groups before the cursor.
 * This replaced a two-phase design (keys first, then every column joined back by key), which scanned the day twice
 * (~1.7x the CPU, bench/flows-bench.ts). Reading only the columns the caller selects matters most: whole row groups
 * are decompressed per column, and all 78 columns cost ~3x what a typical 10-field page does. Measured and left
 * out: DuckDB's late materialisation for LIMITs above its default 50 (no gain: the fetch decompresses the same row
 * groups) and an adaptive time window ahead of the cursor (no gain: the dynamic filter already prunes row groups).
 */
export function flowsPageQuery(input: FlowsPageInput): SqlQuery {
  const desc = input.order === 'START_TIME_DESC';
  const cmp = raw(desc ? '<' : '>');
  const bound = raw(desc ? '<=' : '>=');
  const after = input.after;
  const keyset = after
    ? sql`\n  AND start_time ${bound} make_timestamp(${after.startUs})
  AND (start_time ${cmp} make_timestamp(${after.startUs}) OR (start_time = make_timestamp(${after.startUs}) AND flow_id ${cmp} ${after.flowId}))`
    : raw('');
  const dir = raw(desc ? 'DESC' : 'ASC');
  return build(
    'flows.page',
    sql`SELECT ${selectList(input.columns)}, epoch_us(start_time) AS ${raw(CURSOR_US)}
FROM ${parquetSourceSql(input.files)}
WHERE ${input.where}${keyset}
ORDER BY start_time ${dir}, flow_id ${dir}
LIMIT ${input.limit + 1}`,
  );
}
