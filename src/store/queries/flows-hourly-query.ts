/**
 * `flows_hourly/`: the flows table summed per UTC hour over every column an aggregate can filter or group on, except
 * the source port and the TCP flags. Derived at ingest with the connection tables (derive-tables.ts).
 *
 * Why these columns: flow records rarely repeat a 5-tuple within an hour, but one side of every record is an
 * ephemeral port. Dropping `srcport` and `tcp_flags` and cutting time to the hour leaves about a quarter of the rows
 * (measured on the 10M generator day: 1.19M rows for 5.0M records; 2.6M with both ports and flags kept), so one-day
 * aggregates read a quarter as much. Keeping `dstport` keeps "rejected by port" and destination-port filters exact.
 *
 * The table answers a flow aggregate exactly when it is "coarse enough" (hourlyGrainAnswers): no filter reads a
 * column it does not keep (the source port, TCP flags, a single record's bytes, packets or duration), no grouping
 * uses the source port, and time buckets are whole hours.
 * A window cut inside an hour reads the records of its partial hours beside the hourly rows of its whole hours. The
 * columns keep the flows names (`start_time` is the hour), so the same WHERE fragment (flowFilterSql) selects the
 * same records from either table; only the metric expressions differ (aggregate-expressions.ts).
 */
import {
  PER_RECORD_EXTREMES,
  TIME_INTERVALS,
  isRateMetric,
  type FlowValue,
  type TimeInterval,
} from '../../domain/aggregate-enums.ts';
import { DIMENSION_COLUMN, dimensionColumns, type FlowDimension } from '../../domain/flow-dimensions.ts';
import { FILTER_FIELD_NAMES, filterColumns, type FilterField } from '../../domain/filter-fields.ts';
import type { FlowFilter, TimeRange } from '../../domain/flow-filter.ts';
import { PARTITION_COLUMNS, STORED_COLUMNS } from '../../domain/flow-schema.ts';
import { parquetSourceSql } from './parquet-source-query.ts';
import { join, raw, sql, type SqlFragment } from '../sql.ts';

const HOUR_MS = 3_600_000;
const partitionColumns = new Set<string>(PARTITION_COLUMNS.map((c) => c.column));

/** The grouping columns besides the hour: every dimension's column but the source port and the partition columns. */
export const HOURLY_KEY_COLUMNS: readonly string[] = [
  ...new Set(Object.values(DIMENSION_COLUMN).filter((c) => c !== 'srcport' && !partitionColumns.has(c))),
];

/** The summed columns, as the aggregate expressions of the hour grain read them. */
export const HOURLY_MEASURES = ['records', 'packets', 'bytes', 'first_seen', 'last_seen'] as const;

const storedType = (column: string): string => {
  const c = STORED_COLUMNS.find((s) => s.column === column);
  if (!c) throw new Error(`flows_hourly: ${column} is not a stored flows column`);
  return c.type;
};

/** The columns of a flows_hourly file, in file order, with their DuckDB types (for the Athena DDL). */
export const HOURLY_STORED_COLUMNS: readonly { column: string; type: string }[] = [
  { column: 'start_time', type: 'TIMESTAMP' },
  ...HOURLY_KEY_COLUMNS.map((column) => ({ column, type: storedType(column) })),
  { column: 'records', type: 'BIGINT' },
  { column: 'packets', type: 'BIGINT' },
  { column: 'bytes', type: 'BIGINT' },
  { column: 'first_seen', type: 'TIMESTAMP' },
  { column: 'last_seen', type: 'TIMESTAMP' },
];

/** BIGINT's largest value: a group summing past it cannot be one Parquet BIGINT row. */
const BIGINT_MAX = '9223372036854775807';

/**
 * The rows of `flows_hourly` for the records of `files` (read with their hive columns) starting in the listed hours
 * (epoch hour numbers), each led by its hour's number as `unit` (derive-tables.ts writes a file per hour). Sorted by
 * hour, so the Parquet row groups of a merged day carry narrow start_time statistics, then by every key: two
 * derivations of the same flows write the same file row for row.
 *
 * A group whose bytes or packets sum past BIGINT (each record holds at most 2^53 - 1, so it takes over a thousand
 * records of one exchange in one hour) is not summed: its records stay rows of one record each, so every byte is
 * kept in BIGINT columns and the derivation cannot fail on valid input. Readers sum rows either way.
 *
 * `additions` (an ingest that only adds records to hours already derived): the groups are the committed rows of the
 * hours summed again with the added records' sums, instead of every record of the hours summed; the same rows in the
 * same order (a group past BIGINT, its committed rows one record each, still takes its records from `files`). For
 * bench:ingest's delivery of 3 objects (11,584 records) into an hour of 93,000 (a day of 2.2M records), whose 20,600
 * committed rows it reads instead: 69-77 -> 47-53 ms (one thread), the same rows.
 */
export function hourlyRollupFromFlowsSql(
  files: readonly string[],
  hours: readonly number[],
  additions?: HourlyAdditions,
): SqlFragment {
  const keys = HOURLY_KEY_COLUMNS.join(', ');
  const sameGroup = ['hour', ...HOURLY_KEY_COLUMNS].map((k) => `o.${k} IS NOT DISTINCT FROM r.${k}`).join(' AND ');
  const [first, last] = [Math.min(...hours), Math.max(...hours)];
  const inHours = (column: string) =>
    sql`${raw(column)} >= ${new Date(first * HOUR_MS)} AND ${raw(column)} < ${new Date((last + 1) * HOUR_MS)}
    AND list_contains(${hours}, CAST(floor(epoch(${raw(column)}) / 3600) AS BIGINT))`;
  const sums = (from: SqlFragment) => sql`SELECT hour, ${raw(keys)}, count(*) AS records, sum(packets) AS packets,
         sum(bytes) AS bytes, min(start_time) AS first_seen, max(coalesce(end_time, start_time)) AS last_seen
  FROM ${from} GROUP BY hour, ${raw(keys)}`;
  // Committed rows and the added records' sums, summed again per group: sums, counts, minima and maxima add up.
  const merged = (a: HourlyAdditions) => sql`SELECT hour, ${raw(keys)}, CAST(sum(records) AS BIGINT) AS records,
         sum(packets) AS packets, sum(bytes) AS bytes, min(first_seen) AS first_seen, max(last_seen) AS last_seen
  FROM (
    SELECT start_time AS hour, ${raw(keys)}, records, packets, bytes, first_seen, last_seen
    FROM ${a.committed.length > 0 ? sql`read_parquet(${a.committed}, hive_partitioning = false)` : raw(`(SELECT ${emptyHourlyColumns()} WHERE FALSE)`)}
    WHERE ${inHours('start_time')}
    UNION ALL
    ${sums(sql`(SELECT *, time_bucket(INTERVAL '1 hour', start_time) AS hour FROM ${parquetSourceSql(a.added)} WHERE ${inHours('start_time')})`)}
  )
  GROUP BY hour, ${raw(keys)}`;
  // NOT MATERIALIZED: the records are read again for the groups past BIGINT (almost never any), which costs less than
  // holding every column of every record for them (flows_hourly's statement on a day of bench:ingest: 118 -> 95 ms).
  return sql`WITH r AS NOT MATERIALIZED (
  SELECT *, time_bucket(INTERVAL '1 hour', start_time) AS hour FROM ${parquetSourceSql(files)}
  WHERE ${inHours('start_time')}
),
g AS (
  ${additions ? merged(additions) : sums(raw('r'))}
),
over AS (SELECT * FROM g WHERE coalesce(packets > ${raw(BIGINT_MAX)} OR bytes > ${raw(BIGINT_MAX)}, FALSE))
SELECT CAST(epoch(hour) / 3600 AS BIGINT) AS unit, hour AS start_time, ${raw(keys)}, records,
       CAST(packets AS BIGINT) AS packets, CAST(bytes AS BIGINT) AS bytes, first_seen, last_seen
FROM (
  SELECT * FROM g WHERE NOT coalesce(packets > ${raw(BIGINT_MAX)} OR bytes > ${raw(BIGINT_MAX)}, FALSE)
  UNION ALL
  SELECT r.hour, ${raw(HOURLY_KEY_COLUMNS.map((k) => `r.${k}`).join(', '))}, 1, r.packets, r.bytes, r.start_time,
         coalesce(r.end_time, r.start_time)
  FROM r JOIN over AS o ON ${raw(sameGroup)}
)
ORDER BY hour, ${raw(keys)}, first_seen, last_seen, bytes, packets, records`;
}

/**
 * What an ingest that only adds records changes in an hour's rows (derive-tables.ts): the committed flows_hourly files
 * holding the hours, and the flows files holding every added record (none of the committed rows counts them).
 */
export interface HourlyAdditions {
  readonly committed: readonly string[];
  readonly added: readonly string[];
}

/** The stored columns of a flows_hourly file as an empty relation's SELECT list. */
function emptyHourlyColumns(): string {
  return HOURLY_STORED_COLUMNS.map((c) => `CAST(NULL AS ${c.type}) AS ${c.column}`).join(', ');
}

/** A time window cut at whole hours: the whole hours inside it, and the partial hours at its ends (0 to 2). */
export interface HourSplit {
  readonly wholeHours: TimeRange;
  readonly partialHours: readonly TimeRange[];
}

/** Splits a window at whole hours; null when it holds no whole hour (the records are all there is to read). */
export function splitAtWholeHours(range: TimeRange): HourSplit | null {
  const from = Math.ceil(range.from.getTime() / HOUR_MS) * HOUR_MS;
  const to = Math.floor(range.to.getTime() / HOUR_MS) * HOUR_MS;
  if (from >= to) return null;
  const partialHours: TimeRange[] = [];
  if (from > range.from.getTime()) partialHours.push({ from: range.from, to: new Date(from) });
  if (to < range.to.getTime()) partialHours.push({ from: new Date(to), to: range.to });
  return { wholeHours: { from: new Date(from), to: new Date(to) }, partialHours };
}

// Columns of an hourly row, in order; a flow record becomes one with `records` 1 and its own times as the bounds.
const HOURLY_SELECT = ['start_time', ...HOURLY_KEY_COLUMNS, ...HOURLY_MEASURES, 'account_id', 'region', 'date'].join(
  ', ',
);
const RECORD_AS_HOURLY_SELECT = [
  'start_time',
  ...HOURLY_KEY_COLUMNS,
  'CAST(1 AS BIGINT) AS records',
  'packets',
  'bytes',
  'start_time AS first_seen',
  'coalesce(end_time, start_time) AS last_seen',
  'account_id',
  'region',
  'date',
].join(', ');

/** The files of each tier an aggregate reads, and the part of the window each answers. */
export interface TierFiles {
  /** `flows_daily` files of whole days whose every flows partition has one: all their rows are in the window. */
  readonly daily: readonly string[];
  /** `flows_hourly` files of the other days; only their rows of `split.wholeHours` are read. */
  readonly hourly: readonly string[];
  /** Flow records of the partial hours at the window's ends. */
  readonly records: readonly string[];
}

/**
 * The rows of hourly shape for a window (one per key and hour or day; a record is a row of one record): `flows_daily`
 * rows for whole days that have them, `flows_hourly` rows for the other whole hours, and, when the window is cut
 * inside an hour (a dashboard's "last 24 hours"), the flow records of those partial hours. Each tier's files are
 * chosen by date (a daily or hourly file of a date holds only rows of that date), so no hour is read twice.
 */
export function tieredSourceSql(files: TierFiles, split: HourSplit): SqlFragment {
  if (files.daily.length + files.hourly.length === 0) throw new Error('flows tiers: no daily or hourly files to read');
  const { wholeHours } = split;
  const arms: SqlFragment[] = [];
  if (files.daily.length > 0) arms.push(sql`SELECT ${raw(HOURLY_SELECT)} FROM ${parquetSourceSql(files.daily)}`);
  if (files.hourly.length > 0)
    arms.push(sql`SELECT ${raw(HOURLY_SELECT)} FROM ${parquetSourceSql(files.hourly)}
  WHERE start_time >= ${wholeHours.from} AND start_time < ${wholeHours.to}`);
  if (split.partialHours.length > 0) {
    const partial = join(
      split.partialHours.map((h) => sql`(start_time >= ${h.from} AND start_time < ${h.to})`),
      ' OR ',
    );
    arms.push(sql`SELECT ${raw(RECORD_AS_HOURLY_SELECT)} FROM ${parquetSourceSql(files.records)} WHERE ${partial}`);
  }
  // Daily files alone cover whole days of the window and nothing else: read as they are.
  if (arms.length === 1 && files.daily.length > 0) return parquetSourceSql(files.daily);
  return sql`(${join(arms, '\nUNION ALL\n')})`;
}

/** What an aggregate groups by, besides what its filter selects. */
export interface AggregateNeeds {
  readonly dimensions?: readonly FlowDimension[];
  /** Width of the time buckets of a time series. */
  readonly interval?: TimeInterval;
  /** Every value computed: asked for, sorted by, or bounded by `having`. */
  readonly values?: readonly FlowValue[];
  /** Width of the rate buckets, when a value is a rate metric. */
  readonly rateInterval?: TimeInterval | undefined;
}

/** Columns an hourly row carries as they are in the records: its keys and the partition columns. */
const HOURLY_RECORD_COLUMNS: ReadonlySet<string> = new Set([...HOURLY_KEY_COLUMNS, ...partitionColumns]);

/**
 * The filter fields hourly rows can be tested on: those whose every column (FILTER_FIELDS, src/domain/filter-fields.ts)
 * the hourly table keeps. Either-side ports and the source port read `srcport`, TCP flags `tcp_flags`, thresholds a
 * single record's bytes, packets or duration: hourly rows have summed those away.
 */
const HOURLY_FILTER_FIELDS: ReadonlySet<FilterField> = new Set(
  FILTER_FIELD_NAMES.filter((f) => filterColumns(f).every((c) => HOURLY_RECORD_COLUMNS.has(c))),
);

/**
 * Why rows of hourly grain cannot give exactly the answer the flow records give for this filter and grouping, in
 * words for an error (`the filter field srcPort reads a column the rollups sum away`); null when they can. The window need
 * not be cut at whole hours: its partial hours are read as records (tieredSourceSql).
 */
export function recordsReason(filter: FlowFilter, needs: AggregateNeeds): string | null {
  // The window is not a FILTER_FIELDS entry: its partial hours are read as records.
  const field = FILTER_FIELD_NAMES.find((f) => filter[f] != null && !HOURLY_FILTER_FIELDS.has(f));
  if (field) return `the filter field ${field} reads a column the rollups sum away`;
  // A grouping reads the columns of its dimensions (a named one, the addresses it looks up): the rollups keep every
  // column but the source port, so SRC_NETWORK or DST_AWS_SERVICE is exact over them as over the records.
  const grouped = needs.dimensions?.find((d) => dimensionColumns(d).some((c) => !HOURLY_RECORD_COLUMNS.has(c)));
  if (grouped) return `it groups by ${grouped}, which the rollups do not keep`;
  if (needs.interval !== undefined && (TIME_INTERVALS[needs.interval] * 1000) % HOUR_MS !== 0)
    return `its ${needs.interval} time buckets are finer than an hour`;
  // One record's bytes or packets: an hourly row only holds their sum.
  const extreme = needs.values?.find((v) => PER_RECORD_EXTREMES.has(v));
  if (extreme) return `${extreme} is one record's value, which the rollups sum away`;
  // Rate buckets must be whole hours, as time-series buckets (the rows' start_time is their hour).
  if (needs.values?.some(isRateMetric)) {
    if (needs.rateInterval === undefined || (TIME_INTERVALS[needs.rateInterval] * 1000) % HOUR_MS !== 0)
      return `its ${needs.rateInterval ?? 'unset'} rate buckets are finer than an hour`;
  }
  return null;
}

/** True when rows of hourly grain give exactly the answer the flow records give (recordsReason is null). */
export function hourlyGrainAnswers(filter: FlowFilter, needs: AggregateNeeds): boolean {
  return recordsReason(filter, needs) === null;
}
