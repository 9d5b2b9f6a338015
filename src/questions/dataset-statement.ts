/**
 * Which statement answers a BI dataset request: its validated shape (DatasetRequest, as dataset-params.ts builds it)
 * and, for every dataset but flows (written in runs by dataset-export.ts), the same builders GraphQL uses over the
 * request's tenant-scoped manifest.
 */
import type { FlowFilter } from '../domain/flow-filter.ts';
import { costGroupQuery } from '../analytics/cost-query.ts';
import { edgePageSql, edgeRankingText } from '../analytics/edge-query.ts';
import { HANDSHAKE_ORDER, handshakePageSql } from '../analytics/handshake-query.ts';
import { namedEndsSql } from '../analytics/named-ends-query.ts';
import type { CostGroup, CostOrder, EdgeLevel, EdgeOrder, HandshakeState } from '../domain/connection-enums.ts';
import { type FlowMetric, type FlowValue, type TimeInterval, FLOW_VALUES } from '../domain/aggregate-enums.ts';
import { topNDimensions, type FlowDimension, type TopNKey } from '../domain/flow-dimensions.ts';
import type { MetricBound } from '../domain/metric-bound.ts';
import { buildFlowBreakdownQuery } from '../store/queries/flow-breakdown-query.ts';
import { buildFlowSummaryQuery } from '../store/queries/flow-summary-query.ts';
import { buildFlowTimeSeriesQuery } from '../store/queries/flow-time-series-query.ts';
import { buildFlowTopNQuery } from '../store/queries/flow-top-n-query.ts';
import { type QueryContext } from '../store/query-runner.ts';
import { aggregateScope, rateWindow } from './aggregate-reader.ts';
import { build, type SqlQuery } from '../store/sql.ts';
import { connectionRows, groupedEdgeRows } from './connection-rows.ts';
import { nameSources } from './name-sources.ts';

/** Dataset names, as in `/datasets/<name>.<format>`. */
export const DATASET_NAMES = [
  'flows',
  'summary',
  'timeseries',
  'topn',
  'breakdown',
  'handshakes',
  'edges',
  'cost',
] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** A validated dataset request. */
export type DatasetRequest =
  | { readonly dataset: 'flows'; readonly filter: FlowFilter; readonly limit: number }
  | {
      readonly dataset: 'summary';
      readonly filter: FlowFilter;
      readonly values: readonly FlowValue[];
      readonly rateInterval: TimeInterval;
    }
  | {
      readonly dataset: 'timeseries';
      readonly filter: FlowFilter;
      readonly interval: TimeInterval;
      readonly values: readonly FlowValue[];
      readonly groupBy: {
        readonly dimension: FlowDimension;
        readonly maxSeries: number;
        readonly rankBy: FlowMetric;
      } | null;
      /** The tag key of INSTANCE_TAG (`byTagKey`; groupTagKey). */
      readonly tagKey: string | null;
    }
  | {
      readonly dataset: 'topn';
      readonly filter: FlowFilter;
      readonly by: TopNKey;
      readonly tagKey: string | null;
      readonly metric: FlowMetric;
      readonly values: readonly FlowValue[];
      readonly limit: number;
      readonly having: readonly MetricBound[];
      readonly rateInterval: TimeInterval;
    }
  | {
      readonly dataset: 'breakdown';
      readonly filter: FlowFilter;
      readonly dimensions: readonly FlowDimension[];
      readonly tagKey: string | null;
      readonly orderBy: FlowMetric;
      readonly values: readonly FlowValue[];
      readonly limit: number;
      readonly having: readonly MetricBound[];
      readonly rateInterval: TimeInterval;
    }
  | {
      readonly dataset: 'handshakes';
      readonly filter: FlowFilter;
      readonly states: readonly HandshakeState[] | null;
      readonly limit: number;
    }
  | {
      readonly dataset: 'edges';
      readonly filter: FlowFilter;
      readonly level: EdgeLevel;
      /** The tag key of level TAG (edge-grouping.ts). */
      readonly tagKey: string | null;
      readonly orderBy: EdgeOrder;
      readonly limit: number;
    }
  | {
      readonly dataset: 'cost';
      readonly filter: FlowFilter;
      readonly groupBy: CostGroup;
      readonly level: EdgeLevel;
      readonly tagKey: string | null;
      readonly orderBy: CostOrder;
      readonly limit: number;
    };

const ordered = (values: readonly FlowValue[]): FlowValue[] => FLOW_VALUES.filter((v) => values.includes(v));

/** The statement answering `req` (any dataset but flows: see writeFlows) and how many of its rows the dataset keeps. */
export async function datasetStatement(
  ctx: QueryContext,
  req: Exclude<DatasetRequest, { dataset: 'flows' }>,
): Promise<{ query: SqlQuery; limit: number }> {
  switch (req.dataset) {
    case 'summary': {
      const values = ordered(req.values);
      const rate = rateWindow(req.filter, values, req.rateInterval);
      const scope = await aggregateScope(ctx, req.filter, { values, rateInterval: rate?.interval });
      return { query: buildFlowSummaryQuery(scope, values, rate), limit: Number.MAX_SAFE_INTEGER };
    }
    case 'timeseries': {
      const values = ordered(req.values);
      const needs = {
        interval: req.interval,
        dimensions: req.groupBy ? [req.groupBy.dimension] : [],
        values: ordered([...values, ...(req.groupBy ? [req.groupBy.rankBy] : [])]),
      };
      const scope = await aggregateScope(ctx, req.filter, needs, req.tagKey);
      const query = buildFlowTimeSeriesQuery(scope, {
        interval: req.interval,
        values,
        ...(req.groupBy ? { groupBy: req.groupBy } : {}),
      });
      return { query, limit: Number.MAX_SAFE_INTEGER };
    }
    case 'topn': {
      const values = ordered([req.metric, ...req.values, ...req.having.map((b) => b.metric)]);
      const rate = rateWindow(req.filter, values, req.rateInterval);
      const needs = { dimensions: topNDimensions(req.by), values, rateInterval: rate?.interval };
      const scope = await aggregateScope(ctx, req.filter, needs, req.tagKey);
      return {
        query: buildFlowTopNQuery(scope, {
          by: req.by,
          metric: req.metric,
          values,
          limit: req.limit,
          having: req.having,
          rate,
        }),
        limit: req.limit,
      };
    }
    case 'breakdown': {
      const values = ordered([req.orderBy, ...req.values, ...req.having.map((b) => b.metric)]);
      const rate = rateWindow(req.filter, values, req.rateInterval);
      const needs = { dimensions: req.dimensions, values, rateInterval: rate?.interval };
      const scope = await aggregateScope(ctx, req.filter, needs, req.tagKey);
      const query = buildFlowBreakdownQuery(scope, {
        dimensions: req.dimensions,
        orderBy: req.orderBy,
        values,
        limit: req.limit,
        having: req.having,
        rate,
      });
      return { query, limit: req.limit };
    }
    // Connection downloads name their ends as GraphQL does (name, AWS service, network), at the row's time.
    case 'handshakes': {
      const { rows } = await connectionRows(ctx, req.filter, 'handshakes');
      const page = handshakePageSql({ rows, states: req.states, first: req.limit, after: null });
      const names = await nameSources(ctx, req.filter);
      return {
        query: build('handshakes.page', namedEndsSql(page, 'start_time', names, HANDSHAKE_ORDER)),
        limit: req.limit,
      };
    }
    case 'edges': {
      const { rows } = await groupedEdgeRows(ctx, req.filter, req);
      const page = edgePageSql({ rows, level: req.level, orderBy: req.orderBy, limit: req.limit, offset: 0 });
      const names = await nameSources(ctx, req.filter);
      const order = edgeRankingText(req.orderBy);
      return { query: build('edges.top', namedEndsSql(page, 'first_seen', names, order)), limit: req.limit };
    }
    case 'cost': {
      const { rows } = await groupedEdgeRows(ctx, req.filter, req);
      const { groupBy, level, orderBy, limit } = req;
      return { query: costGroupQuery({ rows, groupBy, level, orderBy, limit }), limit };
    }
  }
}
