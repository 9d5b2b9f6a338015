/**
 * BI datasets as flat query parameters (`/datasets/topn.csv?from=2024-05-01&to=2024-05-02&by=DST_PORT&limit=20`):
 * Power BI, Excel and Grafana build URLs, not GraphQL variables. Parameters map onto the same FlowFilter and the same
 * aggregate arguments as GraphQL and go through the same validation and limits; an error names the URL parameter.
 * Lists repeat the parameter or separate values by commas (`port=80,443&port=8000-8999`); enum values are
 * case-insensitive (`by=dst_port`).
 */
import {
  AGGREGATE_LIMITS,
  FLOW_METRICS,
  TIME_INTERVALS,
  checkBuckets,
  checkRankBy,
  checkDimensions,
  checkRateBuckets,
  checkSeriesValues,
  isRateMetric,
  type FlowValue,
  type TimeInterval,
  FLOW_VALUES,
} from '../domain/aggregate-enums.ts';
import { FLOW_DIMENSIONS, TOP_N_KEYS, groupTagKey, topNDimensions } from '../domain/flow-dimensions.ts';
import {
  COST_GROUPS,
  COST_ORDERS,
  EDGE_LEVELS,
  EDGE_ORDERS,
  HANDSHAKE_STATES,
  type ConnectionTable,
} from '../domain/connection-enums.ts';
import {
  FILTER_FIELD_NAMES,
  FILTER_FIELDS,
  type FilterField,
  type FilterFieldSpec,
  type FilterParam,
} from '../domain/filter-fields.ts';
import { edgeGrouping, type EdgeGrouping } from '../domain/edge-grouping.ts';
import { ForbiddenError } from '../domain/forbidden-error.ts';
import {
  DEFAULT_MAX_RANGE_MS,
  TIER_RANGE_SETTING,
  validateFlowFilter,
  type FlowFilter,
  type FlowFilterOptions,
} from '../domain/flow-filter.ts';
import { InputError } from '../domain/input-error.ts';
import { metricBoundsFromText } from '../domain/metric-bound.ts';
import { count, enumList, enumValue, flag, single, values } from './url-params.ts';
import { checkConnectionFilter } from '../questions/connection-rows.ts';
import type { DatasetName, DatasetRequest } from '../questions/dataset-statement.ts';

/** Server settings the parser needs. */
export interface DatasetOptions extends Pick<
  FlowFilterOptions,
  'now' | 'latestDataEnd' | 'maxRangeMs' | 'scopeAccountIds' | 'referenceTables' | 'inventorySnapshots'
> {
  /** Most rows of a row-level dataset (flows, handshakes, edges). */
  readonly maxRows: number;
  /** Longest window of an aggregate dataset the rollup tiers answer (--max-tier-range-days); absent: maxRangeMs. */
  readonly maxTierRangeMs?: number;
}

/** Datasets answered by aggregates (src/questions/aggregate-reader.ts), which may read the rollup tiers. */
/** Datasets the rollup tiers may answer over their longer window (edges and cost: edges_daily, connection-rows.ts). */
const AGGREGATE_DATASETS: ReadonlySet<DatasetName> = new Set([
  'summary',
  'timeseries',
  'topn',
  'breakdown',
  'edges',
  'cost',
]);

/** Where a filter URL parameter goes: a FILTER_FIELDS field, or one part of it (`tcpFlagsAny` -> `tcpFlags.any`). */
interface FilterParamTarget {
  readonly field: FilterField;
  readonly part: string | null;
  readonly spec: FilterParam;
}

/** Every filter URL parameter and alias, generated from FILTER_FIELDS (src/domain/filter-fields.ts). */
const FILTER_PARAMS: ReadonlyMap<string, FilterParamTarget> = new Map(
  FILTER_FIELD_NAMES.flatMap((field) => {
    const url: FilterFieldSpec<unknown>['url'] = FILTER_FIELDS[field].url;
    const targets: FilterParamTarget[] =
      'parts' in url
        ? Object.entries(url.parts).map(([part, spec]) => ({ field, part, spec }))
        : [{ field, part: null, spec: url }];
    return targets.flatMap((t) => [t.spec.param, ...(t.spec.aliases ?? [])].map((name) => [name, t] as const));
  }),
);

const DATASET_PARAMS: Readonly<Record<DatasetName, readonly string[]>> = {
  flows: ['limit'],
  summary: ['values', 'rateInterval'],
  timeseries: ['interval', 'values', 'by', 'byTagKey', 'maxSeries', 'rankBy'],
  topn: ['by', 'byTagKey', 'metric', 'values', 'limit', 'having', 'rateInterval'],
  breakdown: ['by', 'byTagKey', 'metric', 'values', 'limit', 'having', 'rateInterval'],
  handshakes: ['state', 'limit'],
  edges: ['level', 'levelTagKey', 'orderBy', 'limit'],
  cost: ['groupBy', 'level', 'levelTagKey', 'orderBy', 'limit'],
};

/**
 * `level` and, for `level=TAG`, its key: `levelTagKey` (GraphQL's `tagKey`; `tagKey` is the filter's tag in URLs).
 */
function grouping(params: URLSearchParams): EdgeGrouping {
  return edgeGrouping(
    enumValue(params, 'level', EDGE_LEVELS, 'INSTANCE'),
    single(params, 'levelTagKey'),
    'levelTagKey',
  );
}

/** The window's parameters, as in GraphQL's `TimeRangeInput`. */
const TIME_PARAMS = ['from', 'to', 'last', 'latestDay'] as const;

/** `field` or `field.part`: the key under which the parameters a request used are remembered. */
const targetKey = (t: FilterParamTarget): string => (t.part ? `${t.field}.${t.part}` : t.field);

/**
 * The URL parameter behind a filter argument path (`filter.tcpFlags.any[0]` -> `tcpFlagsAny`): the one the request
 * used, else the field's own parameter.
 */
function parameterOf(path: string, used: ReadonlyMap<string, string>): string | null {
  const m = /^filter\.(\w+)(?:\.(\w+))?/.exec(path);
  if (!m) return null;
  const [, field, part] = m;
  if (field === 'timeRange') return (TIME_PARAMS as readonly string[]).includes(part ?? '') ? part! : 'from';
  const named = used.get(`${field}.${part}`) ?? used.get(field!);
  if (named) return named;
  const own = [...FILTER_PARAMS].find(
    ([name, t]) => t.field === field && (!t.part || t.part === part) && name === t.spec.param,
  );
  return own?.[0] ?? null;
}

/** Renames a filter error's argument path (`filter.accountIds[1]`) to the URL parameter that carried it. */
function asParameterError(err: unknown, used: ReadonlyMap<string, string>): unknown {
  if (!(err instanceof InputError) && !(err instanceof ForbiddenError)) return err;
  const param = parameterOf(err.argument, used);
  if (!param) return err;
  if (err instanceof ForbiddenError) return new ForbiddenError(param, err.accountId);
  const renamed = new InputError(param, err.expected);
  renamed.message = err.message.replace(`Invalid ${err.argument}:`, `Invalid ${param}:`);
  return renamed;
}

/** A parsed filter and, per field (or `field.part`), the URL parameter that set it. */
interface DatasetFilter {
  readonly filter: FlowFilter;
  readonly used: ReadonlyMap<string, string>;
}

/** Refuses, naming its URL parameter, a filter field a connection dataset cannot honour (checkConnectionFilter). */
function refuseConnectionFilter({ filter, used }: DatasetFilter, table: ConnectionTable): void {
  const refused = checkConnectionFilter(filter, table);
  if (!refused) return;
  const param = [...used].find(([key]) => key === refused.field || key.startsWith(`${refused.field}.`))?.[1];
  const name = param ?? refused.field;
  throw new InputError(name, `no ${name} on ${table}: ${refused.reason}`);
}

function readDatasetFilter(params: URLSearchParams, options: FlowFilterOptions): DatasetFilter {
  const input: Record<string, unknown> = {};
  const used = new Map<string, string>();
  for (const [name, target] of FILTER_PARAMS) {
    const texts = target.spec.single ? [single(params, name)].filter((v) => v !== null) : values(params, name);
    if (texts.length === 0) continue;
    const parsed = texts.map((v) => (target.spec.text ? target.spec.text(v, name) : v));
    const key = targetKey(target);
    if (target.spec.single) {
      const other = used.get(key);
      if (other) throw new InputError(name, `a single value (${other} already sets it)`, texts[0]);
      input[target.field] = target.part
        ? { ...((input[target.field] ?? {}) as object), [target.part]: parsed[0] }
        : parsed[0];
    } else if (target.part) {
      const parts = (input[target.field] ?? {}) as Record<string, unknown[]>;
      input[target.field] = { ...parts, [target.part]: [...(parts[target.part] ?? []), ...parsed] };
    } else {
      input[target.field] = [...((input[target.field] as unknown[] | undefined) ?? []), ...parsed];
    }
    used.set(key, used.get(key) ?? name);
  }
  const window = {
    from: single(params, 'from'),
    to: single(params, 'to'),
    last: single(params, 'last'),
    latestDay: flag(params, 'latestDay'),
  };
  if (Object.values(window).some((v) => v !== null)) input.timeRange = window;
  try {
    return { filter: validateFlowFilter(input, { ...options, argument: 'filter' }), used };
  } catch (err) {
    throw asParameterError(err, used);
  }
}

/** The filter of a dataset URL, validated as GraphQL validates `filter`. */
export function parseDatasetFilter(params: URLSearchParams, options: FlowFilterOptions): FlowFilter {
  return readDatasetFilter(params, options).filter;
}

/** Validates the parameters of `/datasets/<dataset>.*`; throws InputError (or ForbiddenError) naming the parameter. */
export function parseDatasetRequest(
  dataset: DatasetName,
  params: URLSearchParams,
  options: DatasetOptions,
): DatasetRequest {
  const known = new Set([...TIME_PARAMS, ...FILTER_PARAMS.keys(), ...DATASET_PARAMS[dataset]]);
  for (const name of new Set(params.keys())) {
    if (!known.has(name)) throw new InputError(name, `one of the ${dataset} parameters ${[...known].join(', ')}`);
  }
  // An aggregate may span the tiers' window; its reader holds it to the records' one when it must read records.
  const tierRangeMs = options.maxTierRangeMs ?? 0;
  const tiered = AGGREGATE_DATASETS.has(dataset) && tierRangeMs > (options.maxRangeMs ?? DEFAULT_MAX_RANGE_MS);
  const parsed = readDatasetFilter(
    params,
    tiered ? { ...options, maxRangeMs: tierRangeMs, maxRangeSetting: TIER_RANGE_SETTING } : options,
  );
  if (dataset === 'handshakes' || dataset === 'edges') refuseConnectionFilter(parsed, dataset);
  const { filter } = parsed;
  const valueList = (fallback: readonly FlowValue[]) => enumList(params, 'values', FLOW_VALUES) ?? fallback;
  const intervals = Object.keys(TIME_INTERVALS) as TimeInterval[];
  // The rate buckets are checked against the limit only when a rate is computed (as in GraphQL).
  const rateInterval = (values: readonly FlowValue[]): TimeInterval => {
    const interval = enumValue(params, 'rateInterval', intervals, 'FIVE_MINUTES');
    if (values.some(isRateMetric)) checkRateBuckets('rateInterval', filter.timeRange, interval);
    return interval;
  };
  const having = () => metricBoundsFromText('having', values(params, 'having'), FLOW_METRICS);
  switch (dataset) {
    case 'flows':
      return { dataset, filter, limit: count(params, 'limit', options.maxRows, options.maxRows) };
    case 'summary': {
      // By default the columns a summary always had: a dashboard built on them keeps its shape, and the newer
      // metrics (averages, extremes, rates, destination ports) are asked for by name.
      const summaryValues = valueList([
        'RECORDS',
        'BYTES',
        'PACKETS',
        'ACCEPTED_RECORDS',
        'REJECTED_RECORDS',
        'NODATA_RECORDS',
        'SKIPDATA_RECORDS',
        'DISTINCT_SRC_ADDRS',
        'DISTINCT_DST_ADDRS',
        'DISTINCT_INTERFACES',
        'FIRST_SEEN',
        'LAST_SEEN',
      ]);
      return { dataset, filter, values: summaryValues, rateInterval: rateInterval(summaryValues) };
    }
    case 'timeseries': {
      const interval = enumValue(params, 'interval', intervals, 'HOUR');
      checkBuckets('interval', filter.timeRange, interval);
      const dimension = single(params, 'by') === null ? null : enumValue(params, 'by', FLOW_DIMENSIONS, 'SRC_ADDR');
      const groupBy = dimension
        ? {
            dimension,
            maxSeries: count(params, 'maxSeries', 10, AGGREGATE_LIMITS.maxSeries),
            rankBy: checkRankBy('rankBy', enumValue(params, 'rankBy', FLOW_METRICS, 'BYTES')),
          }
        : null;
      const seriesValues = checkSeriesValues('values', valueList(['RECORDS', 'BYTES', 'PACKETS']));
      const tagKey = groupTagKey(dimension ? [dimension] : [], single(params, 'byTagKey'), 'byTagKey');
      return { dataset, filter, interval, values: seriesValues, groupBy, tagKey };
    }
    case 'topn': {
      const metric = enumValue(params, 'metric', FLOW_METRICS, 'BYTES');
      const topValues = valueList(['RECORDS', 'BYTES', 'PACKETS']);
      const bounds = having();
      const by = enumValue(params, 'by', TOP_N_KEYS, 'ADDRESS_PAIR');
      return {
        dataset,
        filter,
        by,
        tagKey: groupTagKey(topNDimensions(by), single(params, 'byTagKey'), 'byTagKey'),
        metric,
        values: topValues,
        limit: count(params, 'limit', 10, AGGREGATE_LIMITS.maxTopN),
        having: bounds,
        rateInterval: rateInterval([metric, ...topValues, ...bounds.map((b) => b.metric)]),
      };
    }
    case 'breakdown': {
      const dims = enumList(params, 'by', FLOW_DIMENSIONS);
      if (!dims)
        throw new InputError(
          'by',
          `1 to ${AGGREGATE_LIMITS.maxBreakdownDimensions} dimensions of ${FLOW_DIMENSIONS.join(', ')}`,
        );
      const orderBy = enumValue(params, 'metric', FLOW_METRICS, 'BYTES');
      const groupValues = valueList(['RECORDS', 'BYTES', 'PACKETS']);
      const bounds = having();
      return {
        dataset,
        filter,
        dimensions: checkDimensions('by', dims),
        tagKey: groupTagKey(dims, single(params, 'byTagKey'), 'byTagKey'),
        orderBy,
        values: groupValues,
        limit: count(params, 'limit', 100, AGGREGATE_LIMITS.maxBreakdownRows),
        having: bounds,
        rateInterval: rateInterval([orderBy, ...groupValues, ...bounds.map((b) => b.metric)]),
      };
    }
    case 'handshakes':
      return {
        dataset,
        filter,
        states: enumList(params, 'state', HANDSHAKE_STATES),
        limit: count(params, 'limit', 10_000, options.maxRows),
      };
    case 'edges':
      return {
        dataset,
        filter,
        ...grouping(params),
        orderBy: enumValue(params, 'orderBy', EDGE_ORDERS, 'BYTES'),
        limit: count(params, 'limit', 1000, options.maxRows),
      };
    case 'cost':
      // The groups are sums of edge rows (cost-query.ts), so the edges' filter rules apply.
      refuseConnectionFilter(parsed, 'edges');
      return {
        dataset,
        filter,
        groupBy: enumValue(params, 'groupBy', COST_GROUPS, 'SENDER'),
        ...grouping(params),
        orderBy: enumValue(params, 'orderBy', COST_ORDERS, 'BYTES'),
        limit: count(params, 'limit', 1000, options.maxRows),
      };
  }
}
