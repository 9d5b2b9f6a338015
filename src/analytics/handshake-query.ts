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
 * CTEs defined: `tcp`, `syn`, `syn_side`, `syn_seen`, `syn_sess`, `hs_sess`, `hs_sessions` (the handshakes with
 * their observing records, ends not resolved yet), `hs` (needs `obs`, `addr_map`), each within a `unit`
 * (flow-source.ts).
 */
import type { HandshakeKey } from '../domain/connection-enums.ts';
import { build, join, raw, sql, type SqlFragment, type SqlQuery, type SqlValue } from '../store/sql.ts';
import { FLAG, HANDSHAKE_SKEW_SECONDS } from './connection-rules.ts';
import { PLACE_REGION_SQL, placedInSql, type PlacedIn } from './connection-placement.ts';
import { addressMapCte, resolveEndpointsSql } from './endpoint-query.ts';
import type { FlowSource } from './flow-source.ts';
import { HOUR_OF, observationCtes } from './normalized-records-query.ts';
import { secondsSql } from './sql-interval.ts';

const CONTROL_FLAGS = FLAG.FIN | FLAG.SYN | FLAG.RST | FLAG.SYN_ACK;

/** Attributes of the interface that observed a side of a connection (endpoint-query.ts reads `<side>_obs_<attr>`). */
// account_id last: the struct's order decides which record is the observation, and the account never should.
export const OBSERVATION_ATTRS = [
  'interface_id',
  'instance_id',
  'subnet_id',
  'vpc_id',
  'az_id',
  'region',
  'account_id',
] as const;

/**
 * `min({interface_id, instance_id, ...}) FILTER (prio = <prio>) AS <side>_obs`: the attributes of one observing
 * record, taken together (so an instance is never paired with another interface's subnet), and the same record
 * whatever order the records come in: the smallest interface id, then the record naming the most attributes (NULL
 * fields compare greater in a struct), then the smallest values. `any_value` took whichever record came first.
 */
export function observationAggregateSql(
  prio: number,
  alias: string,
  columns: (attr: string) => string = (a) => a,
): string {
  return `min({${OBSERVATION_ATTRS.map((a) => `'${a}': ${columns(a)}`).join(', ')}}) FILTER (prio = ${prio}) AS ${alias}`;
}

function sideObservation(prio: number, side: 'client' | 'server'): string {
  return observationAggregateSql(prio, `${side}_obs`);
}

function expandObservation(side: 'client' | 'server'): string {
  return OBSERVATION_ATTRS.map((a) => `${side}_obs.${a} AS ${side}_obs_${a}`).join(', ');
}

/**
 * The handshake CTEs; `hs` has one row per handshake with resolved endpoints. `perHour` (derived per hour): `hs` holds
 * only the handshakes kept in the end, those of the unit's own hour (handshakeRowsSql), so the ends of the others
 * (which start in the context around the hour) are not resolved for nothing; `hs_sessions` holds every unit's.
 */
export function handshakeCtes(perHour = false): SqlFragment {
  return sql`${handshakeSessionCtes()},
${resolvedHandshakesCte(perHour)}`;
}

/** The handshake CTEs up to `hs_sessions` (needs `obs_tuples` only): the handshakes, their ends not resolved yet. */
export function handshakeSessionCtes(): SqlFragment {
  const skew = secondsSql(HANDSHAKE_SKEW_SECONDS);
  const unresolved = sql`(
  SELECT unit, client_addr, client_port, server_addr, server_port, 6 AS protocol,
         min(start_time) AS start_time, max(last_seen) AS end_time, min(start_time) AS first_seen,
         CAST(min(start_time) AS DATE) AS day,
         CASE WHEN bool_or(reset) THEN 'RESET' WHEN bool_or(answered) THEN 'ESTABLISHED'
              WHEN bool_or(rejected) THEN 'REJECTED' ELSE 'UNANSWERED' END AS state,
         bool_or(answered) AS syn_ack_seen, bool_or(fin) AS closed,
         list_sort(list_distinct(list(interface_id))) AS observed_interfaces,
         count(*) AS syn_records,
         count(*) FILTER (rejected) AS rejected_syn_records,
         -- Every value below is a function of the session's set of SYN records, never of the order a scan or a sort
         -- delivered them in (any_value would be): an incremental derivation reads the same records from other files
         -- in another order and must write the same row. Ties break on properties of the records (start, interface,
         -- then the values themselves), never on flow_id, which follows load order.
         arg_min(account_id, (start_time, interface_id, account_id)) AS account_id,
         -- Where the row is filed (connection-placement.ts): the client's egress SYN, the server's ingress, any.
         arg_min(region, (start_time, interface_id, region)) FILTER (prio = 1) AS client_seen_region,
         arg_min(region, (start_time, interface_id, region)) FILTER (prio = 2) AS server_seen_region,
         arg_min(region, (start_time, interface_id, region)) AS obs_region,
         min(client_service) AS client_service, min(server_service) AS server_service,
         bool_or(prio = 4) AS client_unresolved, bool_or(prio = 4) AS server_unresolved,
         ${raw(sideObservation(1, 'client'))},
         ${raw(sideObservation(2, 'server'))}
  FROM hs_sess
  GROUP BY unit, client_addr, client_port, server_addr, server_port, sess
)`;
  const expanded = sql`SELECT * EXCLUDE (client_obs, server_obs), ${raw(expandObservation('client'))}, ${raw(expandObservation('server'))}
  FROM ${unresolved}`;
  // NOT MATERIALIZED: two filtered reads of obs_tuples cost less than holding every column of every TCP record once more.
  return sql`tcp AS NOT MATERIALIZED (
  SELECT * FROM obs_tuples WHERE protocol = 6 AND tcp_flags IS NOT NULL AND (tcp_flags & ${CONTROL_FLAGS}) <> 0
),
-- MATERIALIZED: sid numbers the rows of one scan and is only an identity for the join below; both references must
-- see the same numbering.
syn AS MATERIALIZED (
  SELECT *, row_number() OVER () AS sid,
         -- The next SYN record of the tuple at this interface that starts strictly later. EXCLUDE GROUP leaves out the
         -- records tied with this one (lead() would hand one of two tied SYNs the other's start, and which one depends
         -- on the sort), so tied SYN records get the same window.
         min(start_time) OVER (PARTITION BY unit, interface_id, psrc, srcport, pdst, dstport ORDER BY start_time
                               RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE GROUP) AS next_syn
  FROM tcp WHERE (tcp_flags & ${FLAG.SYN}) <> 0 AND (tcp_flags & ${FLAG.ACK}) = 0
),
syn_side AS (
  SELECT unit, interface_id, psrc AS c, srcport AS cp, pdst AS s, dstport AS sp, start_time, end_time, tcp_flags,
         false AS from_server FROM tcp
  UNION ALL
  SELECT unit, interface_id, pdst, dstport, psrc, srcport, start_time, end_time, tcp_flags, true FROM tcp
),
syn_seen AS (
  SELECT syn.sid,
         bool_or(x.from_server AND (x.tcp_flags & ${FLAG.SYN_ACK}) = ${FLAG.SYN_ACK}
                 AND x.start_time BETWEEN syn.start_time - ${skew} AND coalesce(syn.end_time, syn.start_time) + ${skew}) AS answered,
         bool_or((x.tcp_flags & ${FLAG.RST}) <> 0) AS reset,
         bool_or((x.tcp_flags & ${FLAG.FIN}) <> 0) AS fin,
         max(coalesce(x.end_time, x.start_time)) AS last_seen
  FROM syn JOIN syn_side AS x
    ON x.unit = syn.unit AND x.interface_id = syn.interface_id AND x.c = syn.psrc AND x.cp = syn.srcport AND x.s = syn.pdst
   AND x.sp = syn.dstport
   AND x.start_time >= syn.start_time - ${skew}
   AND (syn.next_syn IS NULL OR x.start_time < syn.next_syn)
  GROUP BY syn.sid
),
-- Numbered on the SYN records' keys alone and joined back by sid: a window sorts every column of its input.
syn_sess AS (
  -- RANGE, not ROWS: the running count includes every SYN tied with this one, so tied SYNs share a session whatever
  -- order this window's sort put them in (with ROWS, a tie ordered one way here and the other way in the first
  -- window's sort split one handshake into two). Session numbers may skip values; they only group.
  SELECT sid, sum(is_new) OVER (PARTITION BY unit, psrc, srcport, pdst, dstport ORDER BY start_time
                                RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sess
  FROM (
    -- A SYN opens a session unless another SYN of the tuple (at any interface) started at most the skew before it.
    -- The previous start is taken over the strictly earlier SYNs (EXCLUDE GROUP), so the same SYN logged at the
    -- client's egress and the server's ingress with one start opens, or does not open, a session at both.
    SELECT sid, unit, psrc, srcport, pdst, dstport, start_time,
           CASE WHEN start_time - max(start_time) OVER (
                       PARTITION BY unit, psrc, srcport, pdst, dstport ORDER BY start_time
                       RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP) <= ${skew}
                THEN 0 ELSE 1 END AS is_new
    FROM syn
  )
),
hs_sess AS (
  SELECT syn.unit, syn.psrc AS client_addr, syn.srcport AS client_port, syn.pdst AS server_addr, syn.dstport AS server_port,
         syn.start_time, syn.rejected, syn.interface_id, syn.instance_id, syn.subnet_id, syn.vpc_id, syn.az_id,
         syn.region, syn.account_id, syn.prio, syn.pkt_src_aws_service AS client_service,
         syn.pkt_dst_aws_service AS server_service,
         coalesce(seen.answered, false) AS answered, coalesce(seen.reset, false) AS reset,
         coalesce(seen.fin, false) AS fin, greatest(seen.last_seen, coalesce(syn.end_time, syn.start_time)) AS last_seen,
         ss.sess
  FROM syn LEFT JOIN syn_seen AS seen ON seen.sid = syn.sid JOIN syn_sess AS ss ON ss.sid = syn.sid
),
hs_sessions AS MATERIALIZED (
  ${expanded}
)`;
}

/** CTE `hs` over `hs_sessions` and `addr_map`: the handshakes with resolved ends (see handshakeCtes). */
export function resolvedHandshakesCte(perHour: boolean): SqlFragment {
  const kept = raw(perHour ? `unit = ${HOUR_OF('start_time')}` : 'TRUE');
  return sql`hs AS MATERIALIZED (
  ${resolveEndpointsSql(sql`(SELECT * FROM hs_sessions WHERE ${kept})`)}
)`;
}

/** Columns of a handshake row, as stored in the `handshakes/` table and returned by the page query. */
export const HANDSHAKE_COLUMNS = [
  'client_addr',
  'client_port',
  'server_addr',
  'server_port',
  'protocol',
  'state',
  'syn_ack_seen',
  'closed',
  'start_time',
  'end_time',
  'day',
  'observed_interfaces',
  'syn_records',
  'rejected_syn_records',
  'client_kind',
  'client_interface_id',
  'client_instance_id',
  'client_subnet_id',
  'client_vpc_id',
  'client_az_id',
  'client_region',
  'client_account_id',
  'client_service',
  'server_kind',
  'server_interface_id',
  'server_instance_id',
  'server_subnet_id',
  'server_vpc_id',
  'server_az_id',
  'server_region',
  'server_account_id',
  'server_service',
] as const;

/** SELECT list of the stored handshake columns (order fixed by HANDSHAKE_COLUMNS). */
export function handshakeSelectList(): SqlFragment {
  return raw(HANDSHAKE_COLUMNS.join(', '));
}

/**
 * Every handshake in the records of `source`, oldest first. Derived per hour (`source.units`), each row is led by its
 * `unit` and kept only in the unit of the hour it starts in.
 */
export function handshakesFromFlowsSql(source: FlowSource, placed?: PlacedIn): SqlFragment {
  return sql`WITH ${observationCtes(source)},
${addressMapCte()},
${handshakeCtes(source.units !== undefined)}
${handshakeRowsSql(source.units !== undefined, placed)}`;
}

/**
 * The SELECT of handshake rows over the `hs` CTE, oldest first. `perHour` (derived per hour): each row is led by its
 * `unit`, kept only in the unit of the hour it starts in, and says which region partition it is filed under
 * (PLACE_REGION_SQL).
 */
export function handshakeRowsSql(perHour: boolean, placed?: PlacedIn, ordered = true): SqlFragment {
  const lead = perHour ? raw('unit, ') : raw('');
  const place = perHour ? raw(`, ${PLACE_REGION_SQL} AS place_region`) : raw('');
  return sql`SELECT ${lead}${handshakeSelectList()}${place} FROM hs
WHERE ${raw(perHour ? `unit = ${HOUR_OF('start_time')}` : 'TRUE')} AND ${placedInSql(placed)}
${raw(ordered ? `ORDER BY ${handshakeRowOrder(perHour)}` : '')}`;
}

/** The order handshake rows are written in (derived per hour: led by their unit). */
export const handshakeRowOrder = (perHour: boolean): string => `${perHour ? 'unit, ' : ''}${HANDSHAKE_ORDER}`;

/** Every handshake in the records of `source`, oldest first (the raw fallback and the tests use it). */
export function handshakesFromFlowsQuery(source: FlowSource, name = 'handshakes.fromFlows'): SqlQuery {
  return build(name, handshakesFromFlowsSql(source));
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
export function handshakePageQuery(input: HandshakePageInput): SqlQuery {
  return build('handshakes.page', handshakePageSql(input));
}

/** The order of handshake pages, over their columns (a wrapper that joins more columns sorts again by it). */
export const HANDSHAKE_ORDER = 'start_time, client_addr, client_port, server_addr, server_port';

/** What a page of handshakes needs. */
export interface HandshakePageInput {
  readonly rows: SqlFragment;
  readonly states: readonly string[] | null;
  readonly first: number;
  readonly after: HandshakeKey | null;
}

/** The statement of handshakePageQuery, unnamed (the dataset wraps it: named-ends-query.ts). */
export function handshakePageSql(input: HandshakePageInput): SqlFragment {
  const conds: SqlFragment[] = [raw('TRUE')];
  if (input.states)
    conds.push(
      sql`state IN (${join(
        input.states.map((s) => sql`${s}`),
        ', ',
        'NULL',
      )})`,
    );
  if (input.after) conds.push(afterKeySql(input.after));
  return sql`SELECT ${handshakeSelectList()} FROM ${input.rows}
WHERE ${join(conds, ' AND ')}
ORDER BY ${raw(HANDSHAKE_ORDER)}
LIMIT ${input.first + 1}`;
}
