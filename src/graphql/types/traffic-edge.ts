/**
 * `trafficEdges(filter, level, orderBy, first, after)`: the communication graph (docs/semantics.md §6) as a Relay
 * connection of client -> server edges at a level, bytes counted once per direction, with the cost lens (its totals and
 * groups are trafficCost, traffic-cost.ts). No SQL here.
 *
 * Edges are aggregates, so they page by offset (the cursor holds it): a commit between two pages can reorder them.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { checkCount } from '../../domain/aggregate-enums.ts';
import { EDGE_LEVELS, EDGE_ORDERS, type EdgeLevel } from '../../domain/connection-enums.ts';
import { edgeGrouping, type EdgeGrouping } from '../../domain/edge-grouping.ts';
import { InputError } from '../../domain/input-error.ts';
import { readEdges, type TrafficEdge } from '../../questions/edge-reader.ts';
import { builder } from '../builder.ts';
import { selectedFieldNames } from './aggregate-selection.ts';
import { DirectionMethodEnum } from './flow-direction.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';
import { EndpointRef } from './traffic-edge-endpoint.ts';

/** Aggregation levels of edges. */
export const EdgeLevelEnum = builder.enumType('EdgeLevel', {
  description:
    'What an edge endpoint is: INSTANCE (else the interface, else the address), INTERFACE (else the address), SUBNET, ' +
    'VPC (else the address, for endpoints outside the monitored VPCs), ACCOUNT (the account whose flow log holds the ' +
    "end's interface, else the address: who talks to whom across accounts), ADDRESS (the packet-level IP), TAG (the " +
    'value of the tag `tagKey` in the inventory, as `key=value` such as `app=payments-api`: service to service; an end ' +
    'without the tag, or one the inventory does not know, keeps its INSTANCE-level id).',
  values: EDGE_LEVELS,
});

/** Sort keys of edges. */
export const EdgeOrderEnum = builder.enumType('EdgeOrder', {
  description:
    'Sort key of edges, largest first; ties by client id, server id, protocol, port. CROSS_AZ_BYTES, ' +
    'CROSS_REGION_BYTES, NAT_BYTES and INTERNET_BYTES rank by the cost lens fields of the same names.',
  values: EDGE_ORDERS,
});

/** The TrafficEdge object type (the edge question's typed value). */
export const TrafficEdgeRef = builder.objectRef<TrafficEdge>('TrafficEdge').implement({
  description:
    'All traffic between a client and a server endpoint on one protocol and server port in the window. Bytes and ' +
    "packets count each direction once: from the sender's egress record when its interface is monitored, else the " +
    "receiver's ingress record; NAT gateway legs are attributed to the inside instance and never added again.",
  fields: (t) => ({
    client: t.field({ type: EndpointRef, resolve: (e) => e.client }),
    server: t.field({ type: EndpointRef, resolve: (e) => e.server }),
    protocol: t.exposeInt('protocol'),
    serverPort: t.exposeInt('serverPort', {
      nullable: true,
      description: '0 for ICMP; null when the records had no ports.',
    }),
    bytesToServer: t.field({ type: 'BigInt', resolve: (e) => e.bytesToServer }),
    bytesToClient: t.field({ type: 'BigInt', resolve: (e) => e.bytesToClient }),
    bytes: t.field({
      type: 'BigInt',
      description: 'bytesToServer + bytesToClient.',
      resolve: (e) => e.bytesToServer + e.bytesToClient,
    }),
    packetsToServer: t.field({ type: 'BigInt', resolve: (e) => e.packetsToServer }),
    packetsToClient: t.field({ type: 'BigInt', resolve: (e) => e.packetsToClient }),
    connections: t.field({
      type: 'BigInt',
      description: 'TCP handshakes (SYN records) of the edge.',
      resolve: (e) => e.connections,
    }),
    records: t.field({
      type: 'BigInt',
      description: 'Records of the edge at every observation point (as logged).',
      resolve: (e) => e.records,
    }),
    rejectedRecords: t.field({ type: 'BigInt', resolve: (e) => e.rejectedRecords }),
    firstSeen: t.field({ type: 'DateTime', resolve: (e) => e.firstSeen }),
    lastSeen: t.field({ type: 'DateTime', resolve: (e) => e.lastSeen }),
    directionMethod: t.field({
      type: DirectionMethodEnum,
      description: 'The strongest method that oriented any of its flows (HANDSHAKE, then PORT, then UNKNOWN).',
      resolve: (e) => e.directionMethod,
    }),
    observedAt: t.stringList({
      description: 'Interfaces whose records the edge was built from, sorted.',
      resolve: (e) => [...e.observedAt],
    }),
    crossAzBytes: t.field({
      type: 'BigInt',
      description: 'Bytes between endpoints in different Availability Zones.',
      resolve: (e) => e.crossAzBytes,
    }),
    crossRegionBytes: t.field({
      type: 'BigInt',
      description: 'Bytes between endpoints in different regions.',
      resolve: (e) => e.crossRegionBytes,
    }),
    natBytes: t.field({
      type: 'BigInt',
      description: 'Bytes that went through a NAT gateway.',
      resolve: (e) => e.natBytes,
    }),
    internetBytes: t.field({
      type: 'BigInt',
      description:
        'Bytes that left through an internet gateway (traffic-path 2 or 8) or a NAT gateway to an external address.',
      resolve: (e) => e.internetBytes,
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

/** Fields of an edge whose value is its grouping key: selecting them costs nothing. */
const KEY_FIELDS = new Set(['protocol', 'serverPort', '__typename']);
/** Fields of an end that are its id (the grouping key); anything else about an end needs the described pass. */
const END_ID_FIELDS = new Set(['id', '__typename']);

/** The measures and lists of TrafficEdge, by their GraphQL names (the same as the typed value's). */
const EDGE_FIELDS = new Set<string>([
  'bytesToServer',
  'bytesToClient',
  'packetsToServer',
  'packetsToClient',
  'connections',
  'records',
  'rejectedRecords',
  'firstSeen',
  'lastSeen',
  'directionMethod',
  'observedAt',
  'crossAzBytes',
  'crossRegionBytes',
  'natBytes',
  'internetBytes',
] satisfies (keyof TrafficEdge)[]);

/**
 * The fields of TrafficEdge that a trafficEdges selection reads (through `edges { node }` and `nodes`, fragments
 * included), so a page computes only those (edge-reader.ts); undefined (everything) for a field this does not know.
 */
function selectedEdgeFields(info: GraphQLResolveInfo): ReadonlySet<keyof TrafficEdge> | undefined {
  const paths = [['edges', 'node'], ['nodes']];
  const fields = new Set<keyof TrafficEdge>();
  for (const path of paths) {
    for (const name of selectedFieldNames(info, path)) {
      if (KEY_FIELDS.has(name)) continue;
      if (name === 'bytes') {
        fields.add('bytesToServer').add('bytesToClient');
      } else if (name === 'client' || name === 'server') {
        const end = selectedFieldNames(info, [...path, name]);
        if ([...end].some((f) => !END_ID_FIELDS.has(f))) fields.add(name);
      } else if (EDGE_FIELDS.has(name)) {
        fields.add(name as keyof TrafficEdge);
      } else return undefined;
    }
  }
  return fields;
}

/** The `tagKey` argument of the questions that take a level. */
export const TAG_KEY_DESCRIPTION =
  'With level TAG (and only then): the inventory tag key whose value groups the ends, such as "app".';

/** The level and tag key arguments, checked (edge-grouping.ts): TAG needs a tagKey, and only TAG takes one. */
export function groupingOf(level: string | null | undefined, tagKey: string | null | undefined): EdgeGrouping {
  return edgeGrouping((level ?? 'INSTANCE') as EdgeLevel, tagKey);
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
      tagKey: t.arg.string({ description: TAG_KEY_DESCRIPTION }),
      orderBy: t.arg({ type: EdgeOrderEnum, required: true, defaultValue: 'BYTES' }),
      first: t.arg.int({ description: 'Page size (default and maximum set by the server, 100 and 1000 by default).' }),
      after: t.arg.string({ description: 'endCursor of the previous page.' }),
    },
    resolve: async (_root, args, ctx, info) => {
      const first = checkCount('first', args.first ?? ctx.limits.defaultPageSize, 1, ctx.limits.maxPageSize);
      const offset = args.after ? decodeEdgeCursor(args.after) : 0;
      const grouping = groupingOf(args.level, args.tagKey);
      // Edge rows summed per day answer long windows; connectionRows holds what they cannot answer to --max-range-days.
      const filter = await resolveFlowFilter(ctx, args.filter, 'filter', { aggregate: true });
      const page = await readEdges(ctx.query, {
        filter,
        ...grouping,
        orderBy: args.orderBy,
        first,
        offset,
        fields: selectedEdgeFields(info),
      });
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
}));
