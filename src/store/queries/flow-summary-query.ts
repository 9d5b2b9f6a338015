/** `flows.summary`: totals over every record matching a filter, only for the metrics a client asked for. */
import { FLOW_BOUNDS, FLOW_METRICS, type FlowValue } from '../../domain/aggregate-enums.ts';
import { build, join, sql, type SqlQuery } from '../sql.ts';
import { type AggregateScope, uniqueValues, valueSelect } from './aggregate-expressions.ts';

const VALUE_ORDER: readonly FlowValue[] = [...FLOW_METRICS, ...FLOW_BOUNDS];

/** One row with a `m_<value>` column per requested value. */
export function buildFlowSummaryQuery(scope: AggregateScope, values: readonly FlowValue[]): SqlQuery {
  const wanted = uniqueValues(values, VALUE_ORDER);
  if (wanted.length === 0) throw new Error('flows.summary: no values requested');
  const select = join(wanted.map(valueSelect(scope)), ', ');
  return build('flows.summary', sql`SELECT ${select} FROM ${scope.source} WHERE ${scope.where}`);
}
