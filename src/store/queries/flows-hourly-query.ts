/**
 * `flows_hourly/`: the flows table summed per UTC hour over every column an aggregate can filter or group on, except
 * the source port and the TCP flags. Derived at ingest with the connection tables (derive-tables.ts).
 *
 * Why these columns: flow records rarely repeat a 5-tuple within an hour, but one side of every record is an
 * ephemeral port. Dropping `srcport` and `tcp_flags` and cutting time to the hour leaves about a quarter of the rows
 * (measured on the 10M generator day: 1.19M rows for 5.0M records; 2.6M with both ports and flags kept), so one-day
 * aggregates read a quarter as much. Keeping `dstport` keeps "rejected by port" and destination-port filters exact.
 *
 * The table answers a flow aggregate exactly when it is "coarse enough" (hourlyGrainAnswers): the window starts and
 * ends on whole hours, no filter reads the source port, either-side ports or TCP flags, no grouping uses the source
 * port, and time buckets are whole hours. Its columns keep the flows names (`start_time` is the hour), so the same
 * WHERE fragment (flowFilterSql) selects the same records from either table; only the metric expressions differ
 * (aggregate-expressions.ts).
 */
import { DIMENSION_COLUMN, TIME_INTERVALS, type FlowDimension, type TimeInterval } from '../../domain/aggregate-enums.ts';
import type { FlowFilter } from '../../domain/flow-filter.ts';
import { PARTITION_COLUMNS } from '../../domain/flow-schema.ts';
import { parquetSourceSql } from './parquet-source-query.ts';
import { raw, sql, type SqlFragment } from '../sql.ts';

const HOUR_MS = 3_600_000;
const partitionColumns = new Set<string>(PARTITION_COLUMNS.map((c) => c.column));

/** The grouping columns besides the hour: every dimension's column but the source port and the partition columns. */
export const HOURLY_KEY_COLUMNS: readonly string[] = [
  ...new Set(Object.values(DIMENSION_COLUMN).filter((c) => c !== 'srcport' && !partitionColumns.has(c))),
];

/** The summed columns, as the aggregate expressions of the hour grain read them. */
export const HOURLY_MEASURES = ['records', 'packets', 'bytes', 'first_seen', 'last_seen'] as const;

/**
 * The rows of `flows_hourly` for one UTC day, from the flows files of `files` (read with their hive columns).
 * Sorted by hour, so the Parquet row groups of a day carry narrow start_time statistics for windows shorter than it.
 */
export function hourlyRollupFromFlowsSql(files: readonly string[], day: string): SqlFragment {
  const keys = HOURLY_KEY_COLUMNS.join(', ');
  return sql`SELECT hour AS start_time, ${raw(keys)},
  count(*) AS records,
  CAST(sum(packets) AS BIGINT) AS packets,
  CAST(sum(bytes) AS BIGINT) AS bytes,
  min(start_time) AS first_seen,
  max(coalesce(end_time, start_time)) AS last_seen
FROM (SELECT *, time_bucket(INTERVAL '1 hour', start_time) AS hour FROM ${parquetSourceSql(files)} WHERE date = ${day}::DATE)
GROUP BY hour, ${raw(keys)}
ORDER BY hour`;
}

/** `read_parquet(...)` over `flows_hourly` files (never empty: an empty range reads the flows relation instead). */
export function hourlySourceSql(files: readonly string[]): SqlFragment {
  if (files.length === 0) throw new Error('flows_hourly: no files to read');
  return parquetSourceSql(files);
}

/** What an aggregate groups by, besides what its filter selects. */
export interface AggregateNeeds {
  readonly dimensions?: readonly FlowDimension[];
  /** Width of the time buckets of a time series. */
  readonly interval?: TimeInterval;
}

/**
 * Whether each filter field can be applied to hourly rows. Typed over every field of FlowFilter, so a new filter
 * field does not compile until someone decides whether the hourly table keeps what it reads.
 */
const FILTER_FIELD_IS_HOURLY: Readonly<Record<keyof FlowFilter, boolean>> = {
  timeRange: true, // when it is cut at whole hours, checked separately
  accountIds: true,
  regions: true,
  vpcIds: true,
  subnetIds: true,
  instanceIds: true,
  interfaceIds: true,
  srcAddr: true,
  dstAddr: true,
  addr: true,
  notSrcAddr: true,
  notDstAddr: true,
  notAddr: true,
  srcPort: false,
  dstPort: true,
  port: false, // either side: reads srcport
  notSrcPort: false,
  notDstPort: true,
  notPorts: false,
  protocols: true,
  notProtocols: true,
  actions: true,
  logStatuses: true,
  tcpFlags: false,
  flowDirections: true,
  trafficPaths: true,
  pktSrcAwsServices: true,
  pktDstAwsServices: true,
  scopeAccountIds: true,
};

const wholeHour = (d: Date): boolean => d.getTime() % HOUR_MS === 0;

/** True when `flows_hourly` gives exactly the answer the flows table gives for this filter and grouping. */
export function hourlyGrainAnswers(filter: FlowFilter, needs: AggregateNeeds): boolean {
  if (!wholeHour(filter.timeRange.from) || !wholeHour(filter.timeRange.to)) return false;
  for (const [field, hourly] of Object.entries(FILTER_FIELD_IS_HOURLY)) {
    if (!hourly && filter[field as keyof FlowFilter] != null) return false;
  }
  if (needs.dimensions?.some((d) => d === 'SRC_PORT')) return false;
  if (needs.interval !== undefined && (TIME_INTERVALS[needs.interval] * 1000) % HOUR_MS !== 0) return false;
  return true;
}
