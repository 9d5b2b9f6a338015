/**
 * The `trafficEdges` question: edge rows (derived `edges/` table, or computed from raw records) summed per client
 * endpoint, server endpoint, protocol and server port at a level, ordered, paged by offset (aggregates have no stable
 * keyset: a new file can reorder them), with the cost lens. Named `edges.top`.
 */
import { build, raw, sql, type SqlFragment, type SqlQuery } from '../store/sql.ts';
import type { EdgeLevel, EdgeOrder } from '../domain/connection-enums.ts';
import { endpointIdSql } from './endpoint-query.ts';

const ORDER_SQL: Record<EdgeOrder, string> = {
  BYTES: 'bytes_to_server + bytes_to_client',
  BYTES_TO_SERVER: 'bytes_to_server',
  BYTES_TO_CLIENT: 'bytes_to_client',
  CONNECTIONS: 'connections',
  RECORDS: 'records',
  REJECTED_RECORDS: 'rejected_records',
  LAST_SEEN: 'last_seen',
  CROSS_AZ_BYTES: 'cross_az_bytes',
  CROSS_REGION_BYTES: 'cross_region_bytes',
  NAT_BYTES: 'nat_bytes',
  INTERNET_BYTES: 'internet_bytes',
};

/**
 * What a page of edges computes: `measures` (the order's measures are always added) and, when `described`, the ends'
 * attributes and observed interfaces. Columns left out are absent from the rows.
 */
export interface EdgeColumns {
  readonly measures: readonly EdgeMeasure[];
  readonly described: boolean;
}

/** Input of edgeQuery. `rows` is a relation of edge rows already filtered (connectionRelationSql). */
export interface EdgeQueryInput {
  readonly rows: SqlFragment;
  readonly level: EdgeLevel;
  readonly orderBy: EdgeOrder;
  readonly limit: number;
  readonly offset: number;
  /** Default: every measure, described. */
  readonly columns?: EdgeColumns;
}

/** The one value of `col` in the group, or NULL when it has several (or none): min = max says so without a DISTINCT. */
const single = (col: string): string => `CASE WHEN min(${col}) = max(${col}) THEN min(${col}) END`;

function endpointColumns(side: 'client' | 'server'): string {
  const s = side;
  return [
    `min(${s}_kind) AS ${s}_kind`,
    `${single(`${s}_instance_id`)} AS ${s}_instance_id`,
    `${single(`${s}_interface_id`)} AS ${s}_interface_id`,
    `${single(`${s}_addr`)} AS ${s}_addr`,
    `${single(`${s}_subnet_id`)} AS ${s}_subnet_id`,
    `${single(`${s}_vpc_id`)} AS ${s}_vpc_id`,
    `${single(`${s}_az_id`)} AS ${s}_az_id`,
    `${single(`${s}_region`)} AS ${s}_region`,
    `${single(`${s}_account_id`)} AS ${s}_account_id`,
    `min(${s}_service) AS ${s}_service`,
  ].join(',\n       ');
}

/** What describes an edge's ends and where it was seen: string aggregates and a list, the costly part of a group. */
const DETAILS = `${endpointColumns('client')},
       ${endpointColumns('server')}`;
const OBSERVED = 'list_sort(list_distinct(flatten(list(observed_interfaces)))) AS observed_interfaces';

/** What an edge measures: sums, times and the direction method, cheap to compute for every group. */
const MEASURE_SQL = {
  bytes_to_server: 'coalesce(sum(bytes_to_server), 0)::BIGINT',
  bytes_to_client: 'coalesce(sum(bytes_to_client), 0)::BIGINT',
  packets_to_server: 'coalesce(sum(packets_to_server), 0)::BIGINT',
  packets_to_client: 'coalesce(sum(packets_to_client), 0)::BIGINT',
  connections: 'coalesce(sum(connections), 0)::BIGINT',
  records: 'coalesce(sum(records), 0)::BIGINT',
  rejected_records: 'coalesce(sum(rejected_records), 0)::BIGINT',
  first_seen: 'min(first_seen)',
  last_seen: 'max(last_seen)',
  direction_method: `CASE min(CASE method WHEN 'HANDSHAKE' THEN 1 WHEN 'PORT' THEN 2 ELSE 3 END)
            WHEN 1 THEN 'HANDSHAKE' WHEN 2 THEN 'PORT' ELSE 'UNKNOWN' END`,
  internet_bytes: 'coalesce(sum(internet_bytes), 0)::BIGINT',
  nat_bytes: `coalesce(sum(coalesce(bytes_to_server, 0) + coalesce(bytes_to_client, 0))
                FILTER (via_nat), 0)::BIGINT`,
  cross_az_bytes: `coalesce(sum(coalesce(bytes_to_server, 0) + coalesce(bytes_to_client, 0))
                FILTER (client_az_id <> server_az_id), 0)::BIGINT`,
  cross_region_bytes: `coalesce(sum(coalesce(bytes_to_server, 0) + coalesce(bytes_to_client, 0))
                FILTER (client_region <> server_region), 0)::BIGINT`,
} as const;

/** A measure of an edge: a column of edgeQuery's rows. */
export type EdgeMeasure = keyof typeof MEASURE_SQL;

/** Every measure, in column order. */
export const EDGE_MEASURES = Object.keys(MEASURE_SQL) as EdgeMeasure[];

/** The measures each order ranks by (a page always computes them). */
const ORDER_MEASURES: Record<EdgeOrder, readonly EdgeMeasure[]> = {
  BYTES: ['bytes_to_server', 'bytes_to_client'],
  BYTES_TO_SERVER: ['bytes_to_server'],
  BYTES_TO_CLIENT: ['bytes_to_client'],
  CONNECTIONS: ['connections'],
  RECORDS: ['records'],
  REJECTED_RECORDS: ['rejected_records'],
  LAST_SEEN: ['last_seen'],
  CROSS_AZ_BYTES: ['cross_az_bytes'],
  CROSS_REGION_BYTES: ['cross_region_bytes'],
  NAT_BYTES: ['nat_bytes'],
  INTERNET_BYTES: ['internet_bytes'],
};

const measuresSql = (measures: readonly EdgeMeasure[]): string =>
  EDGE_MEASURES.filter((m) => measures.includes(m))
    .map((m) => `${MEASURE_SQL[m]} AS ${m}`)
    .join(',\n       ');

const MEASURES = measuresSql(EDGE_MEASURES);

/** The grouping key of an edge; protocol and server_port may be NULL, so keys are matched with IS NOT DISTINCT FROM. */
const KEYS = ['client_id', 'server_id', 'protocol', 'server_port'] as const;
const sameKey = (a: string, b: string): string =>
  KEYS.map((k) => `${a}.${k} IS NOT DISTINCT FROM ${b}.${k}`).join(' AND ');

/** `rows` with each end's id at `level` in front. */
const withIds = (rows: SqlFragment, level: EdgeLevel): SqlFragment =>
  sql`SELECT ${endpointIdSql('client', level)} AS client_id, ${endpointIdSql('server', level)} AS server_id, * FROM ${rows}`;

/** SELECT of the aggregated edges (no ORDER/LIMIT), every group described: the diff compares all of them. */
export function edgeAggregateSql(rows: SqlFragment, level: EdgeLevel): SqlFragment {
  return sql`SELECT client_id, server_id, protocol, server_port,
       ${raw(DETAILS)},
       ${raw(MEASURES)},
       ${raw(OBSERVED)}
FROM (${withIds(rows, level)})
GROUP BY ALL`;
}

/**
 * One page of edges at a level: LIMIT limit + 1 rows so the caller knows whether there is a next page. Columns as
 * edgeAggregateSql (or fewer: `columns`). Groups are ranked on their measures alone, and only the page's groups are
 * described (ends, observed interfaces) in a second pass over their rows: describing every group first took most of
 * the time (54k instance edges of a 10M-record day: 1.7 s, against ~0.4 s for the measures). A page that is not
 * described reads the rows once, for the measures asked only: the rows' CTE is then read once, so DuckDB does not
 * materialize every column of every row (TAG level, top 10 app -> app edges of a 10M-record day: 2.3x the CPU of
 * the hand-written GROUP BY with everything, 1.0x without; bench:api).
 */
export function edgeQuery(input: EdgeQueryInput): SqlQuery {
  return build('edges.top', edgePageSql(input));
}

/** The order of edges by `orderBy`, over edgeQuery's columns (a wrapper that joins more columns sorts again by it). */
export function edgeRankingText(orderBy: EdgeOrder): string {
  return `${ORDER_SQL[orderBy]} DESC NULLS LAST, client_id, server_id, protocol, server_port`;
}

/** The statement of edgeQuery, unnamed (the dataset wraps it: named-ends-query.ts). */
export function edgePageSql(input: EdgeQueryInput): SqlFragment {
  const ranking = raw(edgeRankingText(input.orderBy));
  const columns = input.columns ?? { measures: EDGE_MEASURES, described: true };
  const measures = raw(measuresSql([...columns.measures, ...ORDER_MEASURES[input.orderBy]]));
  if (!columns.described) {
    return sql`SELECT * FROM (
  SELECT client_id, server_id, protocol, server_port,
         ${measures}
  FROM (${withIds(input.rows, input.level)})
  GROUP BY ALL
)
ORDER BY ${ranking}
LIMIT ${input.limit + 1} OFFSET ${input.offset}`;
  }
  return sql`WITH edge_rows AS (${withIds(input.rows, input.level)}),
page AS (
  SELECT * FROM (
    SELECT client_id, server_id, protocol, server_port,
           ${measures}
    FROM edge_rows
    GROUP BY ALL
  )
  ORDER BY ${ranking}
  LIMIT ${input.limit + 1} OFFSET ${input.offset}
),
described AS (
  SELECT client_id, server_id, protocol, server_port,
         ${raw(DETAILS)},
         ${raw(OBSERVED)}
  FROM edge_rows e SEMI JOIN page p ON ${raw(sameKey('e', 'p'))}
  GROUP BY ALL
)
SELECT * FROM (
  SELECT p.client_id, p.server_id, p.protocol, p.server_port,
         d.* EXCLUDE (client_id, server_id, protocol, server_port, observed_interfaces),
         p.* EXCLUDE (client_id, server_id, protocol, server_port),
         d.observed_interfaces
  FROM page p JOIN described d ON ${raw(sameKey('p', 'd'))}
)
ORDER BY ${ranking}`;
}

/**
 * `edges.totals`: all edge rows under a filter summed into one row: bytes and packets each counted once per
 * direction, connections, records, and the cost lens (cross-AZ, cross-region, through a NAT gateway, to the internet).
 */
export function edgeTotalsQuery(rows: SqlFragment): SqlQuery {
  const both = 'coalesce(bytes_to_server, 0) + coalesce(bytes_to_client, 0)';
  return build(
    'edges.totals',
    sql`SELECT coalesce(sum(${raw(both)}), 0)::BIGINT AS bytes,
       coalesce(sum(bytes_to_server), 0)::BIGINT AS bytes_to_server,
       coalesce(sum(bytes_to_client), 0)::BIGINT AS bytes_to_client,
       coalesce(sum(coalesce(packets_to_server, 0) + coalesce(packets_to_client, 0)), 0)::BIGINT AS packets,
       coalesce(sum(connections), 0)::BIGINT AS connections,
       coalesce(sum(records), 0)::BIGINT AS records,
       coalesce(sum(${raw(both)}) FILTER (client_az_id <> server_az_id), 0)::BIGINT AS cross_az_bytes,
       coalesce(sum(${raw(both)}) FILTER (client_region <> server_region), 0)::BIGINT AS cross_region_bytes,
       coalesce(sum(${raw(both)}) FILTER (via_nat), 0)::BIGINT AS nat_bytes,
       coalesce(sum(internet_bytes), 0)::BIGINT AS internet_bytes
FROM ${rows}`,
  );
}
