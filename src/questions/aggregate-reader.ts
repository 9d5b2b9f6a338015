/**
 * Flow aggregates for the API: prunes the manifest's files by the filter, builds the aggregate statement, runs it,
 * and maps `k_*`/`m_*` columns back to the enum vocabulary. One function per question; each runs one statement.
 */
import {
  isRateMetric,
  rateBucketCount,
  type FlowMetric,
  type FlowValue,
  type TimeInterval,
  FLOW_VALUES,
} from '../domain/aggregate-enums.ts';
import {
  FLOW_DIMENSIONS,
  dimensionReferences,
  topNDimensions,
  type FlowDimension,
  type TopNKey,
} from '../domain/flow-dimensions.ts';
import { recordWindowTooLong, type FlowFilter } from '../domain/flow-filter.ts';
import type { MetricBound } from '../domain/metric-bound.ts';
import {
  type AggregateScope,
  type DimensionNames,
  dimensionAlias,
  valueAlias,
} from '../store/queries/aggregate-expressions.ts';
import type { RateWindow } from '../store/queries/aggregate-values-query.ts';
import { buildFlowBreakdownQuery } from '../store/queries/flow-breakdown-query.ts';
import { flowFilterSql, prunePartitions } from '../store/queries/flow-filter-query.ts';
import { buildFlowSummaryQuery } from '../store/queries/flow-summary-query.ts';
import { buildFlowTimeSeriesQuery } from '../store/queries/flow-time-series-query.ts';
import { buildFlowTopNQuery } from '../store/queries/flow-top-n-query.ts';
import { type AggregateNeeds, recordsReason, tieredSourceSql } from '../store/queries/flows-hourly-query.ts';
import { parquetSourceSql } from '../store/queries/parquet-source-query.ts';
import type { ManifestFile } from '../store/layout.ts';
import { readyInventorySnapshots } from './inventory-lookup.ts';
import { readyReferenceTables } from './reference-lookup.ts';
import { planTiers } from './tier-plan.ts';
import { runQuery, type QueryContext, type Row } from '../store/query-runner.ts';
import { scanFiles } from '../store/scan-files.ts';

/**
 * Computed values by name: counts, sums and extremes as bigint, averages and rates as number (FLOAT_METRICS),
 * FIRST_SEEN/LAST_SEEN as Date; null where there is nothing to compute over (no records, no byte counts).
 */
export type AggregateValues = Partial<Record<FlowValue, bigint | number | Date | null>>;

/** A group's key: the value of each grouped dimension (null is a group too, e.g. NODATA records have no address). */
export type GroupKey = Partial<Record<FlowDimension, string | number | null>>;

/** One group of a top-N or breakdown. */
export interface AggregateRow {
  readonly key: GroupKey;
  readonly values: AggregateValues;
}

/** Rows plus whether more groups existed beyond the limit. */
export interface AggregateRows {
  readonly rows: readonly AggregateRow[];
  readonly truncated: boolean;
}

/** One point of a time series. */
export interface TimePoint {
  readonly time: Date;
  readonly values: AggregateValues;
}

/** One series: its key (empty when the series is not split) and its non-empty buckets in time order. */
export interface TimeSeries {
  readonly key: GroupKey;
  readonly points: readonly TimePoint[];
}

/** The rate buckets of `filter`'s window at `interval`, when `values` hold a rate metric (else none are needed). */
export function rateWindow(
  filter: FlowFilter,
  values: readonly FlowValue[],
  interval: TimeInterval,
): RateWindow | undefined {
  return values.some(isRateMetric) ? { interval, buckets: rateBucketCount(filter.timeRange, interval) } : undefined;
}

/** What the answer reads (aggregateScope's `needs`) for `values` computed at `rate`. */
function valueNeeds(values: readonly FlowValue[], rate: RateWindow | undefined): AggregateNeeds {
  return { values, rateInterval: rate?.interval };
}

/**
 * The relation and WHERE clause for a filter, recording the scanned files in the request's cost. With `needs` (what
 * the aggregate groups by), it reads the coarsest rows that give the same answer (planTiers): flows_daily for whole
 * days that have it, flows_hourly for the window's other whole hours, the records of its partial hours; otherwise (a
 * source-port filter, a window inside one hour, a warehouse ingested with --no-derive) the flows themselves.
 */
export async function aggregateScope(
  ctx: QueryContext,
  filter: FlowFilter,
  needs?: AggregateNeeds,
  tagKey: string | null = null,
): Promise<AggregateScope> {
  const manifest = await ctx.warehouse.manifest();
  const where = flowFilterSql(filter);
  const paths = (of: readonly ManifestFile[]) => of.map((f) => ctx.warehouse.absolutePath(f));
  const names = await dimensionNames(ctx, filter, needs?.dimensions ?? [], tagKey);
  const tiers = needs ? planTiers(manifest.files, filter, needs) : null;
  if (tiers) {
    await scanFiles(ctx, [...tiers.daily, ...tiers.hourly, ...tiers.records]);
    const files = { daily: paths(tiers.daily), hourly: paths(tiers.hourly), records: paths(tiers.records) };
    return { source: tieredSourceSql(files, tiers.split), where, grain: 'hour', ...names };
  }
  const files = prunePartitions(manifest.files, filter);
  if (needs) checkRecordWindow(ctx, filter, needs, files);
  await scanFiles(ctx, files);
  return { source: parquetSourceSql(paths(files)), where, ...names };
}

/**
 * The live snapshots a grouping by named dimensions looks names up in, made readable for the request (only the kinds
 * it reads); nothing for a grouping without them. Address references are global (every key sees the same names); the
 * inventory's tags are read as the filter's tenant may (its own accounts' resources).
 */
async function dimensionNames(
  ctx: QueryContext,
  filter: FlowFilter,
  dims: readonly FlowDimension[],
  tagKey: string | null,
): Promise<{ names?: DimensionNames }> {
  const kinds = dimensionReferences(dims);
  if (kinds.length === 0) return {};
  const paths = await readyReferenceTables(
    ctx.warehouse,
    kinds.filter((k) => k !== 'inventory'),
  );
  const tag =
    kinds.includes('inventory') && tagKey !== null
      ? { key: tagKey, snapshots: await readyInventorySnapshots(ctx.warehouse), accounts: filter.scopeAccountIds }
      : null;
  return { names: { ipRanges: paths.ip_ranges ?? null, networks: paths.networks ?? null, ...(tag ? { tag } : {}) } };
}

/**
 * An aggregate the tiers cannot answer reads flow records, so its window is held to the records' bound
 * (ctx.maxRecordRangeMs) although it was validated against the tiers' larger one: refused, naming what forces the
 * records, before any statement runs. A window without flows files reads nothing and is let through.
 */
function checkRecordWindow(
  ctx: QueryContext,
  filter: FlowFilter,
  needs: AggregateNeeds,
  files: readonly ManifestFile[],
): void {
  const max = ctx.maxRecordRangeMs;
  const { from, to } = filter.timeRange;
  if (max === undefined || to.getTime() - from.getTime() <= max) return;
  const reason =
    recordsReason(filter, needs) ??
    (files.length === 0
      ? null
      : 'some of its partitions have no flows_hourly files (ingested with --no-derive or by an older flowql; `flowql derive` writes them)');
  if (reason !== null) throw recordWindowTooLong(filter, max, reason);
}

function valuesOf(row: Row, wanted: readonly FlowValue[]): AggregateValues {
  const out: AggregateValues = {};
  for (const v of wanted) out[v] = (row[valueAlias(v)] ?? null) as bigint | number | Date | null;
  return out;
}

function keyOf(row: Row, dims: readonly FlowDimension[]): GroupKey {
  const out: GroupKey = {};
  for (const d of dims) out[d] = (row[dimensionAlias(d)] ?? null) as string | number | null;
  return out;
}

function rowsOf(
  rows: Row[],
  dims: readonly FlowDimension[],
  values: readonly FlowValue[],
  limit: number,
): AggregateRows {
  return {
    rows: rows.slice(0, limit).map((r) => ({ key: keyOf(r, dims), values: valuesOf(r, values) })),
    truncated: rows.length > limit,
  };
}

/** Totals over the filter, for the requested values only (one statement); rates over `rateInterval` buckets. */
export async function readFlowSummary(
  ctx: QueryContext,
  filter: FlowFilter,
  values: readonly FlowValue[],
  rateInterval: TimeInterval = 'FIVE_MINUTES',
): Promise<AggregateValues> {
  const wanted = FLOW_VALUES.filter((v) => values.includes(v));
  if (wanted.length === 0) return {};
  const rate = rateWindow(filter, wanted, rateInterval);
  const scope = await aggregateScope(ctx, filter, valueNeeds(wanted, rate));
  const [row] = await runQuery(ctx, buildFlowSummaryQuery(scope, wanted, rate));
  return valuesOf(row ?? {}, wanted);
}

/** What a top-N or breakdown bounds and how it measures rates, besides its key, order and values. */
export interface GroupOptions {
  readonly having?: readonly MetricBound[];
  readonly rateInterval?: TimeInterval;
  /** The tag key INSTANCE_TAG groups by (groupTagKey). */
  readonly tagKey?: string | null;
}

/** Every value a grouped answer computes: asked for, ranked by, or bounded. */
function computedValues(values: readonly FlowValue[], metric: FlowMetric, having: readonly MetricBound[]): FlowValue[] {
  return FLOW_VALUES.filter((v) => v === metric || values.includes(v) || having.some((b) => b.metric === v));
}

/** The `limit` largest groups by `metric` (groups with a null key part are not talkers), within `having`. */
export async function readFlowTopN(
  ctx: QueryContext,
  filter: FlowFilter,
  req: { by: TopNKey; metric: FlowMetric; values: readonly FlowValue[]; limit: number } & GroupOptions,
): Promise<AggregateRows> {
  const having = req.having ?? [];
  const computed = computedValues(req.values, req.metric, having);
  const rate = rateWindow(filter, computed, req.rateInterval ?? 'FIVE_MINUTES');
  const dims = topNDimensions(req.by);
  const needs = { dimensions: dims, ...valueNeeds(computed, rate) };
  const scope = await aggregateScope(ctx, filter, needs, req.tagKey ?? null);
  const rows = await runQuery(
    ctx,
    buildFlowTopNQuery(scope, { by: req.by, metric: req.metric, values: computed, limit: req.limit, having, rate }),
  );
  return rowsOf(rows, dims, computed, req.limit);
}

/** Groups over several dimensions, largest by `orderBy` first, within `having`. */
export async function readFlowBreakdown(
  ctx: QueryContext,
  filter: FlowFilter,
  req: {
    dimensions: readonly FlowDimension[];
    orderBy: FlowMetric;
    values: readonly FlowValue[];
    limit: number;
  } & GroupOptions,
): Promise<AggregateRows> {
  const having = req.having ?? [];
  const computed = computedValues(req.values, req.orderBy, having);
  const rate = rateWindow(filter, computed, req.rateInterval ?? 'FIVE_MINUTES');
  const dims = FLOW_DIMENSIONS.filter((d) => req.dimensions.includes(d)).sort(
    (a, b) => req.dimensions.indexOf(a) - req.dimensions.indexOf(b),
  );
  const needs = { dimensions: dims, ...valueNeeds(computed, rate) };
  const scope = await aggregateScope(ctx, filter, needs, req.tagKey ?? null);
  const rows = await runQuery(
    ctx,
    buildFlowBreakdownQuery(scope, {
      dimensions: dims,
      orderBy: req.orderBy,
      values: computed,
      limit: req.limit,
      having,
      rate,
    }),
  );
  return rowsOf(rows, dims, computed, req.limit);
}

/** Buckets of `interval`, as one series or split by a dimension into the `maxSeries` largest by `rankBy`. */
export async function readFlowTimeSeries(
  ctx: QueryContext,
  filter: FlowFilter,
  req: {
    interval: TimeInterval;
    values: readonly FlowValue[];
    groupBy?: { dimension: FlowDimension; maxSeries: number; rankBy: FlowMetric } | undefined;
    /** The tag key of a series split by INSTANCE_TAG (groupTagKey). */
    tagKey?: string | null;
  },
): Promise<TimeSeries[]> {
  const values = FLOW_VALUES.filter((v) => req.values.includes(v));
  const needs = {
    interval: req.interval,
    dimensions: req.groupBy ? [req.groupBy.dimension] : [],
    values: req.groupBy ? [...values, req.groupBy.rankBy] : values,
  };
  const query = buildFlowTimeSeriesQuery(await aggregateScope(ctx, filter, needs, req.tagKey ?? null), {
    interval: req.interval,
    values: values.length ? values : ['RECORDS'],
    ...(req.groupBy ? { groupBy: req.groupBy } : {}),
  });
  const rows = await runQuery(ctx, query);
  const dims = req.groupBy ? [req.groupBy.dimension] : [];
  const series: { key: GroupKey; points: TimePoint[] }[] = [];
  let lastKey: unknown = Symbol('none');
  for (const row of rows) {
    const k = dims.length ? row[dimensionAlias(dims[0]!)] : null;
    // Rows arrive ordered by key then bucket: a new key starts a new series.
    if (series.length === 0 || k !== lastKey) series.push({ key: keyOf(row, dims), points: [] });
    lastKey = k;
    series[series.length - 1]!.points.push({ time: row.bucket as Date, values: valuesOf(row, values) });
  }
  return series;
}
