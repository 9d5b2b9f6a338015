/**
 * The vocabulary of flow aggregates: the dimensions a client may group by, the metrics it may ask for or sort by, and
 * the time-series intervals. Clients only ever name these enum values; the SQL expression behind each one lives in an
 * allow-list in src/store/queries/aggregate-expressions.ts, so no request text reaches SQL.
 */
import type { FilterColumn } from './filter-fields.ts';
import { tagKey as checkTagKey } from './filter-values.ts';
import { InputError } from './input-error.ts';

/** Dimensions that are one stored or partition column each. */
export const COLUMN_DIMENSIONS = [
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
export type ColumnDimension = (typeof COLUMN_DIMENSIONS)[number];

/**
 * Dimensions that name an end of the record by a reference table (docs/reference-tables.md), looked up at query time
 * in the live snapshots: your own network, or the AWS service, of the record's packet-level source or destination;
 * the value of a tag key (the request's `tagKey`) of the instance, else interface, that logged the record.
 */
export const NAMED_DIMENSIONS = [
  'SRC_NETWORK',
  'DST_NETWORK',
  'SRC_AWS_SERVICE',
  'DST_AWS_SERVICE',
  'INSTANCE_TAG',
] as const;
export type NamedDimension = (typeof NAMED_DIMENSIONS)[number];

/** Dimensions flows can be grouped by: the columns, then the names looked up for them. */
export const FLOW_DIMENSIONS = [...COLUMN_DIMENSIONS, ...NAMED_DIMENSIONS] as const;
export type FlowDimension = (typeof FLOW_DIMENSIONS)[number];

/** The column behind each column dimension (stored or partition column). */
export const DIMENSION_COLUMN: Readonly<Record<ColumnDimension, string>> = {
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

/** One named dimension: which end, which reference table, and how results and GraphQL call its key. */
export interface NamedDimensionSpec {
  /**
   * The end: the record's packet-level source (`pkt-srcaddr`, else `srcaddr`) or destination, or the end that logged
   * it (its instance, else its interface, at its start: the `tag` filter's end on flow records).
   */
  readonly side: 'src' | 'dst' | 'logging';
  /**
   * `networks`: the name of your own network holding the address; `ip_ranges`: its AWS service; `inventory`: the
   * value of the request's tag key.
   */
  readonly reference: 'networks' | 'ip_ranges' | 'inventory';
  /** The key's name in results (`k_<name>` in SQL, the column of a dataset): as the flows dataset names it. */
  readonly name: string;
  /** The FlowGroupKey field, as GraphQL's Flow names the same value. */
  readonly graphql: string;
  /** Every flows column the key reads (the planner answers from a tier that keeps them all). */
  readonly columns: readonly FilterColumn[];
  readonly description: string;
}

const NETWORK_DOC = (end: string) =>
  `Your own network (\`flowql networks import\`, longest prefix) holding the ${end} packet address ` +
  '(pkt-*addr, else *addr: the address the `networks` filter tests); null for an address in none, and for every ' +
  'record when no networks snapshot is loaded.';
const AWS_DOC = (end: string, field: string) =>
  `AWS service of the ${end}: the record's own ${field} (v5) when present, else the service AWS's published ` +
  "ip-ranges name for the packet address (longest prefix; a service beats AMAZON): Flow's awsService rule and the " +
  "`awsServices` filter's. Null when neither names one.";

/** The named dimensions, defined once for the SQL builder, the planner, GraphQL and dataset URLs. */
export const NAMED_DIMENSION_SPECS: Readonly<Record<NamedDimension, NamedDimensionSpec>> = {
  SRC_NETWORK: {
    side: 'src',
    reference: 'networks',
    name: 'src_network',
    graphql: 'srcNetwork',
    columns: ['pkt_srcaddr', 'srcaddr'],
    description: NETWORK_DOC('source'),
  },
  DST_NETWORK: {
    side: 'dst',
    reference: 'networks',
    name: 'dst_network',
    graphql: 'dstNetwork',
    columns: ['pkt_dstaddr', 'dstaddr'],
    description: NETWORK_DOC('destination'),
  },
  SRC_AWS_SERVICE: {
    side: 'src',
    reference: 'ip_ranges',
    name: 'src_aws_service',
    graphql: 'srcAwsService',
    columns: ['pkt_src_aws_service', 'pkt_srcaddr', 'srcaddr'],
    description: AWS_DOC('source', 'pkt-src-aws-service'),
  },
  DST_AWS_SERVICE: {
    side: 'dst',
    reference: 'ip_ranges',
    name: 'dst_aws_service',
    graphql: 'dstAwsService',
    columns: ['pkt_dst_aws_service', 'pkt_dstaddr', 'dstaddr'],
    description: AWS_DOC('destination', 'pkt-dst-aws-service'),
  },
  INSTANCE_TAG: {
    side: 'logging',
    reference: 'inventory',
    name: 'instance_tag',
    graphql: 'instanceTag',
    columns: ['instance_id', 'interface_id', 'start_time'],
    description:
      'The value of the tag `tagKey` (required with this key) of the end that logged the record, as the inventory ' +
      "(`flowql inventory import`) tags it at the record's start: its instance's tags, else its interface's (the " +
      "`tag` filter's rule on flow records). Null for an end without the tag; a key sees its own accounts' tags only.",
  },
};

/** Whether `d` is looked up in a reference table. */
export function isNamedDimension(d: FlowDimension): d is NamedDimension {
  return (NAMED_DIMENSIONS as readonly string[]).includes(d);
}

/** The key's name in results (`srcaddr`, `src_network`): `k_<name>` in SQL, the column of a dataset. */
export function dimensionName(d: FlowDimension): string {
  return isNamedDimension(d) ? NAMED_DIMENSION_SPECS[d].name : DIMENSION_COLUMN[d];
}

/** Every flows column a dimension reads. */
export function dimensionColumns(d: FlowDimension): readonly string[] {
  return isNamedDimension(d) ? NAMED_DIMENSION_SPECS[d].columns : [DIMENSION_COLUMN[d]];
}

/** The reference tables the dimensions look names up in, each once. */
export function dimensionReferences(dims: readonly FlowDimension[]): NamedDimensionSpec['reference'][] {
  return [...new Set(dims.filter(isNamedDimension).map((d) => NAMED_DIMENSION_SPECS[d].reference))];
}

/**
 * The tag key of a grouping: required when it groups by INSTANCE_TAG, refused otherwise (it would be ignored), each
 * an InputError naming `argument` (`tagKey`, or a URL parameter). Null when not grouped by a tag.
 */
export function groupTagKey(dims: readonly FlowDimension[], tagKey: unknown, argument = 'tagKey'): string | null {
  const given = tagKey !== undefined && tagKey !== null;
  if (!dims.includes('INSTANCE_TAG')) {
    if (given)
      throw new InputError(argument, `no ${argument} without INSTANCE_TAG (it names the tag that key groups by)`);
    return null;
  }
  if (!given) throw new InputError(argument, 'a tag key with INSTANCE_TAG (such as "app")');
  return checkTagKey(tagKey, argument);
}

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
 *
 * - `AVG_`, `MIN_`, `MAX_` BYTES/PACKETS are per flow record, over the records that carry the count (NODATA and
 *   SKIPDATA records carry none; null when no record does). An average is a Float (sum / records); a minimum or
 *   maximum is one record's count, a whole number (BigInt). Hourly rows answer averages (their sums and record
 *   counts), not extremes (a row is a sum of records), so MIN_/MAX_ read the records.
 * - `DISTINCT_DST_PORTS`: destination ports (fan-out: a source reaching many ports ranks high by it).
 * - Rates (RATE_METRICS), bits (bytes x 8) or packets per second: the window is cut into epoch-aligned buckets of the
 *   rate interval (`rateInterval`, FIVE_MINUTES by default); each bucket's sum is divided by the bucket's width in
 *   seconds, and every bucket overlapping the window counts, those without traffic as 0 (a bucket cut by the window's
 *   edge holds only the window's records but is still divided by its full width). `PEAK_` is the largest bucket
 *   rate; `P95_` the 95th percentile by nearest rank: of the N bucket rates sorted ascending, the one at rank
 *   ceil(0.95 N) (so with fewer than N - ceil(0.95 N) + 1 buckets with traffic it is 0). Floats.
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
  'DISTINCT_DST_PORTS',
  'AVG_BYTES',
  'MIN_BYTES',
  'MAX_BYTES',
  'AVG_PACKETS',
  'MIN_PACKETS',
  'MAX_PACKETS',
  'PEAK_BITS_PER_SECOND',
  'P95_BITS_PER_SECOND',
  'PEAK_PACKETS_PER_SECOND',
  'P95_PACKETS_PER_SECOND',
] as const;
export type FlowMetric = (typeof FLOW_METRICS)[number];

/**
 * Metrics that add up across groups (a time series can be ranked by their sum over its buckets): the counts and
 * sums. Distinct counts (groups overlap), averages, extremes and rates do not.
 */
export const ADDITIVE_METRICS: ReadonlySet<FlowMetric> = new Set<FlowMetric>([
  'RECORDS',
  'BYTES',
  'PACKETS',
  'ACCEPTED_RECORDS',
  'REJECTED_RECORDS',
  'NODATA_RECORDS',
  'SKIPDATA_RECORDS',
]);

/** Rates over the buckets of a window (see FLOW_METRICS): a summary, top-N or breakdown computes them, not a series. */
export const RATE_METRICS = [
  'PEAK_BITS_PER_SECOND',
  'P95_BITS_PER_SECOND',
  'PEAK_PACKETS_PER_SECOND',
  'P95_PACKETS_PER_SECOND',
] as const;
export type RateMetric = (typeof RATE_METRICS)[number];

/** Whether `v` is a rate over the window's buckets. */
export function isRateMetric(v: FlowValue): v is RateMetric {
  return (RATE_METRICS as readonly string[]).includes(v);
}

/** Metrics only the flow records answer: one record's count, which an hourly row (a sum of records) has lost. */
export const PER_RECORD_EXTREMES: ReadonlySet<FlowValue> = new Set<FlowValue>([
  'MIN_BYTES',
  'MAX_BYTES',
  'MIN_PACKETS',
  'MAX_PACKETS',
]);

/** Metrics whose values are not whole numbers (GraphQL Float, DOUBLE in datasets): averages and rates. */
export const FLOAT_METRICS: ReadonlySet<FlowValue> = new Set<FlowValue>(['AVG_BYTES', 'AVG_PACKETS', ...RATE_METRICS]);

/** A time series' `rankBy` (GraphQL argument or dataset parameter `argument`): an additive metric, else InputError. */
export function checkRankBy(argument: string, metric: FlowMetric): FlowMetric {
  if (!ADDITIVE_METRICS.has(metric)) {
    throw new InputError(argument, `a metric that adds up over buckets: ${[...ADDITIVE_METRICS].join(', ')}`, metric);
  }
  return metric;
}

/**
 * The values of a time series' buckets (dataset parameter `argument`): no rate metric, whose buckets are the series'
 * own (a bucket's rate is its BYTES x 8 / interval).
 */
export function checkSeriesValues<T extends FlowValue>(argument: string, values: readonly T[]): readonly T[] {
  values.forEach((v, i) => {
    if (isRateMetric(v)) {
      throw new InputError(
        `${argument}[${i}]`,
        `a value of a time bucket, not a rate over the window's buckets (${RATE_METRICS.join(', ')}: summary, top-N and breakdown; a bucket's own rate is bytes x 8 / interval)`,
        v,
      );
    }
  });
  return values;
}

/** Bounds of the records in a group: not sortable metrics, but selectable next to them. */
export const FLOW_BOUNDS = ['FIRST_SEEN', 'LAST_SEEN'] as const;
export type FlowBound = (typeof FLOW_BOUNDS)[number];

/** Anything an aggregate row can carry besides its key. */
export type FlowValue = FlowMetric | FlowBound;

/** Every value, in the order results list them (metrics, then bounds). */
export const FLOW_VALUES: readonly FlowValue[] = [...FLOW_METRICS, ...FLOW_BOUNDS];

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
  /** Buckets a time series may span (time range / interval), and rate buckets a window may hold. */
  maxBuckets: 10_000,
  /** Bounds of one `having`. */
  maxHaving: 8,
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

/** The epoch-aligned buckets of `interval` that overlap the window `[from, to)`: what a rate metric ranks over. */
export function rateBucketCount(range: { from: Date; to: Date }, interval: TimeInterval): number {
  const width = TIME_INTERVALS[interval] * 1000;
  return Math.floor((range.to.getTime() - 1) / width) - Math.floor(range.from.getTime() / width) + 1;
}

/** The rate buckets of a window (rateBucketCount), refused past AGGREGATE_LIMITS.maxBuckets naming `argument`. */
export function checkRateBuckets(argument: string, range: { from: Date; to: Date }, interval: TimeInterval): number {
  const buckets = rateBucketCount(range, interval);
  if (buckets > AGGREGATE_LIMITS.maxBuckets) {
    const fits = (Object.keys(TIME_INTERVALS) as TimeInterval[]).find(
      (i) => rateBucketCount(range, i) <= AGGREGATE_LIMITS.maxBuckets,
    );
    throw new InputError(
      argument,
      `at most ${AGGREGATE_LIMITS.maxBuckets} rate buckets over the time range (${interval} gives ${buckets}; use ${fits ?? 'DAY'} or a shorter range)`,
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
