/**
 * The first CTEs of every connection query: raw records turned into observations with the packet-level addresses,
 * the direction relative to the recording interface (given or inferred), and whether the interface forwards traffic
 * for others (a NAT gateway). CTE names defined here: `rec_once`, `rec`, those of own-address-query.ts, `forwarding`,
 * `obs`, `hour_tuples`, `obs_tuples`.
 *
 * Rules (docs/semantics.md §1, §2, §5), as implemented:
 * - psrc/pdst = pkt-srcaddr/pkt-dstaddr when present, else srcaddr/dstaddr: the true ends of the packet.
 * - direction = flow-direction when present; otherwise inferred from the interface's own addresses
 *   (own-address-query.ts): srcaddr own -> egress, dstaddr own -> ingress. When the records cannot say which of two
 *   addresses is the interface's (a single-peer exchange with no other signal), the direction stays unknown (NULL):
 *   guessing would put the peer's bytes and identity on the wrong instance.
 * - A forwarding interface has no instance and either a NAT interface-type or a record whose packet address differs
 *   from the logged one. At such an interface the records whose packet addresses equal the logged ones are its own
 *   outside legs (NAT IP <-> internet host): the same bytes as the inside legs under a translated tuple. They are
 *   dropped from all analytics (they would add a second copy of the instance's bytes and an edge from the NAT).
 * - prio: which observation counts a directional flow's bytes: 1 the sender's egress record (egress at a
 *   non-forwarding interface), 2 the receiver's ingress record, 3 a forwarding interface's transit record, 4 a record
 *   whose direction is unknown (its bytes count only when nothing better observed the same packets).
 * - logged_addr: the address the recording interface logged as its own (srcaddr on egress, dstaddr on ingress), what
 *   the address map learns (endpoint-query.ts); rejected: action is REJECT. `obs` keeps these in place of the
 *   columns they come from, which no reader takes: held in memory, every column costs.
 */
import { raw, sql, type SqlFragment } from '../store/sql.ts';
import { FORWARDING_INTERFACE_TYPES } from './connection-rules.ts';
import { ownAddressCtes } from './own-address-query.ts';
import { parquetSourceSql } from '../store/queries/parquet-source-query.ts';
import { flowScanSql, type FlowSource } from './flow-source.ts';

/**
 * CTEs `rec_once`, `rec`, `own_rec`, `own_addr`, `forwarding`, `obs`, `hour_tuples`, `obs_tuples` over the given
 * records. `rec_once` holds each record once with the span of units it belongs to, `rec` one row per unit
 * (flow-source.ts). Every CTE from `rec` on, here and in the connection builders that read them, carries the record's
 * `unit` and groups, partitions and joins within it.
 *
 * `rec_once` and `obs` are used a dozen times. MATERIALIZED holds every column of every record once read, twice over
 * (rec_once and obs): deriving the newest day of bench:ingest's 1M AWS-shaped records over 3 days peaked at 1.8 GiB RSS
 * (1.38 GiB under the ingester's 1 GB memory_limit). A `stream` source inlines them instead, so each use re-reads the
 * columns it needs and streams: 0.65-0.77 GiB for the same rows and CPU time. On small sources the re-reads of Parquet
 * metadata dominate (+25% CPU on 3,000 records): derive-tables.ts streams windows of more than 50,000 records.
 * `holdObservations` holds `obs` whatever the source: a derivation run of at most SHARED_RUN_RECORDS
 * (derived-table-specs.ts) streams its records but holds their observations, which every connection CTE reads.
 */
export function observationCtes(source: FlowSource, holdObservations = !source.stream): SqlFragment {
  const hold = raw(source.stream ? 'NOT MATERIALIZED' : 'MATERIALIZED');
  const [unitFrom, unitTo] = unitRange(source);
  const inUnits = source.units ? sql`list_contains(${source.units.hours}, unit)` : raw('TRUE');
  return sql`rec_once AS ${hold} (
  SELECT ${raw(REC_COLUMNS)}, ${unitFrom} AS unit_from, ${unitTo} AS unit_to
  FROM ${flowScanSql(source)}
  WHERE srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND start_time IS NOT NULL
),
rec AS NOT MATERIALIZED (
  SELECT * FROM (SELECT * EXCLUDE (unit_from, unit_to), unnest(range(unit_from, unit_to + 1)) AS unit FROM rec_once)
  WHERE ${inUnits}
),
${ownAddressesSql(source)},
-- Judged per unit from each interface's records grouped by their span of units first: the records are not unnested
-- into their units for this (bool_and/bool_or of the groups' values equal those of their records).
forwarding AS (
  SELECT unit, interface_id FROM (
    SELECT interface_id, unnest(range(unit_from, unit_to + 1)) AS unit, no_instance, translates
    FROM (
      SELECT interface_id, unit_from, unit_to, bool_and(instance_id IS NULL) AS no_instance,
             bool_or(psrc <> srcaddr OR pdst <> dstaddr OR list_contains(${FORWARDING_INTERFACE_TYPES}::VARCHAR[], interface_type)) AS translates
      FROM rec_once GROUP BY interface_id, unit_from, unit_to
    )
  )
  WHERE ${inUnits}
  GROUP BY unit, interface_id
  HAVING bool_and(no_instance) AND bool_or(translates)
),
obs AS ${raw(holdObservations ? 'MATERIALIZED' : 'NOT MATERIALIZED')} (
  -- Without the columns no reader of obs takes (held, each costs memory; the address map reads logged_addr).
  SELECT * EXCLUDE (flow_direction, interface_type, srcaddr, dstaddr, dir, action),
         CASE WHEN at_forwarder THEN 3 WHEN dir = 'egress' THEN 1 WHEN dir = 'ingress' THEN 2 ELSE 4 END AS prio,
         CASE dir WHEN 'egress' THEN srcaddr WHEN 'ingress' THEN dstaddr END AS logged_addr,
         action = 'REJECT' AS rejected
  FROM (
    SELECT rec.*, forwarding.interface_id IS NOT NULL AS at_forwarder,
           coalesce(rec.flow_direction,
                    CASE WHEN own_addr.ambiguous AND list_contains(own_addr.addrs, rec.srcaddr)
                              AND list_contains(own_addr.addrs, rec.dstaddr) THEN NULL
                         WHEN list_contains(own_addr.addrs, rec.srcaddr) THEN 'egress'
                         WHEN list_contains(own_addr.addrs, rec.dstaddr) THEN 'ingress' END) AS dir
    FROM rec
    LEFT JOIN own_addr ON own_addr.unit = ${raw(source.units ? 'rec.unit // 24' : 'rec.unit')} AND own_addr.interface_id = rec.interface_id
    LEFT JOIN forwarding ON forwarding.unit = rec.unit AND forwarding.interface_id = rec.interface_id
  )
  WHERE NOT (at_forwarder AND psrc = srcaddr AND pdst = dstaddr)
),
${tupleObservationsCte(source)}`;
}

/**
 * CTE `obs_tuples`: the observations the per-tuple rules read (handshake pairing, a tuple's observers), those of the
 * tuples that have a record in their unit's own hour. Derived per hour, every rule that reads one tuple's records
 * (either direction: a SYN-ACK, a reply) keeps only rows of that hour (handshakes that start in it, edges of its
 * records), so a tuple seen only in the context around the hour decides nothing kept: its records are left out before
 * the windows and joins instead of after. On bench:ingest's 4x day, 37% of an hour's records with their context
 * (69,000 of 185,000) were such; a day-run's connection statement on its 400,000 records took 520 -> 475 ms (fastest
 * of 8, one thread). The address map and the forwarding role still read every record (`obs`, `rec_once`).
 */
function tupleObservationsCte(source: FlowSource): SqlFragment {
  if (!source.units) return raw('obs_tuples AS NOT MATERIALIZED (SELECT * FROM obs)');
  const same = ['unit', 'psrc', 'srcport', 'pdst', 'dstport', 'protocol']
    .map((c) => `k.${c} IS NOT DISTINCT FROM o.${c}`)
    .join(' AND ');
  return raw(`hour_tuples AS (
  WITH own AS (SELECT DISTINCT unit, psrc, srcport, pdst, dstport, protocol FROM obs WHERE unit = ${HOUR_OF('start_time')})
  SELECT * FROM own
  UNION ALL
  SELECT unit, pdst, dstport, psrc, srcport, protocol FROM own
),
obs_tuples AS (
  SELECT o.* FROM obs AS o SEMI JOIN hour_tuples AS k ON ${same}
)`);
}

/**
 * CTEs `own_rec` and those of own-address-query.ts, ending in `own_addr`. Derived per hour with no files of records
 * without flow-direction (the usual case with v5 and later records), `own_addr` would be empty: it is written as an
 * empty relation, so the statement does not plan the dozen CTEs that judge own addresses (about 15 ms a run).
 */
function ownAddressesSql(source: FlowSource): SqlFragment {
  if (source.units && source.units.ownAddressFiles.length === 0)
    return raw(
      'own_addr AS (SELECT NULL::BIGINT AS unit, NULL::VARCHAR AS interface_id, NULL::VARCHAR[] AS addrs, NULL::BOOLEAN AS ambiguous WHERE FALSE)',
    );
  return sql`${ownRecordsCte(source)},
${ownAddressCtes()}`;
}

/**
 * The first and last `unit` of a record: the hours' numbers whose widened span may hold its start, clipped to the
 * run's first and last listed hour (`rec` keeps those listed), else 0 and 0. Clipped here, a record in the context
 * before the run's first hour (or after its last) does not unnest a unit dropped at once: half the rows of a one-hour
 * run, a delivery's usual one.
 */
function unitRange(source: FlowSource): [SqlFragment, SqlFragment] {
  if (!source.units) return [raw('0::BIGINT'), raw('0::BIGINT')];
  const c = source.units.contextSeconds;
  if (!Number.isSafeInteger(c) || c < 0) throw new Error(`derivation context must be whole seconds, got ${c}`);
  const [first, last] = [Math.min(...source.units.hours), Math.max(...source.units.hours)];
  // Hours h with h*3600 - c <= t < (h+1)*3600 + c: from floor((t - c) / 3600) to floor((t + c) / 3600).
  return [
    raw(`greatest(CAST(floor((epoch(start_time) - ${c}) / 3600) AS BIGINT), ${first})`),
    raw(`least(CAST(floor((epoch(start_time) + ${c}) / 3600) AS BIGINT), ${last})`),
  ];
}

/** The epoch hour number of a timestamp column: the `unit` whose own hour holds it. */
export const HOUR_OF = (column: string): string => `CAST(floor(epoch(${column}) / 3600) AS BIGINT)`;

const REC_COLUMNS = `account_id, region, interface_id, instance_id, subnet_id, vpc_id, az_id, srcaddr, dstaddr, srcport, dstport,
           protocol, packets, bytes, start_time, end_time, action, tcp_flags, flow_direction, traffic_path,
           pkt_src_aws_service, pkt_dst_aws_service, interface_type,
           coalesce(pkt_srcaddr, srcaddr) AS psrc, coalesce(pkt_dstaddr, dstaddr) AS pdst,
           CAST(start_time AS DATE) AS day`;

/**
 * CTE `own_rec`: the records an interface's own addresses are judged from (own-address-query.ts), needed only for
 * records without flow-direction (v2-v4). Read whole, the source's own records. Derived per hour, the records of the
 * hour's whole UTC day, with the day's number as `unit` (an hour's window alone often holds one exchange with one peer,
 * which says nothing about which address is whose): the files of the days that hold records without flow-direction,
 * `units.ownAddressFiles` (derive-tables.ts re-derives every hour of such a day when it changes); none otherwise.
 */
function ownRecordsCte(source: FlowSource): SqlFragment {
  if (!source.units) return raw('own_rec AS (SELECT * FROM rec)');
  const days = [...new Set(source.units.hours.map((h) => Math.floor(h / 24)))];
  return sql`own_rec AS (
  SELECT * FROM (
    SELECT ${raw(REC_COLUMNS)}, CAST(floor(epoch(start_time) / 86400) AS BIGINT) AS unit
    FROM ${parquetSourceSql(source.units.ownAddressFiles)}
    WHERE srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND start_time IS NOT NULL
  )
  WHERE list_contains(${days}, unit)
)`;
}
