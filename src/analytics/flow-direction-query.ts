/**
 * Who is the client of a flow (docs/semantics.md §4), as SQL expressions over a 5-tuple.
 *
 * Rules, as implemented:
 * 1. HANDSHAKE: the tuple had a handshake (it is client->server) or its reverse had one (server->client).
 * 2. PORT: otherwise the side with the lower port is the server. This is the spec's rule collapsed: a port < 1024
 *    against one >= 1024 is the lower one, a port < 32768 against an ephemeral one (>= 32768) is the lower one, and
 *    between two registered ports "the higher port is the client" is the same test.
 * 3. UNKNOWN: equal ports (NTP 123<->123, ICMP with ports 0) or a missing port. Both directions of such a tuple are
 *    still oriented one way so they form one edge: the lexically smaller address is taken as the client.
 */
import { build, join, raw, sql, type SqlFragment, type SqlQuery } from '../store/sql.ts';
import { DERIVE_CONTEXT_SECONDS } from './connection-rules.ts';
import { secondsSql } from './sql-interval.ts';

/**
 * `method` and `is_c2s` (true when psrc is the client) for a row with psrc, srcport, pdst, dstport and booleans
 * `hs_fwd` (the tuple had a handshake) and `hs_rev` (its reverse had one).
 */
export function directionColumnsSql(): SqlFragment {
  return raw(`CASE WHEN hs_fwd OR hs_rev THEN 'HANDSHAKE'
            WHEN srcport IS NOT NULL AND dstport IS NOT NULL AND srcport <> dstport THEN 'PORT'
            ELSE 'UNKNOWN' END AS method,
       CASE WHEN hs_fwd THEN true WHEN hs_rev THEN false
            WHEN srcport IS NOT NULL AND dstport IS NOT NULL AND srcport <> dstport THEN srcport > dstport
            ELSE psrc <= pdst END AS is_c2s`);
}

/** One flow record to orient: its index in the caller's list, packet-level tuple and the start of its UTC hour. */
export interface FlowTupleKey {
  readonly i: number;
  readonly psrc: string;
  readonly srcport: number | null;
  readonly pdst: string;
  readonly dstport: number | null;
  readonly protocol: number | null;
  readonly hour: Date;
}

const tupleMatch = (c: string, cp: string, s: string, sp: string): string =>
  `h.client_addr = k.${c} AND h.client_port = k.${cp} AND h.server_addr = k.${s} AND h.server_port = k.${sp}`;

/**
 * `flows.direction`: client, server and method for a page of records, looking up `handshakes` (a handshakes relation
 * covering the records' hours widened by DERIVE_CONTEXT_SECONDS) the way edge rows do: a TCP tuple, or its reverse,
 * with a handshake starting in the record's UTC hour widened by the derivation context (the look-back window of
 * connection-rules.ts). Rows: i, method, client_addr, client_port, server_addr, server_port.
 */
export function flowDirectionLookupQuery(keys: readonly FlowTupleKey[], handshakes: SqlFragment): SqlQuery {
  const context = secondsSql(DERIVE_CONTEXT_SECONDS);
  const values = join(
    keys.map(
      (k) =>
        sql`(${k.i}::INTEGER, ${k.psrc}::VARCHAR, ${k.srcport}::INTEGER, ${k.pdst}::VARCHAR, ${k.dstport}::INTEGER, ${k.protocol}::INTEGER, ${k.hour}::TIMESTAMP)`,
    ),
    ',\n  ',
  );
  return build(
    'flows.direction',
    sql`WITH k(i, psrc, srcport, pdst, dstport, protocol, hour) AS (VALUES
  ${values}
),
m AS (
  SELECT k.i, coalesce(bool_or(${raw(tupleMatch('psrc', 'srcport', 'pdst', 'dstport'))}), false) AS hs_fwd,
         coalesce(bool_or(${raw(tupleMatch('pdst', 'dstport', 'psrc', 'srcport'))}), false) AS hs_rev
  FROM k LEFT JOIN ${handshakes} AS h
    ON k.protocol = 6
   AND ((${raw(tupleMatch('psrc', 'srcport', 'pdst', 'dstport'))}) OR (${raw(tupleMatch('pdst', 'dstport', 'psrc', 'srcport'))}))
   AND h.start_time >= k.hour - ${context} AND h.start_time < k.hour + INTERVAL 1 HOUR + ${context}
  GROUP BY k.i
)
SELECT i, method,
       CASE WHEN is_c2s THEN psrc ELSE pdst END AS client_addr, CASE WHEN is_c2s THEN srcport ELSE dstport END AS client_port,
       CASE WHEN is_c2s THEN pdst ELSE psrc END AS server_addr, CASE WHEN is_c2s THEN dstport ELSE srcport END AS server_port
FROM (SELECT k.*, m.hs_fwd, m.hs_rev, ${directionColumnsSql()} FROM k JOIN m USING (i))
ORDER BY i`,
  );
}
