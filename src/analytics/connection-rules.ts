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

/** How the client side of a flow was decided (semantics.md §4), strongest first. */
export const DIRECTION_METHODS = ['HANDSHAKE', 'PORT', 'UNKNOWN'] as const;
export type DirectionMethod = (typeof DIRECTION_METHODS)[number];

/** Handshake states (semantics.md §3). */
export const HANDSHAKE_STATES = ['ESTABLISHED', 'REJECTED', 'UNANSWERED', 'RESET'] as const;
export type HandshakeState = (typeof HANDSHAKE_STATES)[number];

/** What an endpoint resolved to (semantics.md §5), most specific first. */
export const ENDPOINT_KINDS = ['INSTANCE', 'INTERFACE', 'AWS_SERVICE', 'UNRESOLVED', 'EXTERNAL'] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

/** Aggregation levels of an edge. */
export const EDGE_LEVELS = ['INSTANCE', 'INTERFACE', 'SUBNET', 'VPC', 'ADDRESS'] as const;
export type EdgeLevel = (typeof EDGE_LEVELS)[number];
