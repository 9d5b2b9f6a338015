/**
 * The vocabulary of connection analytics (docs/semantics.md §3-§9): the values a handshake, endpoint, edge, cost
 * group or scan row can take, the ones a client may choose (levels, orders, groupings), and a handshake's page key.
 * They live in the domain, not next to the SQL that uses them, so GraphQL enums and /datasets parameters name them without reaching into
 * src/analytics; the SQL behind each value stays there.
 */

/** How the client side of a flow was decided (semantics.md §4), strongest first. */
export const DIRECTION_METHODS = ['HANDSHAKE', 'PORT', 'UNKNOWN'] as const;
export type DirectionMethod = (typeof DIRECTION_METHODS)[number];

/** Handshake states (semantics.md §3). */
export const HANDSHAKE_STATES = ['ESTABLISHED', 'REJECTED', 'UNANSWERED', 'RESET'] as const;
export type HandshakeState = (typeof HANDSHAKE_STATES)[number];

/** What an endpoint resolved to (semantics.md §5), most specific first. */
export const ENDPOINT_KINDS = ['INSTANCE', 'INTERFACE', 'AWS_SERVICE', 'UNRESOLVED', 'EXTERNAL'] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

/** Aggregation levels of an edge. TAG groups ends by the value of a tag key (edge-grouping.ts). */
export const EDGE_LEVELS = ['INSTANCE', 'INTERFACE', 'SUBNET', 'VPC', 'ACCOUNT', 'ADDRESS', 'TAG'] as const;
export type EdgeLevel = (typeof EDGE_LEVELS)[number];

/** Sort keys of edges (all descending; ties broken by client id, server id, protocol, port), the cost lens included. */
export const EDGE_ORDERS = [
  'BYTES',
  'BYTES_TO_SERVER',
  'BYTES_TO_CLIENT',
  'CONNECTIONS',
  'RECORDS',
  'REJECTED_RECORDS',
  'LAST_SEEN',
  'CROSS_AZ_BYTES',
  'CROSS_REGION_BYTES',
  'NAT_BYTES',
  'INTERNET_BYTES',
] as const;
export type EdgeOrder = (typeof EDGE_ORDERS)[number];

/** How trafficCost splits its totals. */
export const COST_GROUPS = ['SENDER', 'PAIR'] as const;
export type CostGroup = (typeof COST_GROUPS)[number];

/** Sort keys of cost groups (all descending). */
export const COST_ORDERS = ['BYTES', 'CROSS_AZ_BYTES', 'CROSS_REGION_BYTES', 'NAT_BYTES', 'INTERNET_BYTES'] as const;
export type CostOrder = (typeof COST_ORDERS)[number];

/** What a scan row was judged on (`ScanEvidence` in the schema). */
export const SCAN_EVIDENCE = ['FAILED_HANDSHAKES', 'REJECTED_RECORDS'] as const;
export type ScanEvidence = (typeof SCAN_EVIDENCE)[number];

/** Which derived relation a connection question reads, and so which filter fields it can honour. */
export type ConnectionTable = 'handshakes' | 'edges';

/**
 * Keyset position of a handshake: its start and its 4-tuple (unique: one handshake per tuple per session). The
 * page query orders by it and the API's cursor carries it, so both sides need the same shape.
 */
export interface HandshakeKey {
  readonly startTime: Date;
  readonly clientAddr: string;
  readonly clientPort: number;
  readonly serverAddr: string;
  readonly serverPort: number;
}
