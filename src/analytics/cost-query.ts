/**
 * `edges.cost`: the cost lens of trafficCost (docs/semantics.md §6) split into groups, largest first. Named
 * `edges.cost.sender` and `edges.cost.pair`.
 *
 * - SENDER: each direction's bytes belong to the end that sent them at the level: an edge row's bytes to the server
 *   to its client, its bytes to the client to its server. A group's cross-AZ, cross-region and NAT bytes are the bytes
 *   it sent on such rows; its connections are those it opened as the client (a SYN is the client's). Internet bytes
 *   are stored without their direction (one column per edge row), so they are split by a rule that gives the sender
 *   in every case the rules of §6 produce but one: only an end with an interface (INSTANCE, INTERFACE, UNRESOLVED)
 *   has an egress record to carry traffic-path, and through a NAT gateway only bytes to an EXTERNAL end count, so a
 *   client without an interface (EXTERNAL, AWS_SERVICE) sent none of them unless the server is EXTERNAL too; every
 *   other client gets them up to its bytes to the server, the server the rest. The one case this can misplace: both
 *   ends have interfaces and both directions of one hour left through an internet gateway.
 *   An end that sent nothing (the silent server of an unanswered SYN) is no group.
 * - PAIR: every byte of an edge row belongs to its (client, server) pair at the level, over all protocols and ports.
 *
 * Either way every byte of the totals (edgeTotalsQuery) is in exactly one group, so the groups add up to the totals.
 * Ties are broken by the group's ids.
 */
import type { CostGroup, CostOrder, EdgeLevel } from '../domain/connection-enums.ts';
import { build, raw, sql, type SqlFragment, type SqlQuery } from '../store/sql.ts';
import { endpointIdSql } from './endpoint-query.ts';

const ORDER_SQL: Record<CostOrder, string> = {
  BYTES: 'bytes',
  CROSS_AZ_BYTES: 'cross_az_bytes',
  CROSS_REGION_BYTES: 'cross_region_bytes',
  NAT_BYTES: 'nat_bytes',
  INTERNET_BYTES: 'internet_bytes',
};

/** Input of costGroupQuery. `rows` is a relation of edge rows already filtered (connectionRelationSql). */
export interface CostGroupInput {
  readonly rows: SqlFragment;
  readonly groupBy: CostGroup;
  readonly level: EdgeLevel;
  readonly orderBy: CostOrder;
  readonly limit: number;
}

/** What describes an end: the columns of an edge row's client_/server_ end, without the prefix. */
const END_ATTRS = [
  'kind',
  'instance_id',
  'interface_id',
  'addr',
  'subnet_id',
  'vpc_id',
  'az_id',
  'region',
  'account_id',
  'service',
];

/** An end's attributes over a group: each shown when every row agrees (min = max), the kind and service as edges do. */
function describedEnd(prefix: string): string {
  return END_ATTRS.map((a) => {
    const c = `${prefix}_${a}`;
    const value = a === 'kind' || a === 'service' ? `min(${c})` : `CASE WHEN min(${c}) = max(${c}) THEN min(${c}) END`;
    return `${value} AS ${c}`;
  }).join(',\n       ');
}

/** `side`'s end attributes of an edge row, renamed with `as` for the prefix. */
const endAttrs = (side: 'client' | 'server', as: string): string =>
  END_ATTRS.map((a) => `${side}_${a} AS ${as}_${a}`).join(', ');

// Bytes of one direction of an edge row; the stored sums are NULL when a row has no bytes that way.
const TO_SERVER = 'coalesce(bytes_to_server, 0)';
const TO_CLIENT = 'coalesce(bytes_to_client, 0)';
const CROSS_AZ = 'client_az_id <> server_az_id';
const CROSS_REGION = 'client_region <> server_region';
/** The internet bytes the client sent (see the module comment); the server sent the rest of the row's. */
const INTERNET_BY_CLIENT = `CASE WHEN client_kind IN ('EXTERNAL', 'AWS_SERVICE') AND server_kind IS DISTINCT FROM 'EXTERNAL'
            THEN 0 ELSE least(coalesce(internet_bytes, 0), ${TO_SERVER}) END`;

/** The bytes `side` sent on one edge row, with the cost lens of those bytes, named as the group sums them. */
function sentBy(side: 'client' | 'server'): string {
  const sent = side === 'client' ? TO_SERVER : TO_CLIENT;
  const internet =
    side === 'client' ? `(${INTERNET_BY_CLIENT})` : `coalesce(internet_bytes, 0) - (${INTERNET_BY_CLIENT})`;
  return [
    `${sent} AS bytes`,
    `${side === 'client' ? TO_SERVER : '0'} AS bytes_to_server`,
    `${side === 'client' ? '0' : TO_CLIENT} AS bytes_to_client`,
    `coalesce(${side === 'client' ? 'packets_to_server' : 'packets_to_client'}, 0) AS packets`,
    `${side === 'client' ? 'coalesce(connections, 0)' : '0'} AS connections`,
    `CASE WHEN ${CROSS_AZ} THEN ${sent} ELSE 0 END AS cross_az_bytes`,
    `CASE WHEN ${CROSS_REGION} THEN ${sent} ELSE 0 END AS cross_region_bytes`,
    `CASE WHEN via_nat THEN ${sent} ELSE 0 END AS nat_bytes`,
    `${internet} AS internet_bytes`,
  ].join(',\n         ');
}

/** Both directions of one edge row, for a pair. */
const PAIR_ROW = [
  `${TO_SERVER} + ${TO_CLIENT} AS bytes`,
  `${TO_SERVER} AS bytes_to_server`,
  `${TO_CLIENT} AS bytes_to_client`,
  'coalesce(packets_to_server, 0) + coalesce(packets_to_client, 0) AS packets',
  'coalesce(connections, 0) AS connections',
  `CASE WHEN ${CROSS_AZ} THEN ${TO_SERVER} + ${TO_CLIENT} ELSE 0 END AS cross_az_bytes`,
  `CASE WHEN ${CROSS_REGION} THEN ${TO_SERVER} + ${TO_CLIENT} ELSE 0 END AS cross_region_bytes`,
  `CASE WHEN via_nat THEN ${TO_SERVER} + ${TO_CLIENT} ELSE 0 END AS nat_bytes`,
  'coalesce(internet_bytes, 0) AS internet_bytes',
].join(',\n         ');

const SUMS = [
  'bytes',
  'bytes_to_server',
  'bytes_to_client',
  'packets',
  'connections',
  'cross_az_bytes',
  'cross_region_bytes',
  'nat_bytes',
  'internet_bytes',
]
  .map((m) => `sum(${m})::BIGINT AS ${m}`)
  .join(',\n       ');

/**
 * The `limit` largest groups by `orderBy` (LIMIT limit + 1, so the caller knows more existed). Columns: the group's
 * ids (`sender_id`, or `client_id` and `server_id`), its ends described (`sender_*`, or `client_*` and `server_*`
 * as on edges), and the sums of SUMS, BIGINT as edgeTotalsQuery's.
 *
 * Groups are ranked on their sums alone, and only the page's groups are described, in a second pass over their rows
 * (as edgeQuery does): describing every group took most of the statement (25k senders of a 10M-record day for 6 shown:
 * ~20 string min/max per group).
 */
export function costGroupQuery(input: CostGroupInput): SqlQuery {
  const order = raw(ORDER_SQL[input.orderBy]);
  const client = endpointIdSql('client', input.level);
  const server = endpointIdSql('server', input.level);
  if (input.groupBy === 'PAIR') {
    return build(
      'edges.cost.pair',
      sql`WITH edge_rows AS (SELECT ${client} AS client_id, ${server} AS server_id, * FROM ${input.rows}),
page AS (
  SELECT client_id, server_id,
         ${raw(SUMS)}
  FROM (SELECT client_id, server_id,
           ${raw(PAIR_ROW)}
        FROM edge_rows)
  GROUP BY client_id, server_id
  ORDER BY ${order} DESC, client_id, server_id
  LIMIT ${input.limit + 1}
),
described AS (
  SELECT client_id, server_id,
         ${raw(describedEnd('client'))},
         ${raw(describedEnd('server'))}
  FROM edge_rows e SEMI JOIN page p
    ON e.client_id IS NOT DISTINCT FROM p.client_id AND e.server_id IS NOT DISTINCT FROM p.server_id
  GROUP BY client_id, server_id
)
SELECT p.client_id, p.server_id, d.* EXCLUDE (client_id, server_id), p.* EXCLUDE (client_id, server_id)
FROM page p JOIN described d ON p.client_id IS NOT DISTINCT FROM d.client_id AND p.server_id IS NOT DISTINCT FROM d.server_id
ORDER BY ${order} DESC, client_id, server_id`,
    );
  }
  return build(
    'edges.cost.sender',
    sql`WITH edge_rows AS (SELECT ${client} AS client_id, ${server} AS server_id, * FROM ${input.rows}),
page AS (
  SELECT sender_id,
         ${raw(SUMS)}
  FROM (SELECT client_id AS sender_id,
           ${raw(sentBy('client'))}
        FROM edge_rows
        UNION ALL
        SELECT server_id AS sender_id,
           ${raw(sentBy('server'))}
        FROM edge_rows)
  GROUP BY sender_id
  HAVING sum(bytes) > 0 OR sum(packets) > 0 OR sum(connections) > 0
  ORDER BY ${order} DESC, sender_id
  LIMIT ${input.limit + 1}
),
described AS (
  SELECT sender_id,
         ${raw(describedEnd('sender'))}
  FROM (SELECT client_id AS sender_id, ${raw(endAttrs('client', 'sender'))}
        FROM edge_rows e SEMI JOIN page p ON e.client_id IS NOT DISTINCT FROM p.sender_id
        UNION ALL
        SELECT server_id AS sender_id, ${raw(endAttrs('server', 'sender'))}
        FROM edge_rows e SEMI JOIN page p ON e.server_id IS NOT DISTINCT FROM p.sender_id)
  GROUP BY sender_id
)
SELECT p.sender_id, d.* EXCLUDE (sender_id), p.* EXCLUDE (sender_id)
FROM page p JOIN described d ON p.sender_id IS NOT DISTINCT FROM d.sender_id
ORDER BY ${order} DESC, sender_id`,
  );
}
