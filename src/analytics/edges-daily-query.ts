/**
 * `edges_daily/` and `org_edges_daily/`: the rows of `edges/` (or `org_edges/`) summed per UTC day, with the same
 * columns; `bucket` is the day. Written by `flowql compact` for days whose hourly rows are final
 * (src/ingest/daily-compact.ts), retired by the commit that changes any hour of the day (derived-hours.ts
 * dailyFilesRetiredBy), like flows_daily.
 *
 * Why: an edge row is one pair's traffic in one hour, so a window of days reads every hour's rows again. On the 10M
 * bench warehouse a day of 5M records has 169,350 org_edges rows and 54,717 once summed per day (3.1x fewer): the
 * same client and server talk hour after hour. Edge questions over whole days read the daily rows
 * (connection-source.ts).
 *
 * Exactness: an edge question groups rows by the ends' ids at a level and sums; every column it groups or describes
 * by is a key here, every measure is a sum (integral values in DOUBLE columns: exact below 2^53), a min or a max,
 * and observed interfaces are a sorted distinct list, so summing per day first gives the same answer. Two things a
 * daily row cannot stand for: a window edge inside the day (the daily rows are read only for whole days of the
 * window), and the time of each hour's first record, which the TAG level and the `tag` filter look the inventory up
 * at (edgeDailyAnswers refuses those questions the daily rows).
 */
import type { FlowFilter } from '../domain/flow-filter.ts';
import { raw, sql, type SqlFragment } from '../store/sql.ts';
import { EDGE_GROUP_COLUMNS, EDGE_ROW_COLUMNS, EDGE_ROW_ORDER } from './edge-rows-query.ts';

/** How a day's row computes each column that is not a key (sums of integral values: exact in DOUBLE). */
const DAILY_SQL: Partial<Record<(typeof EDGE_ROW_COLUMNS)[number], string>> = {
  bucket: "time_bucket(INTERVAL '1 day', bucket) AS bucket",
  bytes_to_server: 'sum(bytes_to_server) AS bytes_to_server',
  bytes_to_client: 'sum(bytes_to_client) AS bytes_to_client',
  packets_to_server: 'sum(packets_to_server) AS packets_to_server',
  packets_to_client: 'sum(packets_to_client) AS packets_to_client',
  internet_bytes: 'sum(internet_bytes) AS internet_bytes',
  connections: 'sum(connections) AS connections',
  flows: 'CAST(sum(flows) AS BIGINT) AS flows',
  records: 'sum(records) AS records',
  rejected_records: 'sum(rejected_records) AS rejected_records',
  first_seen: 'min(first_seen) AS first_seen',
  last_seen: 'max(last_seen) AS last_seen',
  observed_interfaces: 'list_sort(list_distinct(flatten(list(observed_interfaces)))) AS observed_interfaces',
};

/**
 * The rows of one partition-day's daily edges file from its hourly edge files (read without hive columns, which live
 * in the path), whose columns are `stored`. Sorted as edge rows are, so two compactions of the same hourly rows write the same file row for row.
 * `flows` (client ports seen in the hour) becomes the sum over the day's hours: no question reads it as a count of
 * the day's client ports.
 */
export function edgesDailyRollupSql(hourlyFiles: readonly string[], stored: ReadonlySet<string>): SqlFragment {
  if (hourlyFiles.length === 0) throw new Error('edges daily rollup: no hourly files to sum');
  // Files derived by an older flowql lack the columns added since (the ends' accounts, VARCHAR like every end
  // column): their rows read them as NULL, as questions do (derivedScanSql reads by name).
  const missing = (c: string) => !stored.has(c);
  const keys = EDGE_GROUP_COLUMNS.filter((c) => c !== 'bucket' && !missing(c));
  // The columns in stored order (EDGE_ROW_COLUMNS), so a daily file reads like an hourly one.
  const select = EDGE_ROW_COLUMNS.map((c) => (missing(c) ? `CAST(NULL AS VARCHAR) AS ${c}` : (DAILY_SQL[c] ?? c))).join(
    ',\n       ',
  );
  return sql`SELECT ${raw(select)}
FROM read_parquet(${hourlyFiles}, hive_partitioning = false, union_by_name = true)
GROUP BY ${raw(keys.join(', '))}, time_bucket(INTERVAL '1 day', bucket)
ORDER BY ${raw(EDGE_ROW_ORDER.join(', '))}`;
}

/**
 * True when daily edge rows give an edge question's answer for its whole days: not at the TAG level, and without a
 * `tag` filter, both of which look each row's ends up in the inventory at the row's first record.
 */
export function edgeDailyAnswers(filter: FlowFilter, level: string | null): boolean {
  return level !== 'TAG' && (filter.tag === null || filter.tag === undefined);
}
