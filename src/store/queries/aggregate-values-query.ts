/**
 * The per-group relation of an aggregate (`k_<dim>`... `m_<value>`...) when it holds rate metrics or `having` bounds:
 * the summary, top-N and breakdown builders read it instead of one GROUP BY. Rates (PEAK_/P95_ bits and packets per
 * second, defined in src/domain/aggregate-enums.ts) are not one aggregate over rows: the group's bytes and packets
 * are summed per rate bucket first, then ranked within the group.
 */
import {
  TIME_INTERVALS,
  isRateMetric,
  type FlowValue,
  type RateMetric,
  type TimeInterval,
} from '../../domain/aggregate-enums.ts';
import { FLOW_DIMENSIONS, type FlowDimension } from '../../domain/flow-dimensions.ts';
import type { MetricBound } from '../../domain/metric-bound.ts';
import { join, raw, sql, type SqlFragment } from '../sql.ts';
import {
  type AggregateScope,
  bucketExpression,
  dimensionAlias,
  dimensionSelect,
  valueAlias,
  valueSelect,
} from './aggregate-expressions.ts';

/** The rate buckets of a window: their width, and how many overlap the window (rateBucketCount). */
export interface RateWindow {
  readonly interval: TimeInterval;
  readonly buckets: number;
}

/**
 * Rank, from the largest, of the nearest-rank 95th percentile of `buckets` values: the value at ascending rank
 * ceil(0.95 N) is the (N - ceil(0.95 N) + 1)-th largest. The buckets without traffic are zeros at the bottom, so only
 * buckets with traffic need ranking: a group with fewer of them has a p95 of 0.
 */
export function p95RankFromTop(buckets: number): number {
  return buckets - Math.ceil((95 * buckets) / 100) + 1;
}

// Per rate metric: the bucket column it ranks (bits or packets per second) and whether it is the peak or the p95.
const RATE_OF: Readonly<Record<RateMetric, { column: 'bps' | 'pps'; peak: boolean }>> = {
  PEAK_BITS_PER_SECOND: { column: 'bps', peak: true },
  P95_BITS_PER_SECOND: { column: 'bps', peak: false },
  PEAK_PACKETS_PER_SECOND: { column: 'pps', peak: true },
  P95_PACKETS_PER_SECOND: { column: 'pps', peak: false },
};

/**
 * Plain values over records that can be computed per rate bucket and combined across a group's buckets with the same
 * result and type: `partials` are aggregates over the records of a (group, bucket), `combine` aggregates them over the
 * group's buckets (`$0`, `$1` name the partials). Counts are summed and cast back to BIGINT; sums of bytes and packets
 * stay HUGEINT; an average divides the summed sum by the summed count, as one aggregate would. Distinct counts do not
 * combine (a value seen in two buckets would count twice) and are absent. Counts and sums are 0, not null, over no
 * bucket at all (an ungrouped summary of an empty window), as over no record.
 */
const PER_BUCKET: Readonly<Partial<Record<Exclude<FlowValue, RateMetric>, { partials: string[]; combine: string }>>> = {
  RECORDS: { partials: ['count(*)'], combine: 'CAST(coalesce(sum($0), 0) AS BIGINT)' },
  BYTES: { partials: ['coalesce(sum(bytes), 0)'], combine: 'coalesce(sum($0), 0)' },
  PACKETS: { partials: ['coalesce(sum(packets), 0)'], combine: 'coalesce(sum($0), 0)' },
  ACCEPTED_RECORDS: {
    partials: ["count(*) FILTER (WHERE action = 'ACCEPT')"],
    combine: 'CAST(coalesce(sum($0), 0) AS BIGINT)',
  },
  REJECTED_RECORDS: {
    partials: ["count(*) FILTER (WHERE action = 'REJECT')"],
    combine: 'CAST(coalesce(sum($0), 0) AS BIGINT)',
  },
  NODATA_RECORDS: {
    partials: ["count(*) FILTER (WHERE log_status = 'NODATA')"],
    combine: 'CAST(coalesce(sum($0), 0) AS BIGINT)',
  },
  SKIPDATA_RECORDS: {
    partials: ["count(*) FILTER (WHERE log_status = 'SKIPDATA')"],
    combine: 'CAST(coalesce(sum($0), 0) AS BIGINT)',
  },
  AVG_BYTES: { partials: ['sum(bytes)', 'count(bytes)'], combine: 'CAST(sum($0) AS DOUBLE) / sum($1)' },
  MIN_BYTES: { partials: ['min(bytes)'], combine: 'min($0)' },
  MAX_BYTES: { partials: ['max(bytes)'], combine: 'max($0)' },
  AVG_PACKETS: { partials: ['sum(packets)', 'count(packets)'], combine: 'CAST(sum($0) AS DOUBLE) / sum($1)' },
  MIN_PACKETS: { partials: ['min(packets)'], combine: 'min($0)' },
  MAX_PACKETS: { partials: ['max(packets)'], combine: 'max($0)' },
  FIRST_SEEN: { partials: ['min(start_time)'], combine: 'min($0)' },
  LAST_SEEN: { partials: ['max(coalesce(end_time, start_time))'], combine: 'max($0)' },
};

/** What to compute per group. */
export interface AggregateValuesRequest {
  readonly dimensions: readonly FlowDimension[];
  /** Values in output order; rate metrics need `rate`. */
  readonly values: readonly FlowValue[];
  /** Conditions besides the scope's WHERE (a top-N's non-null keys); given, the scope's WHERE is parenthesised. */
  readonly where?: readonly SqlFragment[];
  readonly rate?: RateWindow | undefined;
}

/** `SELECT k_..., m_... FROM <scope> WHERE ... [GROUP BY k_...]`, with rate metrics joined in per group. */
export function aggregateValuesSql(scope: AggregateScope, req: AggregateValuesRequest): SqlFragment {
  const dims = FLOW_DIMENSIONS.filter((d) => req.dimensions.includes(d)).sort(
    (a, b) => req.dimensions.indexOf(a) - req.dimensions.indexOf(b),
  );
  const where = req.where ? join([sql`(${scope.where})`, ...req.where], ' AND ') : scope.where;
  const keys = dims.map(dimensionAlias);
  const groupBy = keys.length ? raw(` GROUP BY ${keys.join(', ')}`) : raw('');
  const plain = req.values.filter((v) => !isRateMetric(v));
  const rates = req.values.filter(isRateMetric);
  if (rates.length === 0) {
    const select = join([...dims.map(dimensionSelect(scope)), ...plain.map(valueSelect(scope))], ', ');
    return sql`SELECT ${select} FROM ${scope.source} WHERE ${where}${groupBy}`;
  }
  if (!req.rate) throw new Error(`rate metrics ${rates.join(', ')} need a rate window`);
  const seconds = TIME_INTERVALS[req.rate.interval];
  // Only the rate columns asked for are computed per bucket.
  const columns = [...new Set(rates.map((m) => RATE_OF[m].column))];
  const rateColumnSql: Record<'bps' | 'pps', string> = {
    bps: `CAST(coalesce(sum(bytes), 0) AS DOUBLE) * 8 / ${seconds} AS bps`,
    pps: `CAST(coalesce(sum(packets), 0) AS DOUBLE) / ${seconds} AS pps`,
  };
  const bucketKeys = join(
    [...dims.map(dimensionSelect(scope)), sql`${bucketExpression(req.rate.interval)} AS rate_bucket`],
    ', ',
  );
  const perBucket = sql`SELECT ${bucketKeys}, ${raw(columns.map((c) => rateColumnSql[c]).join(', '))} FROM ${scope.source} WHERE ${where} GROUP BY ALL`;
  const rank = p95RankFromTop(req.rate.buckets);
  // Per group, one aggregate over its buckets: the peak is the largest; the p95 the rank-th largest when the group
  // has that many buckets with traffic (list_sort of its buckets: measured faster than a window's row_number).
  const rateSelect = rates.map((m) => {
    const { column, peak } = RATE_OF[m];
    return peak
      ? `coalesce(max(${column}), 0) AS ${valueAlias(m)}`
      : `CASE WHEN count(*) >= ${rank} THEN list_sort(list(${column}), 'DESC')[${rank}] ELSE 0 END AS ${valueAlias(m)}`;
  });
  const r = raw(
    `SELECT ${[...keys, ...rateSelect].join(', ')} FROM b${keys.length ? ` GROUP BY ${keys.join(', ')}` : ''}`,
  );
  // Without plain values, the groups are those of the buckets (a group with a record has a bucket): one scan.
  if (plain.length === 0) {
    const out = [...keys, ...req.values.map(valueAlias)].join(', ');
    return sql`WITH b AS (${perBucket}), r AS (${r}) SELECT ${raw(out)} FROM r`;
  }
  // Plain values over records that combine across buckets (PER_BUCKET) ride along in the bucket rows: one scan of the
  // records instead of two (a rate over 5-minute buckets reads a whole day's records, the costly part of the answer).
  const split = plain.map((v) => ((scope.grain ?? 'record') === 'record' ? PER_BUCKET[v] : undefined));
  if (split.every((x) => x !== undefined)) {
    const partials = plain.flatMap((v, i) => split[i]!.partials.map((p, j) => `${p} AS p${j}_${valueAlias(v)}`));
    const combined = new Map(
      plain.map((v, i) => [
        v,
        split[i]!.combine.replace(/\$(\d)/g, (_, j: string) => `p${j}_${valueAlias(v)}`) + ` AS ${valueAlias(v)}`,
      ]),
    );
    const oneScan = sql`SELECT ${bucketKeys}, ${raw([...columns.map((c) => rateColumnSql[c]), ...partials].join(', '))} FROM ${scope.source} WHERE ${where} GROUP BY ALL`;
    const select = [
      ...keys,
      ...req.values.map((v) => (isRateMetric(v) ? rateSelect[rates.indexOf(v)]! : combined.get(v)!)),
    ];
    return sql`WITH b AS (${oneScan}) SELECT ${raw(select.join(', '))} FROM b${raw(keys.length ? ` GROUP BY ${keys.join(', ')}` : '')}`;
  }
  const g = sql`SELECT ${join([...dims.map(dimensionSelect(scope)), ...plain.map(valueSelect(scope))], ', ')} FROM ${scope.source} WHERE ${where}${groupBy}`;
  const on = keys.length ? keys.map((k) => `g.${k} IS NOT DISTINCT FROM r.${k}`).join(' AND ') : 'TRUE';
  // A group without a rate row has no traffic in any bucket: its rates are 0.
  const out = join(
    [
      ...keys.map((k) => raw(`g.${k}`)),
      ...req.values.map((v) =>
        raw(isRateMetric(v) ? `coalesce(r.${valueAlias(v)}, 0) AS ${valueAlias(v)}` : `g.${valueAlias(v)}`),
      ),
    ],
    ', ',
  );
  return sql`WITH g AS (${g}), b AS (${perBucket}), r AS (${r}) SELECT ${out} FROM g LEFT JOIN r ON ${raw(on)}`;
}

/** `m_bytes >= $1 AND m_avg_bytes <= $2`: the `having` bounds over the aliases of aggregateValuesSql's relation. */
export function havingSql(bounds: readonly MetricBound[]): SqlFragment {
  const conditions = bounds.flatMap((b) => [
    ...(b.min === null ? [] : [sql`${raw(valueAlias(b.metric))} >= ${b.min}`]),
    ...(b.max === null ? [] : [sql`${raw(valueAlias(b.metric))} <= ${b.max}`]),
  ]);
  return join(conditions, ' AND ', 'TRUE');
}
