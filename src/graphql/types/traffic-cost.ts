/**
 * `trafficCost(filter, groupBy, level, orderBy, limit)`: the cost lens of the edges (docs/semantics.md §6) over the
 * whole window, and, with `groupBy`, split into the sending ends or client -> server pairs that make it up, largest
 * first. Totals and groups are two statements, each run only when one of its fields is selected. No SQL here.
 */
import { checkCount } from '../../domain/aggregate-enums.ts';
import { COST_GROUPS, COST_ORDERS, type CostGroup, type CostOrder } from '../../domain/connection-enums.ts';
import { InputError } from '../../domain/input-error.ts';
import { readCostGroups, readEdgeTotals, type CostGroupRow, type EdgeTotals } from '../../questions/edge-reader.ts';
import { builder } from '../builder.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';
import { EndpointRef } from './traffic-edge-endpoint.ts';
import { EdgeLevelEnum, groupingOf, TAG_KEY_DESCRIPTION } from './traffic-edge.ts';

/** How trafficCost splits its totals. */
const CostGroupEnum = builder.enumType('CostGroup', {
  description:
    "How trafficCost splits its totals. SENDER: each byte belongs to the end that sent it (an edge's bytes to the " +
    "server to its client, its bytes to the client to its server), so a group's crossAzBytes, crossRegionBytes, " +
    'natBytes and internetBytes are the bytes it sent that cost so; the replies an internet host sends back through a ' +
    "NAT gateway are the host's (PAIR puts both directions on the instance's pair). Internet bytes are stored per " +
    'edge without their direction and go to the end with an interface: exact unless both ends have one and both ' +
    'directions of one hour left through an internet gateway. AWS bills cross-AZ transfer on both sides and NAT ' +
    'processing in both directions; flowql counts each byte once, at its sender. PAIR: every byte of an edge belongs ' +
    'to its client -> server pair, both directions, over all protocols and ports. Either way each byte is in exactly ' +
    'one group: the groups add up to the totals.',
  values: COST_GROUPS,
});

/** Sort keys of cost groups. */
const CostOrderEnum = builder.enumType('CostOrder', {
  description: "Sort key of trafficCost groups, largest first; ties by the group's id (sender, or client then server).",
  values: COST_ORDERS,
});

const TrafficCostGroupRef = builder.objectRef<CostGroupRow>('TrafficCostGroup').implement({
  description:
    'The bytes of one group of trafficCost (see CostGroup for which bytes belong to it). An attribute its members do ' +
    'not share is null on its endpoints, as on aggregated edges.',
  fields: (t) => {
    const amount = (key: Exclude<keyof CostGroupRow, 'sender' | 'client' | 'server'>, description: string) =>
      t.field({ type: 'BigInt', description, resolve: (g) => g[key] });
    return {
      sender: t.field({
        type: EndpointRef,
        nullable: true,
        description: 'SENDER: the end that sent the bytes, at the level. Null with PAIR.',
        resolve: (g) => g.sender,
      }),
      client: t.field({
        type: EndpointRef,
        nullable: true,
        description: 'PAIR: the client end at the level. Null with SENDER.',
        resolve: (g) => g.client,
      }),
      server: t.field({
        type: EndpointRef,
        nullable: true,
        description: 'PAIR: the server end at the level. Null with SENDER.',
        resolve: (g) => g.server,
      }),
      bytes: amount('bytes', 'Bytes of the group, each counted once.'),
      bytesToServer: amount('bytesToServer', 'Bytes clients sent (SENDER: the bytes the sender sent as a client).'),
      bytesToClient: amount('bytesToClient', 'Bytes servers sent (SENDER: the bytes the sender sent as a server).'),
      packets: amount('packets', 'Packets, each counted once (SENDER: the packets it sent).'),
      connections: amount('connections', 'TCP handshakes (SENDER: those it opened as the client).'),
      crossAzBytes: amount('crossAzBytes', 'Bytes between endpoints in different Availability Zones.'),
      crossRegionBytes: amount('crossRegionBytes', 'Bytes between endpoints in different regions.'),
      natBytes: amount('natBytes', 'Bytes through NAT gateways.'),
      internetBytes: amount(
        'internetBytes',
        'Bytes to the internet (internet gateway, or NAT gateway to an external address).',
      ),
    };
  },
});

/** A page of cost groups. */
interface CostGroups {
  readonly rows: readonly CostGroupRow[];
  readonly truncated: boolean;
}

const TrafficCostGroupsRef = builder.objectRef<CostGroups>('TrafficCostGroups').implement({
  description: 'The largest groups of trafficCost by its orderBy.',
  fields: (t) => ({
    rows: t.field({ type: [TrafficCostGroupRef], resolve: (g) => [...g.rows] }),
    truncated: t.exposeBoolean('truncated', {
      description: 'More groups existed than limit; the smallest were left out.',
    }),
  }),
});

/** What trafficCost resolves to: the window and the two statements, each run on first use. */
interface TrafficCost {
  readonly from: Date;
  readonly to: Date;
  readonly totals: () => Promise<EdgeTotals>;
  readonly groups: (() => Promise<CostGroups>) | null;
}

/** Cost totals of a window, and their groups. */
const TrafficCostRef = builder.objectRef<TrafficCost>('TrafficCost').implement({
  description: 'Totals over every edge of the window: bytes once per direction, and where they cost money.',
  fields: (t) => {
    const total = (key: keyof EdgeTotals, description: string) =>
      t.field({ type: 'BigInt', description, resolve: async (p) => (await p.totals())[key] });
    return {
      from: t.field({ type: 'DateTime', resolve: (p) => p.from }),
      to: t.field({ type: 'DateTime', resolve: (p) => p.to }),
      bytes: total('bytes', 'All bytes, each counted once (not the naive sum over records).'),
      bytesToServer: total('bytesToServer', 'Bytes clients sent.'),
      bytesToClient: total('bytesToClient', 'Bytes servers sent.'),
      packets: total('packets', 'All packets, each counted once.'),
      connections: total('connections', 'TCP handshakes.'),
      records: total('records', 'Records the totals were built from.'),
      crossAzBytes: total('crossAzBytes', 'Bytes between endpoints in different Availability Zones.'),
      crossRegionBytes: total('crossRegionBytes', 'Bytes between endpoints in different regions.'),
      natBytes: total('natBytes', 'Bytes through NAT gateways.'),
      internetBytes: total(
        'internetBytes',
        'Bytes to the internet (internet gateway, or NAT gateway to an external address).',
      ),
      groups: t.field({
        type: TrafficCostGroupsRef,
        nullable: true,
        description: 'The `limit` largest groups of `groupBy`; null without groupBy.',
        resolve: async (p) => (p.groups ? p.groups() : null),
      }),
    };
  },
});

/** orderBy, level and limit shape the groups: refused, not ignored, without groupBy. */
function refuseWithoutGroupBy(args: Record<string, unknown>): void {
  for (const name of ['level', 'tagKey', 'orderBy', 'limit']) {
    if (args[name] !== null && args[name] !== undefined)
      throw new InputError(name, `groupBy with ${name}: it orders or cuts the groups, which only groupBy asks for`);
  }
}

builder.queryField('trafficCost', (t) =>
  t.field({
    type: TrafficCostRef,
    description:
      'The cost lens over the whole window: bytes once per direction, cross-AZ, cross-region, NAT gateway and internet ' +
      'bytes (one statement, run only when a total is selected). With `groupBy`, `groups` lists the sending ends ' +
      '(SENDER) or client -> server pairs (PAIR) at `level` (default INSTANCE) that the totals are made of, the `limit` ' +
      'largest by `orderBy` (default BYTES); the filter selects edges as for trafficEdges, so the peers of a filtered ' +
      'instance are groups too. Per-edge figures are on trafficEdges.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      groupBy: t.arg({ type: CostGroupEnum, description: 'Split the totals into groups (see CostGroup).' }),
      level: t.arg({ type: EdgeLevelEnum, description: "What a group's end is (with groupBy; default INSTANCE)." }),
      tagKey: t.arg.string({ description: TAG_KEY_DESCRIPTION }),
      orderBy: t.arg({ type: CostOrderEnum, description: 'Sort key of the groups (with groupBy; default BYTES).' }),
      limit: t.arg.int({
        description: 'Most groups (with groupBy; default and maximum as trafficEdges.first, 100 and 1000 by default).',
      }),
    },
    resolve: async (_root, args, ctx) => {
      const group = args.groupBy
        ? {
            groupBy: args.groupBy as CostGroup,
            ...groupingOf(args.level, args.tagKey),
            orderBy: (args.orderBy ?? 'BYTES') as CostOrder,
            limit: checkCount('limit', args.limit ?? ctx.limits.defaultPageSize, 1, ctx.limits.maxPageSize),
          }
        : null;
      if (!group) refuseWithoutGroupBy(args);
      // Edge rows summed per day answer long windows; connectionRows holds what they cannot answer to --max-range-days.
      const filter = await resolveFlowFilter(ctx, args.filter, 'filter', { aggregate: true });
      let totals: Promise<EdgeTotals> | undefined;
      let groups: Promise<CostGroups> | undefined;
      return {
        from: filter.timeRange.from,
        to: filter.timeRange.to,
        totals: () => (totals ??= readEdgeTotals(ctx.query, filter)),
        groups: group ? () => (groups ??= readCostGroups(ctx.query, { filter, ...group })) : null,
      };
    },
  }),
);
