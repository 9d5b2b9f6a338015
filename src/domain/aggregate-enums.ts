/**
 * The vocabulary of flow aggregates: the dimensions a client may group by, the metrics it may ask for or sort by, and
 * the time-series intervals. Clients only ever name these enum values; the SQL expression behind each one lives in an
 * allow-list in src/store/queries/aggregate-expressions.ts, so no request text reaches SQL.
 */
import { InputError } from './input-error.ts';

/** Dimensions flows can be grouped by (one stored or partition column each). */
export const FLOW_DIMENSIONS = [
  'SRC_ADDR',
  'DST_ADDR',
  'SRC_PORT',
  'DST_PORT',
  'PROTOCOL',
  'ACTION',
  'LOG_STATUS',
  'ACCOUNT',
  'REGION',
  'DATE',
  'VPC',
  'SUBNET',
  'INSTANCE',
  'INTERFACE',
  'AZ',
  'FLOW_DIRECTION',
  'TRAFFIC_PATH',
  'TYPE',
  'PKT_SRC_ADDR',
  'PKT_DST_ADDR',
  'PKT_SRC_AWS_SERVICE',
  'PKT_DST_AWS_SERVICE',
] as const;
export type FlowDimension = (typeof FLOW_DIMENSIONS)[number];

/** The column behind each dimension (stored or partition column). */
export const DIMENSION_COLUMN: Readonly<Record<FlowDimension, string>> = {
  SRC_ADDR: 'srcaddr',
  DST_ADDR: 'dstaddr',
  SRC_PORT: 'srcport',
  DST_PORT: 'dstport',
  PROTOCOL: 'protocol',
  ACTION: 'action',
  LOG_STATUS: 'log_status',
  ACCOUNT: 'account_id',
  REGION: 'region',
  DATE: 'date',
  VPC: 'vpc_id',
  SUBNET: 'subnet_id',
  INSTANCE: 'instance_id',
  INTERFACE: 'interface_id',
  AZ: 'az_id',
  FLOW_DIRECTION: 'flow_direction',
  TRAFFIC_PATH: 'traffic_path',
  TYPE: 'type',
  PKT_SRC_ADDR: 'pkt_srcaddr',
  PKT_DST_ADDR: 'pkt_dstaddr',
  PKT_SRC_AWS_SERVICE: 'pkt_src_aws_service',
  PKT_DST_AWS_SERVICE: 'pkt_dst_aws_service',
};

/**
 * What a top-N ranks: any single dimension, or `ADDRESS_PAIR` (source and destination address together, directional:
 * A->B and B->A are two rows, as the records log them).
 */
export const TOP_N_KEYS = ['ADDRESS_PAIR', ...FLOW_DIMENSIONS] as const;
export type TopNKey = (typeof TOP_N_KEYS)[number];

/** The dimensions behind a top-N key. */
export function topNDimensions(by: TopNKey): readonly FlowDimension[] {
  return by === 'ADDRESS_PAIR' ? ['SRC_ADDR', 'DST_ADDR'] : [by];
}

/**
 * Metrics over a set of records. Sums are over records as logged at every observation point (an internal flow logged
 * at both interfaces counts twice); the connection analytics (trafficEdges) count each byte once.
 */
export const FLOW_METRICS = [
  'RECORDS',
  'BYTES',
  'PACKETS',
  'ACCEPTED_RECORDS',
  'REJECTED_RECORDS',
  'NODATA_RECORDS',
  'SKIPDATA_RECORDS',
  'DISTINCT_SRC_ADDRS',
  'DISTINCT_DST_ADDRS',
  'DISTINCT_INTERFACES',
] as const;
export type FlowMetric = (typeof FLOW_METRICS)[number];

/**
 * Metrics that add up across groups (a time series can be ranked by their sum over its buckets): every metric but
 * the distinct counts, whose groups overlap.
 */
export const ADDITIVE_METRICS: ReadonlySet<FlowMetric> = new Set(
  FLOW_METRICS.filter((m) => !m.startsWith('DISTINCT_')),
);

/** A time series' `rankBy` (GraphQL argument or dataset parameter `argument`): an additive metric, else InputError. */
export function checkRankBy(argument: string, metric: FlowMetric): FlowMetric {
  if (!ADDITIVE_METRICS.has(metric)) {
    throw new InputError(argument, `a metric that adds up over buckets: ${[...ADDITIVE_METRICS].join(', ')}`, metric);
  }
  return metric;
}

/** Bounds of the records in a group: not sortable metrics, but selectable next to them. */
export const FLOW_BOUNDS = ['FIRST_SEEN', 'LAST_SEEN'] as const;
export type FlowBound = (typeof FLOW_BOUNDS)[number];

/** Anything an aggregate row can carry besides its key. */
export type FlowValue = FlowMetric | FlowBound;

/** Time-series bucket widths, in seconds. Buckets are aligned to the Unix epoch (UTC), by record start time. */
export const TIME_INTERVALS = {
  MINUTE: 60,
  FIVE_MINUTES: 300,
  FIFTEEN_MINUTES: 900,
  HOUR: 3600,
  SIX_HOURS: 21600,
  DAY: 86400,
} as const;
export type TimeInterval = keyof typeof TIME_INTERVALS;

/** Limits shared by the API and the builders (a request beyond them is refused before any SQL runs). */
export const AGGREGATE_LIMITS = {
  /** Rows of a top-N. */
  maxTopN: 1000,
  /** Rows of a breakdown. */
  maxBreakdownRows: 10_000,
  /** Dimensions of one breakdown. */
  maxBreakdownDimensions: 4,
  /** Series of a grouped time series. */
  maxSeries: 50,
  /** Buckets a time series may span (time range / interval). */
  maxBuckets: 10_000,
} as const;

/** A whole number from `min` to `max`, or an InputError naming the argument. */
export function checkCount(argument: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InputError(argument, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** The buckets a window spans at `interval`, refused past AGGREGATE_LIMITS.maxBuckets with a coarser suggestion. */
export function checkBuckets(argument: string, range: { from: Date; to: Date }, interval: TimeInterval): number {
  const width = TIME_INTERVALS[interval] * 1000;
  const buckets = Math.ceil((range.to.getTime() - range.from.getTime()) / width);
  if (buckets > AGGREGATE_LIMITS.maxBuckets) {
    const fits = (Object.keys(TIME_INTERVALS) as TimeInterval[]).find(
      (i) =>
        Math.ceil((range.to.getTime() - range.from.getTime()) / (TIME_INTERVALS[i] * 1000)) <=
        AGGREGATE_LIMITS.maxBuckets,
    );
    throw new InputError(
      argument,
      `at most ${AGGREGATE_LIMITS.maxBuckets} buckets over the time range (${interval} gives ${buckets}; use ${fits ?? 'DAY'} or a shorter range)`,
    );
  }
  return buckets;
}

/** A breakdown's dimensions: 1 to maxBreakdownDimensions, no repeats. */
export function checkDimensions(argument: string, dims: readonly FlowDimension[]): readonly FlowDimension[] {
  const max = AGGREGATE_LIMITS.maxBreakdownDimensions;
  if (dims.length < 1 || dims.length > max) throw new InputError(argument, `1 to ${max} dimensions`, dims);
  const seen = new Set<FlowDimension>();
  dims.forEach((d, i) => {
    if (seen.has(d)) throw new InputError(`${argument}[${i}]`, 'each dimension once', d);
    seen.add(d);
  });
  return dims;
}
