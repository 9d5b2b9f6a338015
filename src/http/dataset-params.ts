/**
 * BI datasets as flat query parameters (`/datasets/topn.csv?from=2024-05-01&to=2024-05-02&by=DST_PORT&limit=20`):
 * Power BI, Excel and Grafana build URLs, not GraphQL variables. Parameters map onto the same FlowFilter and the same
 * aggregate arguments as GraphQL and go through the same validation and limits; an error names the URL parameter.
 * Lists repeat the parameter or separate values by commas (`port=80,443&port=8000-8999`); enum values are
 * case-insensitive (`by=dst_port`).
 */
import { refusedConnectionFilter, type ConnectionTable } from '../analytics/connection-filter-query.ts';
import { EDGE_ORDERS } from '../analytics/edge-query.ts';
import { EDGE_LEVELS, HANDSHAKE_STATES } from '../analytics/connection-rules.ts';
import {
  AGGREGATE_LIMITS,
  FLOW_BOUNDS,
  FLOW_DIMENSIONS,
  FLOW_METRICS,
  TIME_INTERVALS,
  TOP_N_KEYS,
  checkBuckets,
  checkCount,
  checkRankBy,
  checkDimensions,
  type FlowValue,
  type TimeInterval,
} from '../domain/aggregate-enums.ts';
import { ForbiddenError } from '../domain/forbidden-error.ts';
import { validateFlowFilter, type FlowFilter, type FlowFilterOptions } from '../domain/flow-filter.ts';
import { InputError } from '../domain/input-error.ts';
import { protocolNumber } from '../domain/protocols.ts';
import type { DatasetName, DatasetRequest } from '../questions/dataset-export.ts';

/** Server settings the parser needs. */
export interface DatasetOptions extends Pick<
  FlowFilterOptions,
  'now' | 'latestDataEnd' | 'maxRangeMs' | 'scopeAccountIds'
> {
  /** Most rows of a row-level dataset (flows, handshakes, edges). */
  readonly maxRows: number;
}

/** URL parameter -> FlowFilter field; `parse` turns one text value into the filter's input shape. */
const FILTER_PARAMS: Readonly<Record<string, { field: string; parse?: (v: string, param: string) => unknown }>> = {
  accountId: { field: 'accountIds' },
  region: { field: 'regions' },
  vpcId: { field: 'vpcIds' },
  subnetId: { field: 'subnetIds' },
  instanceId: { field: 'instanceIds' },
  interfaceId: { field: 'interfaceIds' },
  srcAddr: { field: 'srcAddr' },
  dstAddr: { field: 'dstAddr' },
  addr: { field: 'addr' },
  cidr: { field: 'addr' },
  notSrcAddr: { field: 'notSrcAddr' },
  notDstAddr: { field: 'notDstAddr' },
  notAddr: { field: 'notAddr' },
  srcPort: { field: 'srcPort', parse: portRange },
  dstPort: { field: 'dstPort', parse: portRange },
  port: { field: 'port', parse: portRange },
  notPort: { field: 'notPorts', parse: portRange },
  notSrcPort: { field: 'notSrcPort', parse: portRange },
  notDstPort: { field: 'notDstPort', parse: portRange },
  protocol: { field: 'protocols', parse: protocol },
  notProtocol: { field: 'notProtocols', parse: protocol },
  action: { field: 'actions', parse: (v) => v.toUpperCase() },
  logStatus: { field: 'logStatuses', parse: (v) => v.toUpperCase() },
  flowDirection: { field: 'flowDirections', parse: (v) => v.toLowerCase() },
  trafficPath: { field: 'trafficPaths', parse: integerText },
  pktSrcAwsService: { field: 'pktSrcAwsServices' },
  pktDstAwsService: { field: 'pktDstAwsServices' },
};

/** `tcpFlagsAny=SYN&tcpFlagsNone=ACK`: the `any`, `all` and `none` lists of the filter's tcpFlags, by flag name. */
const TCP_FLAG_PARAMS = { tcpFlagsAny: 'any', tcpFlagsAll: 'all', tcpFlagsNone: 'none' } as const;

const DATASET_PARAMS: Readonly<Record<DatasetName, readonly string[]>> = {
  flows: ['limit'],
  summary: ['values'],
  timeseries: ['interval', 'values', 'by', 'maxSeries', 'rankBy'],
  topn: ['by', 'metric', 'values', 'limit'],
  breakdown: ['by', 'metric', 'values', 'limit'],
  handshakes: ['state', 'limit'],
  edges: ['level', 'orderBy', 'limit'],
};

function integerText(v: string): unknown {
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

function portRange(v: string, param: string): unknown {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) throw new InputError(param, 'a port or port range such as 443 or 1024-65535', v);
  return { from: Number(m[1]), to: m[2] === undefined ? Number(m[1]) : Number(m[2]) };
}

function protocol(v: string): unknown {
  return /^\d+$/.test(v) ? Number(v) : (protocolNumber(v) ?? v);
}

/** Every value of a parameter, split on commas, empty pieces dropped. */
function values(params: URLSearchParams, name: string): string[] {
  return params
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function single(params: URLSearchParams, name: string): string | null {
  const all = params.getAll(name);
  if (all.length > 1) throw new InputError(name, 'a single value', all);
  return all[0]?.trim() || null;
}

function enumValue<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[], fallback: T): T {
  const v = single(params, name);
  if (v === null) return fallback;
  const upper = v.toUpperCase().replaceAll('-', '_');
  if (!(allowed as readonly string[]).includes(upper)) throw new InputError(name, `one of ${allowed.join(', ')}`, v);
  return upper as T;
}

function enumList<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[]): T[] | null {
  const list = values(params, name);
  if (list.length === 0) return null;
  return list.map((v, i) => {
    const upper = v.toUpperCase().replaceAll('-', '_');
    if (!(allowed as readonly string[]).includes(upper))
      throw new InputError(`${name}[${i}]`, `one of ${allowed.join(', ')}`, v);
    return upper as T;
  });
}

/** The window's parameters, as in GraphQL's `TimeRangeInput`. */
const TIME_PARAMS = ['from', 'to', 'last', 'latestDay'] as const;

/** A boolean parameter: `true`/`false` (`1`/`0`, or present without a value, as in `?latestDay`). */
function flag(params: URLSearchParams, name: string): boolean | null {
  if (!params.has(name)) return null;
  const v = single(params, name) ?? '';
  if (v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InputError(name, 'true or false', v);
}

function count(params: URLSearchParams, name: string, fallback: number, max: number): number {
  const v = single(params, name);
  if (v === null) return Math.min(fallback, max);
  if (!/^\d+$/.test(v)) throw new InputError(name, `an integer from 1 to ${max}`, v);
  return checkCount(name, Number(v), 1, max);
}

const ALL_VALUES: readonly FlowValue[] = [...FLOW_METRICS, ...FLOW_BOUNDS];

/** Renames a filter error's argument path (`filter.accountIds[1]`) to the URL parameter that carried it. */
function asParameterError(err: unknown, byField: ReadonlyMap<string, string>): unknown {
  if (!(err instanceof InputError) && !(err instanceof ForbiddenError)) return err;
  const m = /^filter\.(\w+)(.*)$/.exec(err.argument);
  if (!m) return err;
  const flagList = m[1] === 'tcpFlags' ? /^\.(any|all|none)/.exec(m[2]!)?.[1] : undefined;
  const param =
    m[1] === 'timeRange'
      ? (/^\.(from|to|last|latestDay)/.exec(m[2]!)?.[1] ?? 'from')
      : flagList
        ? Object.entries(TCP_FLAG_PARAMS).find(([, list]) => list === flagList)![0]
        : (byField.get(m[1]!) ?? m[1]!);
  if (err instanceof ForbiddenError) return new ForbiddenError(param, err.accountId);
  const renamed = new InputError(param, err.expected);
  renamed.message = err.message.replace(`Invalid ${err.argument}:`, `Invalid ${param}:`);
  return renamed;
}

/** Whether the filter's tcpFlags list behind URL parameter `param` is set. */
function filterParamPresent(filter: FlowFilter, param: string): boolean {
  const list = TCP_FLAG_PARAMS[param as keyof typeof TCP_FLAG_PARAMS];
  return Boolean(filter.tcpFlags && filter.tcpFlags[list]);
}

/** Refuses, naming its URL parameter, a filter field a connection dataset cannot honour (connection-filter-query.ts). */
function refuseConnectionFilter(filter: FlowFilter, table: ConnectionTable): void {
  const refused = refusedConnectionFilter(filter, table);
  if (!refused) return;
  const param =
    refused.field === 'tcpFlags'
      ? (Object.keys(TCP_FLAG_PARAMS).find((p) => filterParamPresent(filter, p)) ?? 'tcpFlagsAny')
      : (Object.entries(FILTER_PARAMS).find(([, spec]) => spec.field === refused.field)?.[0] ?? refused.field);
  throw new InputError(param, `no ${param} on ${table}: ${refused.reason}`);
}

/** The filter of a dataset URL, validated as GraphQL validates `filter`. */
export function parseDatasetFilter(params: URLSearchParams, options: FlowFilterOptions): FlowFilter {
  const input: Record<string, unknown> = {};
  const byField = new Map<string, string>();
  for (const [param, spec] of Object.entries(FILTER_PARAMS)) {
    const list = values(params, param);
    if (list.length === 0) continue;
    const parsed = list.map((v) => (spec.parse ? spec.parse(v, param) : v));
    input[spec.field] = [...((input[spec.field] as unknown[] | undefined) ?? []), ...parsed];
    byField.set(spec.field, param);
  }
  const flags: Record<string, string[]> = {};
  for (const [param, list] of Object.entries(TCP_FLAG_PARAMS)) {
    const names = values(params, param).map((v) => v.toUpperCase());
    if (names.length > 0) flags[list] = names;
  }
  if (Object.keys(flags).length > 0) {
    input.tcpFlags = flags;
    byField.set('tcpFlags', Object.entries(TCP_FLAG_PARAMS).find(([, list]) => flags[list])![0]);
  }
  const window = {
    from: single(params, 'from'),
    to: single(params, 'to'),
    last: single(params, 'last'),
    latestDay: flag(params, 'latestDay'),
  };
  if (Object.values(window).some((v) => v !== null)) input.timeRange = window;
  try {
    return validateFlowFilter(input, { ...options, argument: 'filter' });
  } catch (err) {
    throw asParameterError(err, byField);
  }
}

/** Validates the parameters of `/datasets/<dataset>.*`; throws InputError (or ForbiddenError) naming the parameter. */
export function parseDatasetRequest(
  dataset: DatasetName,
  params: URLSearchParams,
  options: DatasetOptions,
): DatasetRequest {
  const known = new Set([
    ...TIME_PARAMS,
    ...Object.keys(FILTER_PARAMS),
    ...Object.keys(TCP_FLAG_PARAMS),
    ...DATASET_PARAMS[dataset],
  ]);
  for (const name of new Set(params.keys())) {
    if (!known.has(name)) throw new InputError(name, `one of the ${dataset} parameters ${[...known].join(', ')}`);
  }
  const filter = parseDatasetFilter(params, options);
  if (dataset === 'handshakes' || dataset === 'edges') refuseConnectionFilter(filter, dataset);
  const valueList = (fallback: readonly FlowValue[]) => enumList(params, 'values', ALL_VALUES) ?? fallback;
  switch (dataset) {
    case 'flows':
      return { dataset, filter, limit: count(params, 'limit', options.maxRows, options.maxRows) };
    case 'summary':
      return { dataset, filter, values: valueList(ALL_VALUES) };
    case 'timeseries': {
      const interval = enumValue(params, 'interval', Object.keys(TIME_INTERVALS) as TimeInterval[], 'HOUR');
      checkBuckets('interval', filter.timeRange, interval);
      const dimension = single(params, 'by') === null ? null : enumValue(params, 'by', FLOW_DIMENSIONS, 'SRC_ADDR');
      const groupBy = dimension
        ? {
            dimension,
            maxSeries: count(params, 'maxSeries', 10, AGGREGATE_LIMITS.maxSeries),
            rankBy: checkRankBy('rankBy', enumValue(params, 'rankBy', FLOW_METRICS, 'BYTES')),
          }
        : null;
      return { dataset, filter, interval, values: valueList(['RECORDS', 'BYTES', 'PACKETS']), groupBy };
    }
    case 'topn':
      return {
        dataset,
        filter,
        by: enumValue(params, 'by', TOP_N_KEYS, 'ADDRESS_PAIR'),
        metric: enumValue(params, 'metric', FLOW_METRICS, 'BYTES'),
        values: valueList(['RECORDS', 'BYTES', 'PACKETS']),
        limit: count(params, 'limit', 10, AGGREGATE_LIMITS.maxTopN),
      };
    case 'breakdown': {
      const dims = enumList(params, 'by', FLOW_DIMENSIONS);
      if (!dims)
        throw new InputError(
          'by',
          `1 to ${AGGREGATE_LIMITS.maxBreakdownDimensions} dimensions of ${FLOW_DIMENSIONS.join(', ')}`,
        );
      return {
        dataset,
        filter,
        dimensions: checkDimensions('by', dims),
        orderBy: enumValue(params, 'metric', FLOW_METRICS, 'BYTES'),
        values: valueList(['RECORDS', 'BYTES', 'PACKETS']),
        limit: count(params, 'limit', 100, AGGREGATE_LIMITS.maxBreakdownRows),
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
        level: enumValue(params, 'level', EDGE_LEVELS, 'INSTANCE'),
        orderBy: enumValue(params, 'orderBy', EDGE_ORDERS, 'BYTES'),
        limit: count(params, 'limit', 1000, options.maxRows),
      };
  }
}
