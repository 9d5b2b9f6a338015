/**
 * The allow-list behind the aggregate enums: each dimension (src/domain/flow-dimensions.ts) and metric (aggregate-enums.ts) maps to one
 * SQL expression written here, and to the column alias the readers look for. Nothing else turns an enum into SQL.
 */
import type { FlowValue, RateMetric, TimeInterval } from '../../domain/aggregate-enums.ts';
import type { FlowDimension } from '../../domain/flow-dimensions.ts';
import { TIME_INTERVALS, isRateMetric } from '../../domain/aggregate-enums.ts';
import {
  DIMENSION_COLUMN,
  NAMED_DIMENSION_SPECS,
  dimensionName,
  isNamedDimension,
} from '../../domain/flow-dimensions.ts';
import { raw, sql, type SqlFragment } from '../sql.ts';
import { endKeySql, tagSpansSql, type TagSource } from './inventory-tag-query.ts';
import { PACKET_ADDRESS_SQL, awsServiceOfSql, networkNameOfSql } from './reference-lookup-query.ts';

/**
 * What one row of an aggregate's source stands for: a flow record (the flows table), or the records of one hour or day
 * that share every key column (`hour`: rows of the flows_hourly shape, from flows_hourly or flows_daily, see
 * flows-hourly-query.ts tieredSourceSql; a record of a partial hour is such a row of one record).
 */
export type AggregateGrain = 'record' | 'hour';

/** Where the records of an aggregate come from: a relation over the warehouse's files and a WHERE clause. */
export interface AggregateScope {
  /** A relation such as `read_parquet([...], hive_partitioning = true, hive_types = {...})`. */
  readonly source: SqlFragment;
  /** A boolean condition over the stored and partition columns (`TRUE` for everything). */
  readonly where: SqlFragment;
  /** The rows of `source`; `record` when absent. */
  readonly grain?: AggregateGrain;
  /**
   * The live reference snapshots the named dimensions (SRC_NETWORK, DST_AWS_SERVICE...) look names up in (absolute
   * paths; null: no snapshot of that kind is loaded). Required when an aggregate groups by a named dimension.
   */
  readonly names?: DimensionNames;
}

/** The snapshots named dimensions read: AWS's ip-ranges, your own networks, and the inventory with the tag key. */
export interface DimensionNames {
  readonly ipRanges: string | null;
  readonly networks: string | null;
  /** The live inventory snapshots as the tenant may read them, and the tag key INSTANCE_TAG groups by. */
  readonly tag?: TagSource & { readonly key: string };
}

// Byte and packet sums stay HUGEINT (DuckDB's sum of BIGINT): each record holds at most 2^53 - 1 (the line parser's
// bound), so a thousand records of one exchange can pass BIGINT, and an answer must not fail on valid records. The
// BigInt scalar and the CSV/JSON datasets carry any integer exactly; Parquet downloads cast back to BIGINT
// (dataset-copy-query.ts), which fails loudly in that case rather than wrap. Counts of records stay BIGINT.
// Averages divide by the records carrying the count (NODATA/SKIPDATA carry none) and are DOUBLE; extremes are one
// record's BIGINT. Rates are not one aggregate over rows (aggregate-values-query.ts builds them).
const VALUE_SQL: Readonly<Record<Exclude<FlowValue, RateMetric>, string>> = {
  RECORDS: 'count(*)',
  BYTES: 'coalesce(sum(bytes), 0)',
  PACKETS: 'coalesce(sum(packets), 0)',
  ACCEPTED_RECORDS: "count(*) FILTER (WHERE action = 'ACCEPT')",
  REJECTED_RECORDS: "count(*) FILTER (WHERE action = 'REJECT')",
  NODATA_RECORDS: "count(*) FILTER (WHERE log_status = 'NODATA')",
  SKIPDATA_RECORDS: "count(*) FILTER (WHERE log_status = 'SKIPDATA')",
  DISTINCT_SRC_ADDRS: 'count(DISTINCT srcaddr)',
  DISTINCT_DST_ADDRS: 'count(DISTINCT dstaddr)',
  DISTINCT_INTERFACES: 'count(DISTINCT interface_id)',
  DISTINCT_DST_PORTS: 'count(DISTINCT dstport)',
  AVG_BYTES: 'CAST(sum(bytes) AS DOUBLE) / count(bytes)',
  MIN_BYTES: 'min(bytes)',
  MAX_BYTES: 'max(bytes)',
  AVG_PACKETS: 'CAST(sum(packets) AS DOUBLE) / count(packets)',
  MIN_PACKETS: 'min(packets)',
  MAX_PACKETS: 'max(packets)',
  FIRST_SEEN: 'min(start_time)',
  LAST_SEEN: 'max(coalesce(end_time, start_time))',
};

// The same values over hourly rows: counts become sums of `records`; bytes and packets are already sums, distinct
// counts read key columns the hourly table keeps, and the time bounds come from each row's own bounds. An average
// divides the summed counts by the records of the rows that have them (exact as long as an hourly row does not sum
// records with and without a byte count: one interface, one format). Extremes are absent: a row lost its records'.
const HOURLY_VALUE_SQL: Readonly<Partial<Record<FlowValue, string>>> = {
  ...VALUE_SQL,
  MIN_BYTES: undefined,
  MAX_BYTES: undefined,
  MIN_PACKETS: undefined,
  MAX_PACKETS: undefined,
  AVG_BYTES: 'CAST(sum(bytes) AS DOUBLE) / sum(records) FILTER (WHERE bytes IS NOT NULL)',
  AVG_PACKETS: 'CAST(sum(packets) AS DOUBLE) / sum(records) FILTER (WHERE packets IS NOT NULL)',
  RECORDS: 'CAST(coalesce(sum(records), 0) AS BIGINT)',
  ACCEPTED_RECORDS: "CAST(coalesce(sum(records) FILTER (WHERE action = 'ACCEPT'), 0) AS BIGINT)",
  REJECTED_RECORDS: "CAST(coalesce(sum(records) FILTER (WHERE action = 'REJECT'), 0) AS BIGINT)",
  NODATA_RECORDS: "CAST(coalesce(sum(records) FILTER (WHERE log_status = 'NODATA'), 0) AS BIGINT)",
  SKIPDATA_RECORDS: "CAST(coalesce(sum(records) FILTER (WHERE log_status = 'SKIPDATA'), 0) AS BIGINT)",
  FIRST_SEEN: 'min(first_seen)',
  LAST_SEEN: 'max(last_seen)',
};

/** The aggregate expression of a value over rows of `grain` (not a rate, not an extreme over hourly rows). */
export function valueSql(v: FlowValue, grain: AggregateGrain = 'record'): string {
  const expression = isRateMetric(v) ? undefined : (grain === 'hour' ? HOURLY_VALUE_SQL : VALUE_SQL)[v];
  // hourlyGrainAnswers routes extremes to the records and the rate builder computes rates: reaching here is a bug.
  if (expression === undefined) throw new Error(`aggregate value ${v} has no single expression over ${grain} rows`);
  return expression;
}

/** Records logged normally (`log_status` OK; not a FlowValue, only interface status shows it), over rows of `grain`. */
export function okRecordsSql(grain: AggregateGrain = 'record'): string {
  return grain === 'hour'
    ? "CAST(coalesce(sum(records) FILTER (WHERE log_status = 'OK'), 0) AS BIGINT)"
    : "count(*) FILTER (WHERE log_status = 'OK')";
}

// Dates leave SQL as YYYY-MM-DD text: a key is shown, never computed with.
const DIMENSION_SQL: Partial<Record<FlowDimension, string>> = { DATE: 'CAST(date AS VARCHAR)' };

/**
 * The SQL expression of a dimension over `scope`'s rows: its column (or a conversion of it), or for a named dimension
 * the lookup of the packet address in the scope's snapshot (the record's own pkt-*-aws-service first, as every AWS
 * service rule; NULL when no snapshot of the kind is loaded). Only column names and bound paths: no input.
 */
export function dimensionExpression(d: FlowDimension, scope: Pick<AggregateScope, 'names'>): SqlFragment {
  if (!isNamedDimension(d)) return raw(DIMENSION_SQL[d] ?? DIMENSION_COLUMN[d]);
  const names = scope.names;
  // aggregateScope loads the snapshots its grouping needs; a scope without them is a caller's bug, not "no names".
  if (!names) throw new Error(`aggregate grouped by ${d} without its reference snapshots (AggregateScope.names)`);
  const { side, reference } = NAMED_DIMENSION_SPECS[d];
  if (side === 'logging') return loggingEndTagSql(d, names);
  const address = PACKET_ADDRESS_SQL[side];
  if (reference === 'networks')
    return names.networks ? networkNameOfSql(address, names.networks) : raw('NULL::VARCHAR');
  const logged = raw(`pkt_${side}_aws_service`);
  return names.ipRanges ? sql`coalesce(${logged}, ${awsServiceOfSql(address, names.ipRanges)})` : logged;
}

/**
 * The tag value of the end that logged the record (its instance, else its interface) at the record's start, as the
 * `tag` filter reads it on flow records: one span at most holds (spans of one end never overlap). NULL without an
 * inventory snapshot.
 */
function loggingEndTagSql(d: FlowDimension, names: DimensionNames): SqlFragment {
  const tag = names.tag;
  if (!tag) throw new Error(`aggregate grouped by ${d} without its tag key (AggregateScope.names.tag)`);
  if (tag.snapshots.length === 0) return raw('NULL::VARCHAR');
  const spans = tagSpansSql(tag, { tagKey: tag.key });
  const end = raw(endKeySql('instance_id', 'interface_id'));
  return sql`(SELECT first(s.tag_value) FROM ${spans} s
   WHERE s.tag_end = ${end} AND start_time >= s.tag_from AND start_time < s.tag_to)`;
}

/** Result column alias of a dimension: `k_srcaddr`, `k_src_network`. */
export function dimensionAlias(d: FlowDimension): string {
  return `k_${dimensionName(d)}`;
}

/** Result column alias of a metric or bound: `m_bytes`, `m_first_seen`. */
export function valueAlias(v: FlowValue): string {
  return `m_${v.toLowerCase()}`;
}

/** `srcaddr AS k_srcaddr` (a select-list mapper for `scope`'s rows). */
export function dimensionSelect(scope: Pick<AggregateScope, 'names'>): (d: FlowDimension) => SqlFragment {
  return (d) => sql`${dimensionExpression(d, scope)} AS ${raw(dimensionAlias(d))}`;
}

/** `count(*) AS m_records` (or `sum(records)` over hourly rows): a select-list mapper for `scope`'s rows. */
export function valueSelect(scope: AggregateScope): (v: FlowValue) => SqlFragment {
  return (v) => raw(`${valueSql(v, scope.grain)} AS ${valueAlias(v)}`);
}

/** `time_bucket(INTERVAL '3600 seconds', start_time)`: epoch-aligned UTC buckets (every width divides a day). */
export function bucketExpression(interval: TimeInterval): SqlFragment {
  return raw(`time_bucket(INTERVAL '${TIME_INTERVALS[interval]} seconds', start_time)`);
}

/** Values in a stable order without duplicates, so equal requests build identical SQL. */
export function uniqueValues<T extends string>(values: readonly T[], order: readonly T[]): T[] {
  const wanted = new Set(values);
  return order.filter((v) => wanted.has(v));
}
