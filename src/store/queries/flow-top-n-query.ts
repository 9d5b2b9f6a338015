/** `flows.topN`: the largest groups by one key (an address pair, an instance, a port...), null keys left out. */
import { type FlowMetric, type FlowValue } from '../../domain/aggregate-enums.ts';
import { type TopNKey, topNDimensions } from '../../domain/flow-dimensions.ts';
import type { SqlQuery } from '../sql.ts';
import type { MetricBound } from '../../domain/metric-bound.ts';
import type { AggregateScope } from './aggregate-expressions.ts';
import type { RateWindow } from './aggregate-values-query.ts';
import { buildFlowGroupQuery } from './flow-breakdown-query.ts';

/** What to rank and how many to keep. */
export interface FlowTopNRequest {
  readonly by: TopNKey;
  readonly metric: FlowMetric;
  readonly values: readonly FlowValue[];
  readonly limit: number;
  readonly having?: readonly MetricBound[];
  readonly rate?: RateWindow | undefined;
}

/** Top `limit` groups by `metric`; a record whose key is null (a NODATA record has no address) is not a talker. */
export function buildFlowTopNQuery(scope: AggregateScope, req: FlowTopNRequest): SqlQuery {
  return buildFlowGroupQuery('flows.topN', scope, {
    dimensions: topNDimensions(req.by),
    values: req.values,
    orderBy: req.metric,
    limit: req.limit,
    skipNullKeys: true,
    ...(req.having ? { having: req.having } : {}),
    rate: req.rate,
  });
}
