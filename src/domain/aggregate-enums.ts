/**
 * The vocabulary of flow aggregates: the dimensions a client may group by, the metrics it may ask for or sort by, and
 * the time-series intervals. Clients only ever name these enum values; the SQL expression behind each one lives in an
 * allow-list in src/store/queries/flow-aggregate-sql.ts, so no request text reaches SQL.
 */

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
