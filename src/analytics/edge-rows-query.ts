/**
 * Edge rows (docs/semantics.md §1, §4, §6): the finest grain of the communication graph, one row per UTC hour,
 * client endpoint, server endpoint, protocol, server port, direction method and NAT path. This is the schema of the
 * derived `edges/` table; level aggregation (edge-query.ts) sums these rows.
 *
 * Counting once (docs/semantics.md §1): the same packets are logged by every interface they cross, in windows that
 * overlap in time (not necessarily aligned, possibly on either side of midnight). Observers of a directional 5-tuple
 * (psrc, srcport, pdst, dstport, protocol) are ranked: the sender's egress (prio 1), the receiver's ingress (2), a
 * forwarding interface's transit record (3), a record of unknown direction (4), then by interface id. A record's
 * bytes and packets count unless a better-ranked observer of the same tuple covers its window (that observer's first
 * to last record of the tuple on the same or a neighbouring day). So each transfer is counted once, from the best
 * observer, and a stretch only a worse observer saw (the sender's interface not monitored yet) still counts; where
 * two interfaces log the same tuple with the same rank (direction unknown at both), exactly one of them counts.
 * `records` counts every record of the tuple at every observation point; `rejectedRecords` those with action REJECT.
 * Cost lens: `internet_bytes` are bytes that left through an internet gateway (traffic-path 2 or 8 on the sender's
 * egress record) or through a NAT gateway to an external address; cross-AZ and cross-region are read from the two
 * endpoints' az/region; `via_nat` marks tuples also seen at a forwarding interface.
 * Endpoints of tuples with a record of unknown direction are flagged unresolved (endpoint-query.ts).
 * CTEs defined: `obs_cover`, `obs_covers`, `obs_counted`, `key_hour`, `hs_tuple`, `hs_hour`, `oriented`, `edge_rows`
 * (needs obs, obs_tuples, addr_map, hs_sessions), each within a `unit` (flow-source.ts).
 */
import { build, raw, sql, type SqlFragment, type SqlQuery } from '../store/sql.ts';
import { INTERNET_TRAFFIC_PATHS } from './connection-rules.ts';
import { PLACE_REGION_SQL, placedInSql, type PlacedIn } from './connection-placement.ts';
import { addressMapCte, resolveEndpointsSql } from './endpoint-query.ts';
import { directionColumnsSql } from './flow-direction-query.ts';
import type { FlowSource } from './flow-source.ts';
import { handshakeSessionCtes, OBSERVATION_ATTRS, observationAggregateSql } from './handshake-query.ts';
import { HOUR_OF, observationCtes } from './normalized-records-query.ts';

// The observing record of each direction of a tuple-hour: the sender's egress (prio 1, `src_obs`) and the receiver's
// ingress (prio 2, `dst_obs`), chosen as in handshake-query.ts (one record's attributes, independent of scan order).
function sideAggregates(): string {
  return [observationAggregateSql(1, 'src_obs'), observationAggregateSql(2, 'dst_obs')].join(',\n         ');
}

function orientedSides(): string {
  return OBSERVATION_ATTRS.flatMap((a) => [
    `CASE WHEN d.is_c2s THEN d.src_obs.${a} ELSE d.dst_obs.${a} END AS client_obs_${a}`,
    `CASE WHEN d.is_c2s THEN d.dst_obs.${a} ELSE d.src_obs.${a} END AS server_obs_${a}`,
  ]).join(',\n         ');
}

const ENDPOINT_COLS = [
  'kind',
  'addr',
  'interface_id',
  'instance_id',
  'subnet_id',
  'vpc_id',
  'az_id',
  'region',
  'account_id',
  'service',
];
/** The columns an edge row is unique on (its hour, pair, port, method and both ends as resolved). */
export const EDGE_GROUP_COLUMNS = [
  'day',
  'bucket',
  'protocol',
  'server_port',
  'method',
  'via_nat',
  ...ENDPOINT_COLS.map((c) => `client_${c}`),
  ...ENDPOINT_COLS.map((c) => `server_${c}`),
];

/**
 * The order edge rows are written in: hour, then the pair, then every other grouping column. Rows are unique on the
 * grouping columns, so this order is total and two derivations of the same flows write the same file row for row
 * (the first seven keep the order the table always had, which groups a pair's rows for compression).
 */
const EDGE_ORDER_LEADING = ['day', 'bucket', 'client_addr', 'server_addr', 'protocol', 'server_port', 'method'];
export const EDGE_ROW_ORDER = [
  ...EDGE_ORDER_LEADING,
  ...EDGE_GROUP_COLUMNS.filter((c) => !EDGE_ORDER_LEADING.includes(c)),
];

/** Columns of an edge row, as stored in the `edges/` table. */
export const EDGE_ROW_COLUMNS = [
  ...EDGE_GROUP_COLUMNS,
  'bytes_to_server',
  'bytes_to_client',
  'packets_to_server',
  'packets_to_client',
  'internet_bytes',
  'connections',
  'flows',
  'records',
  'rejected_records',
  'first_seen',
  'last_seen',
  'observed_interfaces',
] as const;

/**
 * The edge CTEs; `edge_rows` holds the rows. `perHour` (derived per hour): only the rows of the unit's own hour are
 * kept in the end (edgeRowsSelectSql), and every CTE from `obs_counted` on is row by row or grouped by the record's
 * hour, so only the records starting in the unit's own hour are counted and carried on; the records of the context
 * around it still cover them (`obs_cover`) and orient their tuples (`hs_tuple`).
 */
export function edgeRowCtes(perHour = false): SqlFragment {
  const sameTuple = ['unit', 'psrc', 'srcport', 'pdst', 'dstport', 'protocol']
    .map((c) => `t.${c} IS NOT DISTINCT FROM o.${c}`)
    .join(' AND ');
  const unresolved = raw(`(SELECT * FROM oriented)`);
  return sql`obs_cover AS (
  SELECT unit, psrc, srcport, pdst, dstport, protocol, day, interface_id, min(prio) AS prio,
         min(start_time) AS cover_from, max(coalesce(end_time, start_time)) AS cover_to
  FROM obs_tuples
  GROUP BY unit, psrc, srcport, pdst, dstport, protocol, day, interface_id
),
-- A tuple's observers as one list, so that counting a record is one equality join and a look through its (one to a
-- few) observers. As a correlated NOT EXISTS, DuckDB deduplicated the records on eleven columns and joined them
-- back on those: on the first run of bench:ingest's 400,000 records the check cost 120 ms of the edge statement's
-- 409 (measured against counting every record), 69 ms of 358 as a list.
obs_covers AS (
  SELECT unit, psrc, srcport, pdst, dstport, protocol,
         list({'day': day, 'interface_id': interface_id, 'prio': prio, 'cover_from': cover_from, 'cover_to': cover_to}) AS covers
  FROM obs_cover
  GROUP BY unit, psrc, srcport, pdst, dstport, protocol
),
obs_counted AS (
  -- Counted unless an observer of the same tuple with a better rank covers the record's window. Every record's tuple
  -- has an entry (its own observer's), so the LEFT JOIN always finds one; without one, NOT EXISTS was TRUE: coalesce.
  SELECT o.*,
         coalesce(len(list_filter(t.covers, c -> c.day BETWEEN o.day - 1 AND o.day + 1
                        AND (c.prio < o.prio OR (c.prio = o.prio AND c.interface_id < o.interface_id))
                        AND c.cover_from <= coalesce(o.end_time, o.start_time) AND o.start_time <= c.cover_to)) = 0,
                  TRUE) AS counted
  FROM obs AS o LEFT JOIN obs_covers AS t ON ${raw(sameTuple)}
  WHERE ${raw(perHour ? `o.unit = ${HOUR_OF('o.start_time')}` : 'TRUE')}
),
key_hour AS MATERIALIZED (
  SELECT unit, psrc, srcport, pdst, dstport, protocol, day, date_trunc('hour', start_time) AS bucket,
         coalesce(sum(bytes) FILTER (counted), 0) AS bytes, coalesce(sum(packets) FILTER (counted), 0) AS packets,
         count(*) AS records, count(*) FILTER (rejected) AS rejected_records,
         min(start_time) AS first_seen, max(coalesce(end_time, start_time)) AS last_seen,
         bool_or(at_forwarder) AS via_nat, bool_or(prio = 4) AS unresolved,
         bool_or(prio = 1 AND list_contains(${INTERNET_TRAFFIC_PATHS}::INTEGER[], traffic_path)) AS internet_path,
         -- min, not any_value: the records of a tuple-hour arrive in file order, which an incremental ingest changes.
         min(pkt_src_aws_service) AS src_service, min(pkt_dst_aws_service) AS dst_service,
         list_distinct(list(interface_id)) AS observed_interfaces, min(region) AS obs_region,
         ${raw(sideAggregates())}
  FROM obs_counted
  GROUP BY unit, psrc, srcport, pdst, dstport, protocol, day, bucket
),
hs_tuple AS (
  SELECT DISTINCT unit, client_addr, client_port, server_addr, server_port, 6 AS protocol FROM hs_sessions
),
hs_hour AS (
  SELECT unit, client_addr, client_port, server_addr, server_port, 6 AS protocol, day,
         date_trunc('hour', start_time) AS bucket, count(*) AS n
  FROM hs_sessions GROUP BY ALL
),
directed AS (
  -- Equality-only ON clauses: a LEFT JOIN with a condition on the left side alone (protocol = 6) makes DuckDB fall
  -- back to a nested-loop join (80 s instead of 1 s on 300k records).
  SELECT k.*, f.client_addr IS NOT NULL AS hs_fwd, r.client_addr IS NOT NULL AS hs_rev
  FROM key_hour AS k
  LEFT JOIN hs_tuple AS f
    ON f.unit = k.unit AND f.client_addr = k.psrc AND f.client_port = k.srcport AND f.server_addr = k.pdst AND f.server_port = k.dstport
   AND f.protocol = k.protocol
  LEFT JOIN hs_tuple AS r
    ON r.unit = k.unit AND r.client_addr = k.pdst AND r.client_port = k.dstport AND r.server_addr = k.psrc AND r.server_port = k.srcport
   AND r.protocol = k.protocol
),
oriented AS (
  SELECT d.unit, d.day, d.bucket, d.protocol, d.method, d.via_nat, d.is_c2s, d.first_seen, d.last_seen, d.records,
         d.rejected_records, d.observed_interfaces, d.internet_path, d.bytes, d.packets, d.obs_region,
         -- Where the row is filed (connection-placement.ts): the regions of the ends' own observing records.
         CASE WHEN d.is_c2s THEN d.src_obs.region ELSE d.dst_obs.region END AS client_seen_region,
         CASE WHEN d.is_c2s THEN d.dst_obs.region ELSE d.src_obs.region END AS server_seen_region,
         d.unresolved AS client_unresolved, d.unresolved AS server_unresolved,
         CASE WHEN d.is_c2s THEN d.psrc ELSE d.pdst END AS client_addr,
         CASE WHEN d.is_c2s THEN d.srcport ELSE d.dstport END AS client_port,
         CASE WHEN d.is_c2s THEN d.pdst ELSE d.psrc END AS server_addr,
         CASE WHEN d.is_c2s THEN d.dstport ELSE d.srcport END AS server_port,
         CASE WHEN d.is_c2s THEN d.src_service ELSE d.dst_service END AS client_service,
         CASE WHEN d.is_c2s THEN d.dst_service ELSE d.src_service END AS server_service,
         CASE WHEN d.is_c2s AND d.hs_fwd THEN coalesce(h.n, 0) ELSE 0 END AS connections,
         ${raw(orientedSides())}
  FROM (SELECT *, ${directionColumnsSql()} FROM directed) AS d
  LEFT JOIN hs_hour AS h
    ON h.unit = d.unit AND h.client_addr = d.psrc AND h.client_port = d.srcport AND h.server_addr = d.pdst AND h.server_port = d.dstport
   AND h.protocol = d.protocol AND h.day = d.day AND h.bucket = d.bucket
),
resolved AS (
  ${resolveEndpointsSql(unresolved)}
),
edge_rows AS (
  SELECT unit, ${raw(EDGE_GROUP_COLUMNS.join(', '))},
         sum(bytes) FILTER (is_c2s) AS bytes_to_server, sum(bytes) FILTER (NOT is_c2s) AS bytes_to_client,
         sum(packets) FILTER (is_c2s) AS packets_to_server, sum(packets) FILTER (NOT is_c2s) AS packets_to_client,
         sum(bytes) FILTER (internet_path OR (via_nat AND (CASE WHEN is_c2s THEN server_kind ELSE client_kind END) = 'EXTERNAL')) AS internet_bytes,
         sum(connections) AS connections, count(DISTINCT client_port) AS flows,
         sum(records) AS records, sum(rejected_records) AS rejected_records,
         min(first_seen) AS first_seen, max(last_seen) AS last_seen,
         list_sort(list_distinct(flatten(list(observed_interfaces)))) AS observed_interfaces,
         min(client_seen_region) AS client_seen_region, min(server_seen_region) AS server_seen_region,
         min(obs_region) AS obs_region
  FROM resolved
  GROUP BY unit, ${raw(EDGE_GROUP_COLUMNS.join(', '))}
)`;
}

/**
 * Edge rows computed straight from raw records. Derived per hour (`source.units`), each row is led by its `unit` and
 * kept only in the unit of its own hour.
 */
export function edgeRowsFromFlowsSql(source: FlowSource, placed?: PlacedIn): SqlFragment {
  return sql`WITH ${observationCtes(source)},
${addressMapCte()},
${handshakeSessionCtes()},
${edgeRowCtes(source.units !== undefined)}
${edgeRowsSelectSql(source.units !== undefined, placed)}`;
}

/**
 * The SELECT of edge rows over the `edge_rows` CTE, in EDGE_ROW_ORDER. `perHour` (derived per hour): each row is led
 * by its `unit`, kept only in the unit of its own hour, and says which region partition it is filed under
 * (PLACE_REGION_SQL).
 */
export function edgeRowsSelectSql(perHour: boolean, placed?: PlacedIn, ordered = true): SqlFragment {
  const lead = perHour ? 'unit, ' : '';
  const place = perHour ? `, ${PLACE_REGION_SQL} AS place_region` : '';
  return sql`SELECT ${raw(lead + EDGE_ROW_COLUMNS.join(', ') + place)} FROM edge_rows
WHERE ${raw(perHour ? `unit = ${HOUR_OF('bucket')}` : 'TRUE')} AND ${placedInSql(placed)}
${raw(ordered ? `ORDER BY ${edgeRowOrder(perHour)}` : '')}`;
}

/** The order edge rows are written in (derived per hour: led by their unit). */
export const edgeRowOrder = (perHour: boolean): string => (perHour ? 'unit, ' : '') + EDGE_ROW_ORDER.join(', ');

/** Edge rows computed straight from raw records (the raw fallback and the tests use it). */
export function edgeRowsFromFlowsQuery(source: FlowSource, name = 'edges.fromFlows'): SqlQuery {
  return build(name, edgeRowsFromFlowsSql(source));
}
