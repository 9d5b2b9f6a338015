/**
 * `flows.breakdown`: records grouped by one or more dimensions, ranked by a metric. The top-N builder is this query
 * with one key and null keys left out.
 */
import { type FlowMetric, type FlowValue, FLOW_VALUES } from '../../domain/aggregate-enums.ts';
import { type FlowDimension } from '../../domain/flow-dimensions.ts';
import type { MetricBound } from '../../domain/metric-bound.ts';
import { build, raw, sql, type SqlFragment, type SqlQuery } from '../sql.ts';
import {
  type AggregateScope,
  dimensionAlias,
  dimensionExpression,
  uniqueValues,
  valueAlias,
} from './aggregate-expressions.ts';
import { aggregateValuesSql, havingSql, type RateWindow } from './aggregate-values-query.ts';

/** What to group, compute, rank by and keep. */
export interface FlowGroupRequest {
  readonly dimensions: readonly FlowDimension[];
  readonly values: readonly FlowValue[];
  readonly orderBy: FlowMetric;
  /** Rows wanted; the query asks for one more so the reader can tell a truncated result. */
  readonly limit: number;
  /** Drop groups whose key has a null part (a NODATA record has no address, port or action). */
  readonly skipNullKeys?: boolean;
  /** Keep only the groups within every bound (their metrics are computed, as columns, whether asked for or not). */
  readonly having?: readonly MetricBound[];
  /** The rate buckets, when a value, the order or a bound is a rate metric. */
  readonly rate?: RateWindow | undefined;
}

/** Build a grouped, ranked aggregate. `name` is `flows.breakdown` or `flows.topN`. */
export function buildFlowGroupQuery(name: string, scope: AggregateScope, req: FlowGroupRequest): SqlQuery {
  const dims = [...new Set(req.dimensions)];
  if (dims.length === 0) throw new Error(`${name}: no dimensions`);
  const having = req.having ?? [];
  const values = uniqueValues([...req.values, req.orderBy, ...having.map((b) => b.metric)], FLOW_VALUES);
  const notNull: SqlFragment[] = req.skipNullKeys
    ? dims.map((d) => sql`${dimensionExpression(d, scope)} IS NOT NULL`)
    : [];
  const groups = aggregateValuesSql(scope, { dimensions: dims, values, where: notNull, rate: req.rate });
  // Ties are broken by the key, so equal requests return equal orders; a group without the metric (an average over
  // records without bytes) comes last.
  const orderBy = raw(
    [`${valueAlias(req.orderBy)} DESC NULLS LAST`, ...dims.map((d) => `${dimensionAlias(d)} ASC NULLS LAST`)].join(
      ', ',
    ),
  );
  const kept = having.length ? sql`SELECT * FROM (${groups}) AS grouped WHERE ${havingSql(having)}` : groups;
  return build(name, sql`${kept} ORDER BY ${orderBy} LIMIT ${req.limit + 1}`);
}

/** Records grouped by several dimensions; null keys are groups of their own (e.g. NODATA records). */
export function buildFlowBreakdownQuery(scope: AggregateScope, req: Omit<FlowGroupRequest, 'skipNullKeys'>): SqlQuery {
  return buildFlowGroupQuery('flows.breakdown', scope, req);
}
