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
import { raw, type SqlFragment } from '../store/sql.ts';

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
