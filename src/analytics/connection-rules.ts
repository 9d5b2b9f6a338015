/**
 * The numeric rules of docs/semantics.md §1-§6 that flowql's connection analytics apply, in one place, with the
 * reasoning for each choice the spec leaves open. The SQL builders in this folder read these constants; nothing else
 * decides these numbers.
 */

/**
 * Pairing tolerance between a SYN record and the SYN-ACK record of the reversed tuple, and the gap that separates two
 * handshakes on the same 5-tuple (port reuse). One aggregation interval (600 s) is AWS's maximum window: records of one
 * handshake can start up to one window apart, on either side of a file or of midnight.
 */
export const HANDSHAKE_SKEW_SECONDS = 600;

/**
 * How long before its first and after its last record an address stays mapped to the interface that logged it.
 * One window: a peer's record of the same packets may start up to one aggregation interval away. Outside this span
 * the address is NOT attributed to the interface (addresses get reused by other instances later).
 */
export const ADDRESS_VALIDITY_SLACK_SECONDS = 600;

/**
 * How far around a derived hour the records that decide its rows are read (derive-tables.ts). Derived rows are
 * computed per UTC hour from the records starting in that hour widened by this much on each side, and from nothing
 * else, so a new record can only change the rows of the hours whose widened span holds its start: the hour itself
 * and at most one neighbour. That is what keeps an ingest's derivation proportional to the delivery, not to the day.
 *
 * What the bound means for the rules (docs/semantics.md §3, §4), each stated for a record in the hour:
 * - pairing: a SYN-ACK is looked for up to HANDSHAKE_SKEW after the SYN record's window ends, and a window lasts at
 *   most one aggregation interval (600 s): 30 minutes leaves 10 minutes for windows AWS closes late;
 * - a handshake's FIN or RST, and the SYN retransmissions that extend its session, count when they start at most 30
 *   minutes after the end of the SYN's hour (at least 30 minutes after the SYN);
 * - the look-back window of the HANDSHAKE direction method: a tuple is oriented by a handshake that started at most
 *   30 minutes before its record's hour or 30 minutes after it; later records of a longer connection fall back to the
 *   PORT rule, which names the same client for every connection from an ephemeral port;
 * - an interface's own addresses, forwarding role and a tuple's best observer are judged from the same span.
 */
export const DERIVE_CONTEXT_SECONDS = 1_800;

/** TCP flag bits as flow logs report them (see src/domain/fields.ts TCP_FLAGS). */
export const FLAG = { FIN: 1, SYN: 2, RST: 4, ACK: 16, SYN_ACK: 18 } as const;

/**
 * Interface types (v11 `interface-type`) that forward other hosts' traffic under their own address. Without v11 a
 * forwarding interface is recognised by behaviour instead: no instance attached and at least one record whose
 * packet-level address differs from the logged one (see normalized-records-query.ts).
 */
export const FORWARDING_INTERFACE_TYPES: readonly string[] = ['nat_gateway', 'regional_nat_gateway'];

/** traffic-path codes meaning "leaves through an internet gateway" (2: IGW or gateway endpoint, 8: IGW on Nitro). */
export const INTERNET_TRAFFIC_PATHS: readonly number[] = [2, 8];
