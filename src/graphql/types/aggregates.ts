/**
 * Flow aggregates: `flowSummary`, `flowTopN`, `flowBreakdown`, `flowTimeSeries`. Each root field validates its
 * arguments (errors before any SQL) and returns a cheap selector; the statement runs only when a field that needs it
 * is resolved, once, for exactly the values the query selected.
 */
import {
  checkRankBy,
  AGGREGATE_LIMITS,
  checkBuckets,
  checkCount,
  checkDimensions,
  checkRateBuckets,
  isRateMetric,
  type FlowValue,
  type FlowMetric,
  type TimeInterval,
} from '../../domain/aggregate-enums.ts';
import { groupTagKey, topNDimensions, type FlowDimension, type TopNKey } from '../../domain/flow-dimensions.ts';
import type { FlowFilter } from '../../domain/flow-filter.ts';
import { checkMetricBounds, type MetricBound } from '../../domain/metric-bound.ts';
import {
  readFlowBreakdown,
  readFlowSummary,
  readFlowTimeSeries,
  readFlowTopN,
  type AggregateRow,
  type AggregateRows,
  type GroupKey,
  type TimePoint,
} from '../../questions/aggregate-reader.ts';
import { builder } from '../builder.ts';
import { selectedValues } from './aggregate-selection.ts';
import {
  FlowAggregateRef,
  FlowDimensionEnum,
  FlowGroupKeyRef,
  FlowMetricEnum,
  FlowRatesRef,
  FlowTopNKeyEnum,
  MetricBoundInput,
  TimeIntervalEnum,
  keyLabel,
  type AggregateParent,
} from './aggregate-types.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';

/** Runs `fn` once, on first call. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => (pending ??= fn());
}

interface Window {
  readonly filter: FlowFilter;
}

type SummaryParent = AggregateParent & Window;

const FlowSummaryRef = builder.objectRef<SummaryParent>('FlowSummary').implement({
  description: 'Totals over the records matching a filter.',
  interfaces: [FlowAggregateRef, FlowRatesRef],
  isTypeOf: () => true,
  fields: (t) => ({
    from: t.field({
      type: 'DateTime',
      description: 'Start of the window covered.',
      resolve: (p) => p.filter.timeRange.from,
    }),
    to: t.field({
      type: 'DateTime',
      description: 'End (exclusive) of the window covered.',
      resolve: (p) => p.filter.timeRange.to,
    }),
  }),
});

type GroupParent = AggregateParent & {
  readonly row: AggregateRow;
  readonly dims: readonly FlowDimension[];
  readonly metric: FlowMetric;
};

const FlowGroupRef = builder.objectRef<GroupParent>('FlowGroup').implement({
  description: 'One group of a top-N or breakdown.',
  interfaces: [FlowAggregateRef, FlowRatesRef],
  isTypeOf: () => true,
  fields: (t) => ({
    key: t.field({ type: FlowGroupKeyRef, resolve: (p) => p.row.key }),
    label: t.string({
      description: 'The key as text (`a -> b` for an address pair).',
      resolve: (p) => keyLabel(p.row.key, p.dims),
    }),
    value: t.field({
      type: 'BigInt',
      nullable: true,
      description:
        'The value of the metric the groups are ranked by, when it is a whole number (null for a Float metric, ' +
        'averages and rates: read `floatValue`; and for MIN_/MAX_ over records without counts).',
      resolve: (p) => {
        const v = p.row.values[p.metric];
        return typeof v === 'bigint' ? v : null;
      },
    }),
    floatValue: t.float({
      nullable: true,
      description:
        'The value of the metric the groups are ranked by, as a Float (exact for averages and rates; integers past ' +
        '2^53 are rounded: `value` is exact). Null when the group has no value for it.',
      resolve: (p) => {
        const v = p.row.values[p.metric];
        return typeof v === 'bigint' || typeof v === 'number' ? Number(v) : null;
      },
    }),
  }),
});

function groupParents(result: AggregateRows, dims: readonly FlowDimension[], metric: FlowMetric): GroupParent[] {
  return result.rows.map((row) => ({ row, dims, metric, values: () => Promise.resolve(row.values) }));
}

interface RankedParent extends Window {
  readonly metric: FlowMetric;
  readonly dims: readonly FlowDimension[];
  readonly result: () => Promise<AggregateRows>;
}

const rankedFields = {
  rows: (p: RankedParent) => p.result().then((r) => groupParents(r, p.dims, p.metric)),
  truncated: (p: RankedParent) => p.result().then((r) => r.truncated),
};

const FlowTopNRef = builder.objectRef<RankedParent & { readonly by: TopNKey }>('FlowTopN').implement({
  description:
    'The largest groups by one key. Records whose key is missing (NODATA/SKIPDATA have no address) are left out.',
  fields: (t) => ({
    by: t.field({ type: FlowTopNKeyEnum, resolve: (p) => p.by }),
    metric: t.field({ type: FlowMetricEnum, resolve: (p) => p.metric }),
    from: t.field({ type: 'DateTime', resolve: (p) => p.filter.timeRange.from }),
    to: t.field({ type: 'DateTime', resolve: (p) => p.filter.timeRange.to }),
    rows: t.field({ type: [FlowGroupRef], resolve: rankedFields.rows }),
    truncated: t.boolean({ description: 'More groups exist beyond `limit`.', resolve: rankedFields.truncated }),
  }),
});

const FlowBreakdownRef = builder.objectRef<RankedParent>('FlowBreakdown').implement({
  description:
    'Records grouped by several dimensions; a missing value (e.g. the action of a NODATA record) is a group.',
  fields: (t) => ({
    dimensions: t.field({ type: [FlowDimensionEnum], resolve: (p) => [...p.dims] }),
    orderBy: t.field({ type: FlowMetricEnum, resolve: (p) => p.metric }),
    from: t.field({ type: 'DateTime', resolve: (p) => p.filter.timeRange.from }),
    to: t.field({ type: 'DateTime', resolve: (p) => p.filter.timeRange.to }),
    rows: t.field({ type: [FlowGroupRef], resolve: rankedFields.rows }),
    truncated: t.boolean({ description: 'More groups exist beyond `limit`.', resolve: rankedFields.truncated }),
  }),
});

type PointParent = AggregateParent & { readonly point: TimePoint };

const FlowTimePointRef = builder.objectRef<PointParent>('FlowTimePoint').implement({
  description: 'One bucket of a series. Buckets without records are absent.',
  interfaces: [FlowAggregateRef],
  isTypeOf: () => true,
  fields: (t) => ({
    time: t.field({ type: 'DateTime', description: 'Start of the bucket (UTC).', resolve: (p) => p.point.time }),
  }),
});

type SeriesParent = {
  readonly key: GroupKey;
  readonly dims: readonly FlowDimension[];
  readonly points: readonly TimePoint[];
};

const FlowSeriesRef = builder.objectRef<SeriesParent>('FlowSeries').implement({
  description: 'The buckets of one series (of all records when the time series is not grouped).',
  fields: (t) => ({
    key: t.field({ type: FlowGroupKeyRef, resolve: (p) => p.key }),
    label: t.string({ resolve: (p) => keyLabel(p.key, p.dims) }),
    points: t.field({
      type: [FlowTimePointRef],
      resolve: (p) => p.points.map((point) => ({ point, values: () => Promise.resolve(point.values) })),
    }),
  }),
});

type TimeSeriesParent = Window & {
  readonly interval: TimeInterval;
  readonly groupBy: FlowDimension | null;
  readonly series: () => Promise<SeriesParent[]>;
};

const FlowTimeSeriesRef = builder.objectRef<TimeSeriesParent>('FlowTimeSeries').implement({
  description: 'Metrics per time bucket, optionally one series per value of a dimension.',
  fields: (t) => ({
    interval: t.field({ type: TimeIntervalEnum, resolve: (p) => p.interval }),
    groupBy: t.field({ type: FlowDimensionEnum, nullable: true, resolve: (p) => p.groupBy }),
    from: t.field({ type: 'DateTime', resolve: (p) => p.filter.timeRange.from }),
    to: t.field({ type: 'DateTime', resolve: (p) => p.filter.timeRange.to }),
    series: t.field({ type: [FlowSeriesRef], resolve: (p) => p.series() }),
  }),
});

const TAG_KEY_DOC =
  'The tag key INSTANCE_TAG groups by (`app`, `team`, `Name`): required with INSTANCE_TAG, refused without it.';
const HAVING_DOC = `Keep only the groups whose metrics are within these bounds (all of them; at most ${AGGREGATE_LIMITS.maxHaving}).`;
const RATE_DOC =
  'Width of the buckets the rate metrics (PEAK_/P95_ bits and packets per second) are measured over; ' +
  `at most ${AGGREGATE_LIMITS.maxBuckets} buckets in the window.`;

/** Refuses, naming `rateInterval`, rate buckets past the limit: only when a value, the order or a bound is a rate. */
function checkRates(
  filter: FlowFilter,
  values: readonly FlowValue[],
  having: readonly MetricBound[],
  rateInterval: TimeInterval,
): void {
  if ([...values, ...having.map((b) => b.metric)].some(isRateMetric)) {
    checkRateBuckets('rateInterval', filter.timeRange, rateInterval);
  }
}

builder.queryFields((t) => ({
  flowSummary: t.field({
    type: FlowSummaryRef,
    description: 'Totals over the records matching `filter`: one statement for the selected fields only.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      rateInterval: t.arg({
        type: TimeIntervalEnum,
        required: true,
        defaultValue: 'FIVE_MINUTES',
        description: RATE_DOC,
      }),
    },
    resolve: async (_root, args, ctx, info) => {
      const filter = await resolveFlowFilter(ctx, args.filter, 'filter', { aggregate: true });
      const wanted = selectedValues(info);
      checkRates(filter, wanted, [], args.rateInterval);
      return { filter, values: once(() => readFlowSummary(ctx.query, filter, wanted, args.rateInterval)) };
    },
  }),

  flowTopN: t.field({
    type: FlowTopNRef,
    description: 'Top talkers: the largest groups by `by` (address pair, address, instance, port...) and `metric`.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      by: t.arg({ type: FlowTopNKeyEnum, required: true }),
      tagKey: t.arg.string({ description: TAG_KEY_DOC }),
      metric: t.arg({ type: FlowMetricEnum, required: true, defaultValue: 'BYTES' }),
      limit: t.arg.int({ required: true, defaultValue: 10, description: `1 to ${AGGREGATE_LIMITS.maxTopN}.` }),
      having: t.arg({ type: [MetricBoundInput], description: HAVING_DOC }),
      rateInterval: t.arg({
        type: TimeIntervalEnum,
        required: true,
        defaultValue: 'FIVE_MINUTES',
        description: RATE_DOC,
      }),
    },
    resolve: async (_root, args, ctx, info) => {
      const filter = await resolveFlowFilter(ctx, args.filter, 'filter', { aggregate: true });
      const limit = checkCount('limit', args.limit, 1, AGGREGATE_LIMITS.maxTopN);
      const values = selectedValues(info, ['rows']);
      const having = checkMetricBounds('having', args.having ?? []);
      checkRates(filter, [...values, args.metric], having, args.rateInterval);
      const tagKey = groupTagKey(topNDimensions(args.by), args.tagKey);
      const req = { by: args.by, metric: args.metric, values, limit, having, rateInterval: args.rateInterval, tagKey };
      return {
        filter,
        by: args.by,
        metric: args.metric,
        dims: topNDimensions(args.by),
        result: once(() => readFlowTopN(ctx.query, filter, req)),
      };
    },
  }),

  flowBreakdown: t.field({
    type: FlowBreakdownRef,
    description: 'Records grouped by several dimensions, largest by `orderBy` first.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      dimensions: t.arg({
        type: [FlowDimensionEnum],
        required: true,
        description: `1 to ${AGGREGATE_LIMITS.maxBreakdownDimensions}, each once.`,
      }),
      tagKey: t.arg.string({ description: TAG_KEY_DOC }),
      orderBy: t.arg({ type: FlowMetricEnum, required: true, defaultValue: 'BYTES' }),
      limit: t.arg.int({
        required: true,
        defaultValue: 100,
        description: `1 to ${AGGREGATE_LIMITS.maxBreakdownRows}.`,
      }),
      having: t.arg({ type: [MetricBoundInput], description: HAVING_DOC }),
      rateInterval: t.arg({
        type: TimeIntervalEnum,
        required: true,
        defaultValue: 'FIVE_MINUTES',
        description: RATE_DOC,
      }),
    },
    resolve: async (_root, args, ctx, info) => {
      const filter = await resolveFlowFilter(ctx, args.filter, 'filter', { aggregate: true });
      const dims = checkDimensions('dimensions', args.dimensions);
      const limit = checkCount('limit', args.limit, 1, AGGREGATE_LIMITS.maxBreakdownRows);
      const values = selectedValues(info, ['rows']);
      const having = checkMetricBounds('having', args.having ?? []);
      checkRates(filter, [...values, args.orderBy], having, args.rateInterval);
      const tagKey = groupTagKey(dims, args.tagKey);
      const req = {
        dimensions: dims,
        orderBy: args.orderBy,
        values,
        limit,
        having,
        rateInterval: args.rateInterval,
        tagKey,
      };
      return { filter, metric: args.orderBy, dims, result: once(() => readFlowBreakdown(ctx.query, filter, req)) };
    },
  }),

  flowTimeSeries: t.field({
    type: FlowTimeSeriesRef,
    description: 'Metrics per time bucket; with `groupBy`, one series per value, the `maxSeries` largest by `rankBy`.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      interval: t.arg({ type: TimeIntervalEnum, required: true, defaultValue: 'HOUR' }),
      groupBy: t.arg({ type: FlowDimensionEnum }),
      tagKey: t.arg.string({ description: TAG_KEY_DOC }),
      maxSeries: t.arg.int({ required: true, defaultValue: 10, description: `1 to ${AGGREGATE_LIMITS.maxSeries}.` }),
      rankBy: t.arg({
        type: FlowMetricEnum,
        required: true,
        defaultValue: 'BYTES',
        description: 'An additive metric (a count or a sum).',
      }),
    },
    resolve: async (_root, args, ctx, info) => {
      const filter = await resolveFlowFilter(ctx, args.filter, 'filter', { aggregate: true });
      checkBuckets('interval', filter.timeRange, args.interval);
      const maxSeries = checkCount('maxSeries', args.maxSeries, 1, AGGREGATE_LIMITS.maxSeries);
      checkRankBy('rankBy', args.rankBy);
      const groupBy = args.groupBy ?? null;
      const dims = groupBy ? [groupBy] : [];
      const tagKey = groupTagKey(dims, args.tagKey);
      const values = selectedValues(info, ['series', 'points']);
      const series = once(async () =>
        (
          await readFlowTimeSeries(ctx.query, filter, {
            interval: args.interval,
            values,
            groupBy: groupBy ? { dimension: groupBy, maxSeries, rankBy: args.rankBy } : undefined,
            tagKey,
          })
        ).map((s) => ({ ...s, dims })),
      );
      return { filter, interval: args.interval, groupBy, series };
    },
  }),
}));
