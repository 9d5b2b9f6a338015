/**
 * `trafficEdges(filter, level, orderBy, first, after)`: the communication graph (docs/semantics.md §6) as a Relay
 * connection of client -> server edges at a level, bytes counted once per direction, with the cost lens; and
 * `trafficCost(filter)`: the same totals over every edge of the window in one row. No SQL here.
 *
 * Edges are aggregates, so they page by offset (the cursor holds it): a commit between two pages can reorder them.
 */
import { EDGE_LEVELS, type DirectionMethod, type EdgeLevel } from '../../analytics/connection-rules.ts';
import { EDGE_ORDERS } from '../../analytics/edge-query.ts';
import { checkCount } from '../../domain/aggregate-enums.ts';
import { InputError } from '../../domain/input-error.ts';
import type { Row } from '../../store/query-runner.ts';
import { readEdgeTotals, readEdges } from '../../questions/edge-reader.ts';
import { builder } from '../builder.ts';
import { DirectionMethodEnum } from './flow-direction.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';
import { EndpointRef } from './traffic-edge-endpoint.ts';
import { endpointFromRow } from '../../questions/endpoint.ts';

/** Aggregation levels of edges. */
export const EdgeLevelEnum = builder.enumType('EdgeLevel', {
  description:
    'What an edge endpoint is: INSTANCE (else the interface, else the address), INTERFACE (else the address), SUBNET, ' +
    'VPC (else the address, for endpoints outside the monitored VPCs), ADDRESS (the packet-level IP).',
  values: EDGE_LEVELS,
});

/** Sort keys of edges. */
export const EdgeOrderEnum = builder.enumType('EdgeOrder', {
  description: 'Sort key of edges, largest first; ties by client id, server id, protocol, port.',
  values: EDGE_ORDERS,
});

const big = (v: unknown): bigint => BigInt((v ?? 0) as bigint | number);

/** The TrafficEdge object type (a row of edgeAggregateSql). */
export const TrafficEdgeRef = builder.objectRef<Row>('TrafficEdge').implement({
  description:
    'All traffic between a client and a server endpoint on one protocol and server port in the window. Bytes and ' +
    "packets count each direction once: from the sender's egress record when its interface is monitored, else the " +
    "receiver's ingress record; NAT gateway legs are attributed to the inside instance and never added again.",
  fields: (t) => ({
    client: t.field({ type: EndpointRef, resolve: (r) => endpointFromRow(r, 'client', String(r.client_id)) }),
    server: t.field({ type: EndpointRef, resolve: (r) => endpointFromRow(r, 'server', String(r.server_id)) }),
    protocol: t.int({ resolve: (r) => Number(r.protocol) }),
    serverPort: t.int({ nullable: true, description: '0 for ICMP; null when the records had no ports.', resolve: (r) => (r.server_port === null ? null : Number(r.server_port)) }),
    bytesToServer: t.field({ type: 'BigInt', resolve: (r) => big(r.bytes_to_server) }),
    bytesToClient: t.field({ type: 'BigInt', resolve: (r) => big(r.bytes_to_client) }),
    bytes: t.field({ type: 'BigInt', description: 'bytesToServer + bytesToClient.', resolve: (r) => big(r.bytes_to_server) + big(r.bytes_to_client) }),
    packetsToServer: t.field({ type: 'BigInt', resolve: (r) => big(r.packets_to_server) }),
    packetsToClient: t.field({ type: 'BigInt', resolve: (r) => big(r.packets_to_client) }),
    connections: t.field({ type: 'BigInt', description: 'TCP handshakes (SYN records) of the edge.', resolve: (r) => big(r.connections) }),
    records: t.field({ type: 'BigInt', description: 'Records of the edge at every observation point (as logged).', resolve: (r) => big(r.records) }),
    rejectedRecords: t.field({ type: 'BigInt', resolve: (r) => big(r.rejected_records) }),
    firstSeen: t.field({ type: 'DateTime', resolve: (r) => r.first_seen as Date }),
    lastSeen: t.field({ type: 'DateTime', resolve: (r) => r.last_seen as Date }),
    directionMethod: t.field({
      type: DirectionMethodEnum,
      description: 'The strongest method that oriented any of its flows (HANDSHAKE, then PORT, then UNKNOWN).',
      resolve: (r) => r.direction_method as DirectionMethod,
    }),
    observedAt: t.stringList({
      description: 'Interfaces whose records the edge was built from, sorted.',
      resolve: (r) => (Array.isArray(r.observed_interfaces) ? r.observed_interfaces.map(String) : []),
    }),
    crossAzBytes: t.field({ type: 'BigInt', description: 'Bytes between endpoints in different Availability Zones.', resolve: (r) => big(r.cross_az_bytes) }),
    crossRegionBytes: t.field({ type: 'BigInt', description: 'Bytes between endpoints in different regions.', resolve: (r) => big(r.cross_region_bytes) }),
    natBytes: t.field({ type: 'BigInt', description: 'Bytes that went through a NAT gateway.', resolve: (r) => big(r.nat_bytes) }),
    internetBytes: t.field({
      type: 'BigInt',
      description: 'Bytes that left through an internet gateway (traffic-path 2 or 8) or a NAT gateway to an external address.',
      resolve: (r) => big(r.internet_bytes),
    }),
  }),
});

/** The trafficEdges connection type. */
export const TrafficEdgeConnectionRef = builder.connectionObject({
  type: TrafficEdgeRef,
  name: 'TrafficEdgeConnection',
  description: 'A page of edges. Cursors hold an offset: valid with the same filter, level and orderBy.',
});

const CURSOR_EXPECTED = 'a cursor returned by a previous page of trafficEdges';

/** Opaque cursor of the offset after an edge. */
export function encodeEdgeCursor(offset: number): string {
  return Buffer.from(`e1:${offset}`).toString('base64url');
}

/** The offset of a cursor; InputError(`after`) when it is not one of ours. */
export function decodeEdgeCursor(cursor: string): number {
  const m = /^e1:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InputError('after', CURSOR_EXPECTED, cursor);
  return Number(m[1]);
}

/** Cost totals of a window. */
const TrafficCostRef = builder.objectRef<{ from: Date; to: Date; row: () => Promise<Row> }>('TrafficCost').implement({
  description: 'Totals over every edge of the window: bytes once per direction, and where they cost money.',
  fields: (t) => {
    const total = (column: string, description: string) =>
      t.field({ type: 'BigInt', description, resolve: async (p) => big((await p.row())[column]) });
    return {
      from: t.field({ type: 'DateTime', resolve: (p) => p.from }),
      to: t.field({ type: 'DateTime', resolve: (p) => p.to }),
      bytes: total('bytes', 'All bytes, each counted once (not the naive sum over records).'),
      bytesToServer: total('bytes_to_server', 'Bytes clients sent.'),
      bytesToClient: total('bytes_to_client', 'Bytes servers sent.'),
      packets: total('packets', 'All packets, each counted once.'),
      connections: total('connections', 'TCP handshakes.'),
      records: total('records', 'Records the totals were built from.'),
      crossAzBytes: total('cross_az_bytes', 'Bytes between endpoints in different Availability Zones.'),
      crossRegionBytes: total('cross_region_bytes', 'Bytes between endpoints in different regions.'),
      natBytes: total('nat_bytes', 'Bytes through NAT gateways.'),
      internetBytes: total('internet_bytes', 'Bytes to the internet (internet gateway, or NAT gateway to an external address).'),
    };
  },
});

/** Checks a level argument (the enum already restricts it; kept for callers passing strings). */
function levelOf(v: string | null | undefined): EdgeLevel {
  return (v ?? 'INSTANCE') as EdgeLevel;
}

builder.queryFields((t) => ({
  trafficEdges: t.field({
    type: TrafficEdgeConnectionRef,
    description:
      'Who talks to whom: client -> server edges at `level` in the filter window, largest first by `orderBy`. Filter ' +
      'fields apply to connections: ids and `addr` match either end, `srcAddr` the client, `dstAddr` the server, ' +
      '`port`/`dstPort` the server port, each with its `not` form; fields that describe single records (actions, ' +
      'tcpFlags, ...) and the client port are refused with BAD_USER_INPUT. Edge rows have hour resolution: a window ' +
      'cuts at whole hours.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      level: t.arg({ type: EdgeLevelEnum, required: true, defaultValue: 'INSTANCE' }),
      orderBy: t.arg({ type: EdgeOrderEnum, required: true, defaultValue: 'BYTES' }),
      first: t.arg.int({ description: 'Page size (default and maximum set by the server, 100 and 1000 by default).' }),
      after: t.arg.string({ description: 'endCursor of the previous page.' }),
    },
    resolve: async (_root, args, ctx) => {
      const first = checkCount('first', args.first ?? ctx.limits.defaultPageSize, 1, ctx.limits.maxPageSize);
      const offset = args.after ? decodeEdgeCursor(args.after) : 0;
      const filter = await resolveFlowFilter(ctx, args.filter);
      const page = await readEdges(ctx.query, { filter, level: levelOf(args.level), orderBy: args.orderBy, first, offset });
      const edges = page.rows.map((node, i) => ({ cursor: encodeEdgeCursor(offset + i + 1), node }));
      return {
        edges,
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: offset > 0,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
  }),

  trafficCost: t.field({
    type: TrafficCostRef,
    description:
      'The cost lens over the whole window: bytes once per direction, cross-AZ, cross-region, NAT gateway and internet ' +
      'bytes (one statement, run only when a total is selected). Per-edge figures are on trafficEdges.',
    args: { filter: t.arg({ type: FlowFilterInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const filter = await resolveFlowFilter(ctx, args.filter);
      let row: Promise<Row> | undefined;
      return { from: filter.timeRange.from, to: filter.timeRange.to, row: () => (row ??= readEdgeTotals(ctx.query, filter)) };
    },
  }),
}));
