/**
 * Which addresses are an interface's own (docs/semantics.md §2, §5), for records without flow-direction (v2-v4).
 * CTEs defined: `own_candidates`, `own_ranked`, `iface_info`, `own_proof`, `own_sure`, `subnet_pick`, `own_addr`
 * (needs `own_rec`, records with psrc/pdst and `unit`; every judgement is made within one unit, see
 * normalized-records-query.ts). `own_addr` (unit, interface_id, addrs, ambiguous) is the result.
 *
 * Signals, strongest first (each is a fact about the records, never a guess):
 * 1. Proof: flow-direction (egress: srcaddr is own, ingress: dstaddr); a packet-level address differing from the
 *    logged one (AWS substitutes the interface's primary address, flow-logs.md §1); a tuple REJECTed at one interface
 *    and ACCEPTed at another in an overlapping window (a packet dropped on its way out never reaches a second
 *    interface, so the rejecting one is the receiver: dstaddr is its own).
 * 2. Count: the private IPv4 (or IPv6) address in the most records of the interface, per address family.
 * 3. For interfaces where two addresses tie on count (one exchange with one peer logs both equally often):
 *    a. a proof for one of them;
 *    b. exclusivity: a candidate that is another interface's sure (or subnet-picked) address during an overlapping
 *       span is not this one's (addresses are reused later, so spans must overlap);
 *    c. subnet (v3+ `subnet-id`): subnets are disjoint CIDR blocks, so of two candidates the one sharing the longer
 *       address prefix with the sure addresses of other interfaces in the interface's subnet is its own. Used only
 *       when no other interface tied on the same candidates sits in the same subnet (both ends in one subnet: the
 *       prefixes say nothing).
 * 4. Otherwise both candidates stay: `ambiguous` is true and the records' direction is left unknown rather than
 *    guessed (normalized-records-query.ts then counts the bytes once and leaves the endpoints UNRESOLVED).
 */
import { raw, sql, type SqlFragment } from '../store/sql.ts';
import { HANDSHAKE_SKEW_SECONDS } from './connection-rules.ts';
import { secondsSql } from './sql-interval.ts';

/** RFC 1918 and RFC 6598 (carrier-grade NAT) IPv4 ranges, the only IPv4 addresses an interface logs as its own. */
const PRIVATE_IPV4_PATTERN = String.raw`^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.)`;

/** IPv4 dotted quad -> BIGINT (NULL for IPv6), for prefix comparisons. */
const ipv4Int = (col: string): string =>
  `CASE WHEN NOT contains(${col}, ':') THEN list_reduce(list_transform(string_split(${col}, '.'), x -> x::BIGINT), (a, b) -> a * 256 + b) END`;

/** Leading bits two IPv4 integers share (32 when equal). */
const commonPrefixBits = (a: string, b: string): string =>
  `CASE WHEN ${a} = ${b} THEN 32 ELSE 31 - floor(log2(xor(${a}, ${b})))::INTEGER END`;

/** The own-address CTEs over `own_rec` (the records judged, with the `unit` each judgement is made within). */
export function ownAddressCtes(): SqlFragment {
  const skew = secondsSql(HANDSHAKE_SKEW_SECONDS);
  return sql`own_candidates AS (
  SELECT unit, interface_id, addr, count(*) AS n, min(start_time) AS first_seen, max(coalesce(end_time, start_time)) AS last_seen
  FROM (SELECT unit, interface_id, srcaddr AS addr, start_time, end_time FROM own_rec WHERE flow_direction IS NULL
        UNION ALL SELECT unit, interface_id, dstaddr, start_time, end_time FROM own_rec WHERE flow_direction IS NULL)
  GROUP BY unit, interface_id, addr
),
own_ranked AS (
  SELECT *, count(*) OVER (PARTITION BY unit, interface_id, v6) AS tied
  FROM (SELECT *, contains(addr, ':') AS v6 FROM own_candidates
        WHERE contains(addr, ':') OR regexp_matches(addr, ${PRIVATE_IPV4_PATTERN})
        QUALIFY n = max(n) OVER (PARTITION BY unit, interface_id, contains(addr, ':')))
),
iface_info AS (
  -- min, not any_value: an interface's records name one subnet (or none, before v3); min picks the same one
  -- whatever order the files were read in.
  SELECT unit, interface_id, min(subnet_id) AS subnet_id FROM own_rec GROUP BY unit, interface_id
),
own_proof AS (
  SELECT unit, interface_id, addr, min(start_time) AS first_seen, max(coalesce(end_time, start_time)) AS last_seen
  FROM (
    SELECT unit, interface_id, CASE flow_direction WHEN 'egress' THEN srcaddr WHEN 'ingress' THEN dstaddr END AS addr,
           start_time, end_time
    FROM own_rec WHERE flow_direction IS NOT NULL
    UNION ALL SELECT unit, interface_id, srcaddr, start_time, end_time FROM own_rec WHERE psrc <> srcaddr
    UNION ALL SELECT unit, interface_id, dstaddr, start_time, end_time FROM own_rec WHERE pdst <> dstaddr
    UNION ALL
    SELECT r.unit, r.interface_id, r.dstaddr, r.start_time, r.end_time
    FROM own_rec AS r JOIN own_rec AS a
      ON a.unit = r.unit AND a.srcaddr = r.srcaddr AND a.dstaddr = r.dstaddr AND a.protocol IS NOT DISTINCT FROM r.protocol
     AND a.srcport IS NOT DISTINCT FROM r.srcport AND a.dstport IS NOT DISTINCT FROM r.dstport
     AND a.interface_id <> r.interface_id AND a.action = 'ACCEPT'
     AND a.start_time <= coalesce(r.end_time, r.start_time) + ${skew}
     AND r.start_time <= coalesce(a.end_time, a.start_time) + ${skew}
    WHERE r.action = 'REJECT'
  )
  WHERE addr IS NOT NULL
  GROUP BY unit, interface_id, addr
),
own_sure AS (
  SELECT unit, interface_id, addr, first_seen, last_seen FROM own_ranked WHERE tied = 1
  UNION ALL SELECT unit, interface_id, addr, first_seen, last_seen FROM own_proof
),
own_tied AS (
  SELECT o.*, i.subnet_id,
         list_sort(list(o.addr) OVER (PARTITION BY o.unit, o.interface_id, o.v6)) AS cands
  FROM own_ranked AS o JOIN iface_info AS i USING (unit, interface_id)
  WHERE o.tied > 1
),
own_scored AS (
  SELECT o.unit, o.interface_id, o.addr, o.v6, o.first_seen, o.last_seen,
         max(${raw(commonPrefixBits(ipv4Int('o.addr'), ipv4Int('s.addr')))}) AS score
  FROM own_tied AS o
  JOIN iface_info AS si ON si.unit = o.unit AND si.subnet_id = o.subnet_id AND si.interface_id <> o.interface_id
  JOIN own_sure AS s ON s.unit = si.unit AND s.interface_id = si.interface_id AND NOT contains(s.addr, ':') AND NOT list_contains(o.cands, s.addr)
  WHERE NOT o.v6
    AND NOT EXISTS (SELECT 1 FROM own_tied AS m
                    WHERE m.unit = o.unit AND m.interface_id <> o.interface_id AND m.cands = o.cands AND m.subnet_id = o.subnet_id)
  GROUP BY ALL
),
subnet_pick AS (
  SELECT unit, interface_id, addr, first_seen, last_seen FROM own_scored
  QUALIFY score = max(score) OVER (PARTITION BY unit, interface_id, v6) AND count(*) OVER (PARTITION BY unit, interface_id, v6, score) = 1
),
own_judged AS (
  SELECT o.unit, o.interface_id, o.addr, o.v6,
         EXISTS (SELECT 1 FROM own_proof AS p WHERE p.unit = o.unit AND p.interface_id = o.interface_id AND p.addr = o.addr) AS proven,
         EXISTS (SELECT 1 FROM subnet_pick AS p WHERE p.unit = o.unit AND p.interface_id = o.interface_id AND p.addr = o.addr) AS in_subnet,
         EXISTS (SELECT 1 FROM (SELECT * FROM own_sure UNION ALL SELECT * FROM subnet_pick) AS s
                 WHERE s.unit = o.unit AND s.addr = o.addr AND s.interface_id <> o.interface_id
                   AND s.first_seen <= o.last_seen AND o.first_seen <= s.last_seen) AS taken
  FROM own_ranked AS o WHERE o.tied > 1
),
own_kept AS (
  SELECT unit, interface_id, addr, v6 FROM own_ranked WHERE tied = 1
  UNION ALL
  SELECT unit, interface_id, addr, v6
  FROM (SELECT *, bool_or(proven) OVER w AS any_proven, bool_or(taken) OVER w AND NOT bool_and(taken) OVER w AS by_taken,
               bool_or(in_subnet) OVER w AS any_subnet
        FROM own_judged WINDOW w AS (PARTITION BY unit, interface_id, v6))
  WHERE CASE WHEN any_proven THEN proven WHEN by_taken THEN NOT taken WHEN any_subnet THEN in_subnet ELSE true END
),
own_addr AS MATERIALIZED (
  SELECT unit, interface_id, list(addr) AS addrs, max(n) > 1 AS ambiguous
  FROM (SELECT *, count(*) OVER (PARTITION BY unit, interface_id, v6) AS n FROM own_kept)
  GROUP BY unit, interface_id
)`;
}
