/**
 * The vocabulary of flow aggregates beside their dimensions (flow-dimensions.ts): the metrics a client may ask for or
 * sort by, and the time-series intervals. Clients only ever name these enum values; the SQL expression behind each one
 * lives in an allow-list in src/store/queries/aggregate-expressions.ts, so no request text reaches SQL.
 */
import { InputError } from './input-error.ts';
import type { FlowDimension } from './flow-dimensions.ts';

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
