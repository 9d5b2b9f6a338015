/**
 * `flows.timeSeries`: metrics per time bucket (by record start time, UTC, epoch-aligned), optionally split into one
 * series per value of a dimension, keeping the `maxSeries` largest series by an additive metric.
 */
import {
  ADDITIVE_METRICS,
  type FlowMetric,
  type FlowValue,
  type TimeInterval,
  FLOW_VALUES,
} from '../../domain/aggregate-enums.ts';
import { type FlowDimension } from '../../domain/flow-dimensions.ts';
import { build, join, raw, sql, type SqlQuery } from '../sql.ts';
import {
  type AggregateScope,
  bucketExpression,
  dimensionAlias,
  dimensionSelect,
  uniqueValues,
  valueAlias,
  valueSelect,
} from './aggregate-expressions.ts';

/** Bucket width, values, and the optional split into series. */
export interface FlowTimeSeriesRequest {
  readonly interval: TimeInterval;
  readonly values: readonly FlowValue[];
  readonly groupBy?: { readonly dimension: FlowDimension; readonly maxSeries: number; readonly rankBy: FlowMetric };
}

/** Rows of (`bucket`, [`k_<dim>`], `m_<value>`...), ordered by series key then bucket. */
export function buildFlowTimeSeriesQuery(scope: AggregateScope, req: FlowTimeSeriesRequest): SqlQuery {
  const bucket = bucketExpression(req.interval);
  if (!req.groupBy) {
    const values = uniqueValues(req.values.length ? req.values : ['RECORDS'], FLOW_VALUES);
    const select = join(values.map(valueSelect(scope)), ', ');
    return build(
      'flows.timeSeries',
      sql`SELECT ${bucket} AS bucket, ${select} FROM ${scope.source} WHERE ${scope.where} GROUP BY bucket ORDER BY bucket`,
    );
  }
  const { dimension, maxSeries, rankBy } = req.groupBy;
  // A series is ranked by the sum of its buckets, which is only its total for a metric that adds up.
  if (!ADDITIVE_METRICS.has(rankBy)) throw new Error(`flows.timeSeries: cannot rank series by ${rankBy}`);
  const values = uniqueValues([...req.values, rankBy], FLOW_VALUES);
  const key = raw(dimensionAlias(dimension));
  const rank = raw(valueAlias(rankBy));
  const select = join([dimensionSelect(scope)(dimension), ...values.map(valueSelect(scope))], ', ');
  const grouped = sql`SELECT ${bucket} AS bucket, ${select} FROM ${scope.source} WHERE ${scope.where} GROUP BY ALL`;
  const top = sql`SELECT ${key} FROM g GROUP BY ${key} ORDER BY sum(${rank}) DESC, ${key} ASC NULLS LAST LIMIT ${maxSeries}`;
  const outer = join([raw('g.bucket'), sql`g.${key}`, ...values.map((v) => raw(`g.${valueAlias(v)}`))], ', ');
  return build(
    'flows.timeSeries',
    sql`WITH g AS (${grouped}), top AS (${top}) SELECT ${outer} FROM g SEMI JOIN top ON g.${key} IS NOT DISTINCT FROM top.${key} ORDER BY g.${key} ASC NULLS LAST, g.bucket`,
  );
}
