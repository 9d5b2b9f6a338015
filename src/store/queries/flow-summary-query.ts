/** `flows.summary`: totals over every record matching a filter, only for the metrics a client asked for. */
import { type FlowValue, FLOW_VALUES } from '../../domain/aggregate-enums.ts';
import { build, type SqlQuery } from '../sql.ts';
import { type AggregateScope, uniqueValues } from './aggregate-expressions.ts';
import { aggregateValuesSql, type RateWindow } from './aggregate-values-query.ts';

/** One row with a `m_<value>` column per requested value; `rate` is needed for rate metrics. */
export function buildFlowSummaryQuery(
  scope: AggregateScope,
  values: readonly FlowValue[],
  rate?: RateWindow,
): SqlQuery {
  const wanted = uniqueValues(values, FLOW_VALUES);
  if (wanted.length === 0) throw new Error('flows.summary: no values requested');
  return build('flows.summary', aggregateValuesSql(scope, { dimensions: [], values: wanted, rate }));
}
