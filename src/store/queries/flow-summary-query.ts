/** `flows.summary`: totals over every record matching a filter, only for the metrics a client asked for. */
import { FLOW_BOUNDS, FLOW_METRICS, type FlowValue } from '../../domain/aggregate-enums.ts';
import { build, type SqlQuery } from '../sql.ts';
import { type AggregateScope, uniqueValues } from './aggregate-expressions.ts';
import { aggregateValuesSql, type RateWindow } from './aggregate-values-query.ts';

const VALUE_ORDER: readonly FlowValue[] = [...FLOW_METRICS, ...FLOW_BOUNDS];

/** One row with a `m_<value>` column per requested value; `rate` is needed for rate metrics. */
export function buildFlowSummaryQuery(
  scope: AggregateScope,
  values: readonly FlowValue[],
  rate?: RateWindow,
): SqlQuery {
  const wanted = uniqueValues(values, VALUE_ORDER);
  if (wanted.length === 0) throw new Error('flows.summary: no values requested');
  return build('flows.summary', aggregateValuesSql(scope, { dimensions: [], values: wanted, rate }));
}
