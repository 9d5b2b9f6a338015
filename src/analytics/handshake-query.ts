/**
 * TCP handshakes from raw records (docs/semantics.md §3).
 *
 * Rules, as implemented:
 * - A SYN record has SYN and not ACK (flags & 2 and not flags & 16); its packet source is the client. A SYN-ACK
 *   record has flags & 18 = 18.
 * - At each interface, a SYN record is answered when a SYN-ACK record of the reversed tuple starts within
 *   HANDSHAKE_SKEW of the SYN record's window (start - skew .. end + skew): windows may straddle files and midnight.
 * - RST and FIN are looked for in records of the tuple, either direction, at the same interface, from the SYN's start
 *   minus the skew until the next SYN record of that tuple there (so a FIN in a later window still closes it).
 * - One handshake per (client, client port, server, server port) and session: SYN records less than HANDSHAKE_SKEW
 *   apart (retransmissions, or the same SYN logged by both ends or by a NAT gateway's inside leg) are one handshake,
 *   listing every interface that observed it.
 * - state: RESET if RST was seen on either side (even after a SYN-ACK: `synAckSeen` keeps that fact), else
 *   ESTABLISHED if a SYN-ACK was seen, else REJECTED if a SYN record was rejected, else UNANSWERED.
 *   RESET wins over ESTABLISHED because the spec defines it as "RST seen on either side"; REJECTED loses to a seen
 *   SYN-ACK because a reply proves the SYN got through (a REJECT elsewhere was another path or a retransmission).
 * CTEs defined: `tcp`, `syn`, `syn_side`, `syn_seen`, `hs_sess`, `hs` (needs `obs`, `addr_map`).
 */
import { build, join, raw, sql, type SqlFragment, type SqlQuery, type SqlValue } from '../store/sql.ts';
import { FLAG, HANDSHAKE_SKEW_SECONDS } from './connection-rules.ts';
import { addressMapCte, resolveEndpointsSql } from './endpoint-query.ts';
import type { FlowSource } from './flow-source.ts';
import { observationCtes } from './normalized-records-query.ts';
import { secondsSql } from './sql-interval.ts';

const CONTROL_FLAGS = FLAG.FIN | FLAG.SYN | FLAG.RST | FLAG.SYN_ACK;

/** The handshake CTEs; `hs` has one row per handshake with resolved endpoints. */
export function handshakeCtes(): SqlFragment {
  const skew = secondsSql(HANDSHAKE_SKEW_SECONDS);
  const unresolved = sql`(
  SELECT client_addr, client_port, server_addr, server_port, 6 AS protocol,
         min(start_time) AS start_time, max(last_seen) AS end_time, min(start_time) AS first_seen,
         CAST(min(start_time) AS DATE) AS day,
         CASE WHEN bool_or(reset) THEN 'RESET' WHEN bool_or(answered) THEN 'ESTABLISHED'
              WHEN bool_or(action = 'REJECT') THEN 'REJECTED' ELSE 'UNANSWERED' END AS state,
         bool_or(answered) AS syn_ack_seen, bool_or(fin) AS closed,
         list_sort(list_distinct(list(interface_id))) AS observed_interfaces,
         count(*) AS syn_records,
         count(*) FILTER (action = 'REJECT') AS rejected_syn_records,
         arg_min(account_id, start_time) AS account_id,
         any_value(client_service) AS client_service, any_value(server_service) AS server_service,
         bool_or(prio = 4) AS client_unresolved, bool_or(prio = 4) AS server_unresolved,
         any_value(interface_id) FILTER (prio = 1) AS client_obs_interface_id,
         any_value(instance_id) FILTER (prio = 1) AS client_obs_instance_id,
         any_value(subnet_id) FILTER (prio = 1) AS client_obs_subnet_id,
         any_value(vpc_id) FILTER (prio = 1) AS client_obs_vpc_id,
         any_value(az_id) FILTER (prio = 1) AS client_obs_az_id,
         any_value(region) FILTER (prio = 1) AS client_obs_region,
         any_value(interface_id) FILTER (prio = 2) AS server_obs_interface_id,
         any_value(instance_id) FILTER (prio = 2) AS server_obs_instance_id,
         any_value(subnet_id) FILTER (prio = 2) AS server_obs_subnet_id,
         any_value(vpc_id) FILTER (prio = 2) AS server_obs_vpc_id,
         any_value(az_id) FILTER (prio = 2) AS server_obs_az_id,
         any_value(region) FILTER (prio = 2) AS server_obs_region
  FROM hs_sess
  GROUP BY client_addr, client_port, server_addr, server_port, sess
)`;
  return sql`tcp AS (
  SELECT * FROM obs WHERE protocol = 6 AND tcp_flags IS NOT NULL AND (tcp_flags & ${CONTROL_FLAGS}) <> 0
),
syn AS (
  SELECT *, row_number() OVER () AS sid,
         lead(start_time) OVER (PARTITION BY interface_id, psrc, srcport, pdst, dstport ORDER BY start_time) AS next_syn
  FROM tcp WHERE (tcp_flags & ${FLAG.SYN}) <> 0 AND (tcp_flags & ${FLAG.ACK}) = 0
),
syn_side AS (
  SELECT interface_id, psrc AS c, srcport AS cp, pdst AS s, dstport AS sp, start_time, end_time, tcp_flags,
         false AS from_server FROM tcp
  UNION ALL
  SELECT interface_id, pdst, dstport, psrc, srcport, start_time, end_time, tcp_flags, true FROM tcp
),
syn_seen AS (
  SELECT syn.sid,
         bool_or(x.from_server AND (x.tcp_flags & ${FLAG.SYN_ACK}) = ${FLAG.SYN_ACK}
                 AND x.start_time BETWEEN syn.start_time - ${skew} AND coalesce(syn.end_time, syn.start_time) + ${skew}) AS answered,
         bool_or((x.tcp_flags & ${FLAG.RST}) <> 0) AS reset,
         bool_or((x.tcp_flags & ${FLAG.FIN}) <> 0) AS fin,
         max(coalesce(x.end_time, x.start_time)) AS last_seen
  FROM syn JOIN syn_side AS x
    ON x.interface_id = syn.interface_id AND x.c = syn.psrc AND x.cp = syn.srcport AND x.s = syn.pdst
   AND x.sp = syn.dstport
   AND x.start_time >= syn.start_time - ${skew}
   AND (syn.next_syn IS NULL OR x.start_time < syn.next_syn OR x.start_time = syn.start_time)
  GROUP BY syn.sid
),
hs_seq AS (
  SELECT syn.psrc AS client_addr, syn.srcport AS client_port, syn.pdst AS server_addr, syn.dstport AS server_port,
         syn.start_time, syn.action, syn.interface_id, syn.instance_id, syn.subnet_id, syn.vpc_id, syn.az_id,
         syn.region, syn.account_id, syn.prio, syn.pkt_src_aws_service AS client_service,
         syn.pkt_dst_aws_service AS server_service,
         coalesce(seen.answered, false) AS answered, coalesce(seen.reset, false) AS reset,
         coalesce(seen.fin, false) AS fin, greatest(seen.last_seen, coalesce(syn.end_time, syn.start_time)) AS last_seen,
         CASE WHEN syn.start_time - lag(syn.start_time) OVER w <= ${skew} THEN 0 ELSE 1 END AS is_new
  FROM syn LEFT JOIN syn_seen AS seen ON seen.sid = syn.sid
  WINDOW w AS (PARTITION BY syn.psrc, syn.srcport, syn.pdst, syn.dstport ORDER BY syn.start_time)
),
hs_sess AS (
  SELECT *, sum(is_new) OVER (PARTITION BY client_addr, client_port, server_addr, server_port ORDER BY start_time
                              ROWS UNBOUNDED PRECEDING) AS sess
  FROM hs_seq
),
hs AS MATERIALIZED (
  ${resolveEndpointsSql(unresolved)}
)`;
}

/** Columns of a handshake row, as stored in the `handshakes/` table and returned by the page query. */
export const HANDSHAKE_COLUMNS = [
  'client_addr', 'client_port', 'server_addr', 'server_port', 'protocol', 'state', 'syn_ack_seen', 'closed',
  'start_time', 'end_time', 'day', 'observed_interfaces', 'syn_records', 'rejected_syn_records',
  'client_kind', 'client_interface_id', 'client_instance_id', 'client_subnet_id', 'client_vpc_id', 'client_az_id',
  'client_region', 'client_service',
  'server_kind', 'server_interface_id', 'server_instance_id', 'server_subnet_id', 'server_vpc_id', 'server_az_id',
  'server_region', 'server_service',
] as const;

/** SELECT list of the stored handshake columns (order fixed by HANDSHAKE_COLUMNS). */
export function handshakeSelectList(): SqlFragment {
  return raw(HANDSHAKE_COLUMNS.join(', '));
}

/** Every handshake in the records of `source` (only those starting on UTC `day` when given), oldest first. */
export function handshakesFromFlowsSql(source: FlowSource, day?: string): SqlFragment {
  return sql`WITH ${observationCtes(source)},
${addressMapCte()},
${handshakeCtes()}
SELECT ${handshakeSelectList()} FROM hs
WHERE ${day === undefined ? raw('TRUE') : sql`day = ${day}::DATE`}
ORDER BY start_time, client_addr, client_port, server_addr, server_port`;
}

/** Every handshake in the records of `source`, oldest first (the raw fallback and the tests use it). */
export function handshakesFromFlowsQuery(source: FlowSource, name = 'handshakes.fromFlows'): SqlQuery {
  return build(name, handshakesFromFlowsSql(source));
}

/** Keyset position of a handshake: its start and its 4-tuple (unique: one handshake per tuple per session). */
export interface HandshakeKey {
  readonly startTime: Date;
  readonly clientAddr: string;
  readonly clientPort: number;
  readonly serverAddr: string;
  readonly serverPort: number;
}

function afterKeySql(k: HandshakeKey): SqlFragment {
  const cols: [string, SqlValue][] = [
    ['start_time', k.startTime],
    ['client_addr', k.clientAddr],
    ['client_port', k.clientPort],
    ['server_addr', k.serverAddr],
    ['server_port', k.serverPort],
  ];
  // (a, b, c) > (x, y, z) spelled out, so DuckDB can still use the start_time bound for row-group pruning.
  let out: SqlFragment = sql`${raw(cols[4]![0])} > ${cols[4]![1]}`;
  for (let i = 3; i >= 0; i--) {
    const [c, v] = cols[i]!;
    out = sql`(${raw(c)} > ${v} OR (${raw(c)} = ${v} AND ${out}))`;
  }
  return out;
}

/** One page of handshakes, oldest first, `first + 1` rows (the extra one says there is a next page). */
export function handshakePageQuery(input: {
  rows: SqlFragment;
  states: readonly string[] | null;
  first: number;
  after: HandshakeKey | null;
}): SqlQuery {
  const conds: SqlFragment[] = [raw('TRUE')];
  if (input.states) conds.push(sql`state IN (${join(input.states.map((s) => sql`${s}`), ', ', 'NULL')})`);
  if (input.after) conds.push(afterKeySql(input.after));
  return build(
    'handshakes.page',
    sql`SELECT ${handshakeSelectList()} FROM ${input.rows}
WHERE ${join(conds, ' AND ')}
ORDER BY start_time, client_addr, client_port, server_addr, server_port
LIMIT ${input.first + 1}`,
  );
}
