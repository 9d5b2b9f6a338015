/**
 * The first CTEs of every connection query: raw records turned into observations with the packet-level addresses,
 * the direction relative to the recording interface (given or inferred), and whether the interface forwards traffic
 * for others (a NAT gateway). CTE names defined here: `rec`, `own_candidates`, `own_ranked`, `own_addr`, `forwarding`, `obs`.
 *
 * Rules (docs/semantics.md §1, §2, §5), as implemented:
 * - psrc/pdst = pkt-srcaddr/pkt-dstaddr when present, else srcaddr/dstaddr: the true ends of the packet.
 * - direction = flow-direction when present; otherwise inferred: the interface's own addresses are the addresses
 *   seen in the most records of that interface (per address family; an IPv4 candidate must be private, because AWS
 *   always logs an interface's private IPv4 address); srcaddr own -> egress, dstaddr own -> ingress. Two private
 *   addresses seen in exactly as many records (one peer only) cannot be told apart: both count as own, and the
 *   records are taken as egress, unless one of them is the sole own address of another interface (its peer's, when
 *   the peer's interface saw more traffic): then the other one is this interface's.
 * - A forwarding interface has no instance and either a NAT interface-type or a record whose packet address differs
 *   from the logged one. At such an interface the records whose packet addresses equal the logged ones are its own
 *   outside legs (NAT IP <-> internet host): the same bytes as the inside legs under a translated tuple. They are
 *   dropped from all analytics (they would add a second copy of the instance's bytes and an edge from the NAT).
 * - prio: which observation counts a directional flow's bytes: 1 the sender's egress record (egress at a
 *   non-forwarding interface), 2 the receiver's ingress record, 3 a forwarding interface's transit record.
 */
import { sql, type SqlFragment } from '../store/sql.ts';
import { FORWARDING_INTERFACE_TYPES } from './connection-rules.ts';
import { flowScanSql, type FlowSource } from './flow-source.ts';

/** RFC 1918 and RFC 6598 (carrier-grade NAT) IPv4 ranges, the only IPv4 addresses an interface logs as its own. */
const PRIVATE_IPV4_PATTERN = String.raw`^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.)`;

/** CTEs `rec`, `own_addr`, `forwarding`, `obs` over the given records. */
export function observationCtes(source: FlowSource): SqlFragment {
  return sql`rec AS (
  SELECT account_id, region, interface_id, instance_id, subnet_id, vpc_id, az_id, srcaddr, dstaddr, srcport, dstport,
         protocol, packets, bytes, start_time, end_time, action, tcp_flags, flow_direction, traffic_path,
         pkt_src_aws_service, pkt_dst_aws_service, interface_type,
         coalesce(pkt_srcaddr, srcaddr) AS psrc, coalesce(pkt_dstaddr, dstaddr) AS pdst,
         CAST(start_time AS DATE) AS day
  FROM ${flowScanSql(source)}
  WHERE srcaddr IS NOT NULL AND dstaddr IS NOT NULL AND start_time IS NOT NULL
),
own_candidates AS (
  SELECT interface_id, addr, count(*) AS n
  FROM (SELECT interface_id, srcaddr AS addr FROM rec WHERE flow_direction IS NULL
        UNION ALL SELECT interface_id, dstaddr FROM rec WHERE flow_direction IS NULL)
  GROUP BY interface_id, addr
),
own_ranked AS (
  SELECT *, count(*) OVER (PARTITION BY interface_id, contains(addr, ':')) AS tied
  FROM (SELECT * FROM own_candidates
        WHERE contains(addr, ':') OR regexp_matches(addr, ${PRIVATE_IPV4_PATTERN})
        QUALIFY n = max(n) OVER (PARTITION BY interface_id, contains(addr, ':')))
),
own_addr AS (
  SELECT interface_id, list(addr) AS addrs
  FROM own_ranked AS o
  WHERE tied = 1
     OR addr NOT IN (SELECT s.addr FROM own_ranked AS s WHERE s.tied = 1 AND s.interface_id <> o.interface_id)
  GROUP BY interface_id
),
forwarding AS (
  SELECT interface_id FROM rec
  GROUP BY interface_id
  HAVING bool_and(instance_id IS NULL)
     AND bool_or(psrc <> srcaddr OR pdst <> dstaddr OR list_contains(${FORWARDING_INTERFACE_TYPES}::VARCHAR[], interface_type))
),
obs AS (
  SELECT *, CASE WHEN at_forwarder THEN 3 WHEN dir = 'egress' THEN 1 WHEN dir = 'ingress' THEN 2 ELSE 3 END AS prio
  FROM (
    SELECT rec.*, forwarding.interface_id IS NOT NULL AS at_forwarder, rec.flow_direction IS NULL AS dir_inferred,
           coalesce(rec.flow_direction,
                    CASE WHEN list_contains(own_addr.addrs, rec.srcaddr) THEN 'egress'
                         WHEN list_contains(own_addr.addrs, rec.dstaddr) THEN 'ingress' END) AS dir
    FROM rec
    LEFT JOIN own_addr ON own_addr.interface_id = rec.interface_id
    LEFT JOIN forwarding ON forwarding.interface_id = rec.interface_id
  )
  WHERE NOT (at_forwarder AND psrc = srcaddr AND pdst = dstaddr)
)`;
}
