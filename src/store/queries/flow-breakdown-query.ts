/**
 * `flows.breakdown`: records grouped by one or more dimensions, ranked by a metric. The top-N builder is this query
 * with one key and null keys left out.
 */
import {
  FLOW_BOUNDS,
  FLOW_METRICS,
  type FlowDimension,
  type FlowMetric,
  type FlowValue,
} from '../../domain/aggregate-enums.ts';
import { build, join, raw, sql, type SqlFragment, type SqlQuery } from '../sql.ts';
import {
  type AggregateScope,
  dimensionAlias,
  dimensionExpression,
  dimensionSelect,
  uniqueValues,
  valueAlias,
  valueSelect,
} from './aggregate-expressions.ts';

const VALUE_ORDER: readonly FlowValue[] = [...FLOW_METRICS, ...FLOW_BOUNDS];

/** What to group, compute, rank by and keep. */
export interface FlowGroupRequest {
  readonly dimensions: readonly FlowDimension[];
  readonly values: readonly FlowValue[];
  readonly orderBy: FlowMetric;
  /** Rows wanted; the query asks for one more so the reader can tell a truncated result. */
  readonly limit: number;
  /** Drop groups whose key has a null part (a NODATA record has no address, port or action). */
  readonly skipNullKeys?: boolean;
}

/** Build a grouped, ranked aggregate. `name` is `flows.breakdown` or `flows.topN`. */
export function buildFlowGroupQuery(name: string, scope: AggregateScope, req: FlowGroupRequest): SqlQuery {
  const dims = [...new Set(req.dimensions)];
  if (dims.length === 0) throw new Error(`${name}: no dimensions`);
  const values = uniqueValues([...req.values, req.orderBy], VALUE_ORDER);
  const select = join([...dims.map(dimensionSelect), ...values.map(valueSelect(scope))], ', ');
  const notNull: SqlFragment[] = req.skipNullKeys ? dims.map((d) => raw(`${dimensionExpression(d)} IS NOT NULL`)) : [];
  const where = join([sql`(${scope.where})`, ...notNull], ' AND ');
  const groupBy = raw(dims.map(dimensionAlias).join(', '));
  // Ties are broken by the key, so equal requests return equal orders.
  const orderBy = raw(
    [`${valueAlias(req.orderBy)} DESC`, ...dims.map((d) => `${dimensionAlias(d)} ASC NULLS LAST`)].join(', '),
  );
  return build(
    name,
    sql`SELECT ${select} FROM ${scope.source} WHERE ${where} GROUP BY ${groupBy} ORDER BY ${orderBy} LIMIT ${req.limit + 1}`,
  );
}

/** Records grouped by several dimensions; null keys are groups of their own (e.g. NODATA records). */
export function buildFlowBreakdownQuery(scope: AggregateScope, req: Omit<FlowGroupRequest, 'skipNullKeys'>): SqlQuery {
  return buildFlowGroupQuery('flows.breakdown', scope, req);
}
