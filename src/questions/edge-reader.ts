/**
 * Traffic edges for the API (pages, the node graph, the diff of two windows, cost totals and groups): picks the
 * derived `edges/` table or the raw fallback, filters, aggregates at the requested level, orders and pages by offset,
 * and returns typed values (the stored column names are read here only).
 */
import { costGroupQuery } from '../analytics/cost-query.ts';
import { edgeDiffQuery } from '../analytics/edge-diff-query.ts';
import {
  edgeQuery,
  edgeTotalsQuery,
  EDGE_MEASURES,
  type EdgeColumns,
  type EdgeMeasure,
} from '../analytics/edge-query.ts';
import type {
  CostGroup,
  CostOrder,
  DirectionMethod,
  EdgeLevel,
  EdgeOrder,
  EndpointKind,
} from '../domain/connection-enums.ts';
import type { FlowFilter } from '../domain/flow-filter.ts';
import { runQuery, type QueryContext, type Row } from '../store/query-runner.ts';
import { connectionRows, groupedEdgeRows } from './connection-rows.ts';
import { edgeGraphFromRows, type EdgeGraph } from './edge-graph.ts';
import { endpointFromRow, type Endpoint } from './endpoint.ts';

const big = (v: unknown): bigint => BigInt((v ?? 0) as bigint | number);
const port = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** All traffic between a client and a server endpoint on one protocol and server port (docs/semantics.md §6). */
export interface TrafficEdge {
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly protocol: number;
  /** 0 for ICMP; null when the records had no ports. */
  readonly serverPort: number | null;
  readonly bytesToServer: bigint;
  readonly bytesToClient: bigint;
  readonly packetsToServer: bigint;
  readonly packetsToClient: bigint;
  readonly connections: bigint;
  readonly records: bigint;
  readonly rejectedRecords: bigint;
  readonly firstSeen: Date;
  readonly lastSeen: Date;
  readonly directionMethod: DirectionMethod;
  readonly observedAt: readonly string[];
  readonly crossAzBytes: bigint;
  readonly crossRegionBytes: bigint;
  readonly natBytes: bigint;
  readonly internetBytes: bigint;
}

function edgeFromRow(r: Row): TrafficEdge {
  return {
    client: endpointFromRow(r, 'client', String(r.client_id), (r.first_seen ?? null) as Date | null),
    server: endpointFromRow(r, 'server', String(r.server_id), (r.first_seen ?? null) as Date | null),
    protocol: Number(r.protocol),
    serverPort: port(r.server_port),
    bytesToServer: big(r.bytes_to_server),
    bytesToClient: big(r.bytes_to_client),
    packetsToServer: big(r.packets_to_server),
    packetsToClient: big(r.packets_to_client),
    connections: big(r.connections),
    records: big(r.records),
    rejectedRecords: big(r.rejected_records),
    firstSeen: r.first_seen as Date,
    lastSeen: r.last_seen as Date,
    directionMethod: r.direction_method as DirectionMethod,
    observedAt: Array.isArray(r.observed_interfaces) ? r.observed_interfaces.map(String) : [],
    crossAzBytes: big(r.cross_az_bytes),
    crossRegionBytes: big(r.cross_region_bytes),
    natBytes: big(r.nat_bytes),
    internetBytes: big(r.internet_bytes),
  };
}

/** Totals over every edge of a window: bytes once per direction, and the cost lens. */
export interface EdgeTotals {
  readonly bytes: bigint;
  readonly bytesToServer: bigint;
  readonly bytesToClient: bigint;
  readonly packets: bigint;
  readonly connections: bigint;
  readonly records: bigint;
  readonly crossAzBytes: bigint;
  readonly crossRegionBytes: bigint;
  readonly natBytes: bigint;
  readonly internetBytes: bigint;
}

/** An edge that appeared, disappeared or changed between two windows (edge-diff-query.ts). */
export interface EdgeDiffRow {
  readonly change: 'APPEARED' | 'DISAPPEARED' | 'CHANGED';
  readonly clientId: string;
  readonly clientKind: EndpointKind;
  readonly serverId: string;
  readonly serverKind: EndpointKind;
  readonly protocol: number;
  readonly serverPort: number | null;
  readonly beforeBytes: bigint;
  readonly afterBytes: bigint;
  readonly directionMethod: DirectionMethod;
}

/** One page of edges. */
export interface EdgePage {
  readonly rows: readonly TrafficEdge[];
  readonly hasNextPage: boolean;
}

/**
 * Which page of edges: at `level` (TAG: by the value of `tagKey`), matching `filter`, ordered by `orderBy`; `fields`
 * (default: all) are the fields of TrafficEdge the caller reads, `client` and `server` standing for everything about
 * an end but its id. Fields left out hold zeros and empty ends, and cost nothing.
 */
export interface EdgePageArgs {
  readonly filter: FlowFilter;
  readonly level: EdgeLevel;
  readonly tagKey?: string | null;
  readonly orderBy: EdgeOrder;
  readonly first: number;
  readonly offset: number;
  readonly fields?: ReadonlySet<keyof TrafficEdge>;
}

/** The measures each field of TrafficEdge reads. */
const FIELD_MEASURES: Partial<Record<keyof TrafficEdge, readonly EdgeMeasure[]>> = {
  bytesToServer: ['bytes_to_server'],
  bytesToClient: ['bytes_to_client'],
  packetsToServer: ['packets_to_server'],
  packetsToClient: ['packets_to_client'],
  connections: ['connections'],
  records: ['records'],
  rejectedRecords: ['rejected_records'],
  firstSeen: ['first_seen'],
  lastSeen: ['last_seen'],
  directionMethod: ['direction_method'],
  crossAzBytes: ['cross_az_bytes'],
  crossRegionBytes: ['cross_region_bytes'],
  natBytes: ['nat_bytes'],
  internetBytes: ['internet_bytes'],
};

/** What edgeQuery computes for `fields`: an end beyond its id, or observedAt, needs the described pass. */
function edgeColumns(fields: ReadonlySet<keyof TrafficEdge> | undefined): EdgeColumns {
  if (!fields) return { measures: EDGE_MEASURES, described: true };
  const described = fields.has('client') || fields.has('server') || fields.has('observedAt');
  // An end is named at the edge's first record (Endpoint.at), so a described page keeps first_seen.
  const measures = [...fields].flatMap((f) => FIELD_MEASURES[f] ?? []);
  return { measures: described ? [...measures, 'first_seen'] : measures, described };
}

/** Edges at `level` matching `filter`, ordered by `orderBy` (descending), `first` of them from `offset`. */
export async function readEdges(ctx: QueryContext, args: EdgePageArgs): Promise<EdgePage> {
  const page = await edgeRows(ctx, args);
  return { rows: page.rows.map(edgeFromRow), hasNextPage: page.hasNextPage };
}

/** The stored-column rows of readEdges (the node graph builds from them). */
async function edgeRows(
  ctx: QueryContext,
  args: EdgePageArgs,
): Promise<{ rows: readonly Row[]; hasNextPage: boolean }> {
  const source = await groupedEdgeRows(ctx, args.filter, { level: args.level, tagKey: args.tagKey ?? null });
  if (source.files.length === 0) return { rows: [], hasNextPage: false };
  const rows = await runQuery(
    ctx,
    edgeQuery({
      rows: source.rows,
      level: args.level,
      orderBy: args.orderBy,
      limit: args.first,
      offset: args.offset,
      columns: edgeColumns(args.fields),
    }),
  );
  return { rows: rows.slice(0, args.first), hasNextPage: rows.length > args.first };
}

/** The node graph of the `maxEdges` edges with most bytes at `level` (edge-graph.ts). */
export async function readEdgeGraph(
  ctx: QueryContext,
  args: { filter: FlowFilter; level: EdgeLevel; tagKey?: string | null; maxEdges: number },
): Promise<EdgeGraph> {
  const page = await edgeRows(ctx, { ...args, orderBy: 'BYTES', first: args.maxEdges, offset: 0 });
  return { ...edgeGraphFromRows(page.rows, args.maxEdges), truncated: page.hasNextPage };
}

/** Edges that appeared, disappeared or changed by `minFactor` between two windows (edge-diff-query.ts). */
export async function readEdgeDiff(
  ctx: QueryContext,
  args: {
    before: FlowFilter;
    after: FlowFilter;
    level: EdgeLevel;
    tagKey?: string | null;
    minFactor: number;
    limit: number;
  },
): Promise<{ rows: readonly EdgeDiffRow[]; truncated: boolean }> {
  const grouping = { level: args.level, tagKey: args.tagKey ?? null };
  const before = await groupedEdgeRows(ctx, args.before, grouping);
  const after = await groupedEdgeRows(ctx, args.after, grouping);
  if (before.files.length + after.files.length === 0) return { rows: [], truncated: false };
  const rows = await runQuery(
    ctx,
    edgeDiffQuery({
      before: before.rows,
      after: after.rows,
      level: args.level,
      minFactor: args.minFactor,
      limit: args.limit,
    }),
  );
  const diffRow = (r: Row): EdgeDiffRow => ({
    change: r.change as EdgeDiffRow['change'],
    clientId: String(r.client_id),
    clientKind: (r.client_kind ?? 'EXTERNAL') as EndpointKind,
    serverId: String(r.server_id),
    serverKind: (r.server_kind ?? 'EXTERNAL') as EndpointKind,
    protocol: Number(r.protocol),
    serverPort: port(r.server_port),
    beforeBytes: big(r.before_bytes),
    afterBytes: big(r.after_bytes),
    directionMethod: r.direction_method as DirectionMethod,
  });
  return { rows: rows.slice(0, args.limit).map(diffRow), truncated: rows.length > args.limit };
}

/** Totals of all edges under `filter` (bytes once per direction, and the cost lens). */
export async function readEdgeTotals(ctx: QueryContext, filter: FlowFilter): Promise<EdgeTotals> {
  const [r = {}] = await runQuery(ctx, edgeTotalsQuery((await connectionRows(ctx, filter, 'edges')).rows));
  return {
    bytes: big(r.bytes),
    bytesToServer: big(r.bytes_to_server),
    bytesToClient: big(r.bytes_to_client),
    packets: big(r.packets),
    connections: big(r.connections),
    records: big(r.records),
    crossAzBytes: big(r.cross_az_bytes),
    crossRegionBytes: big(r.cross_region_bytes),
    natBytes: big(r.nat_bytes),
    internetBytes: big(r.internet_bytes),
  };
}

/**
 * A group of trafficCost: a sending end (SENDER) or a client -> server pair (PAIR) at a level, with the bytes it is
 * attributed (cost-query.ts says which end a byte belongs to).
 */
export interface CostGroupRow {
  /** SENDER: the end that sent the bytes; null for PAIR. */
  readonly sender: Endpoint | null;
  /** PAIR: the client and server ends; null for SENDER. */
  readonly client: Endpoint | null;
  readonly server: Endpoint | null;
  readonly bytes: bigint;
  readonly bytesToServer: bigint;
  readonly bytesToClient: bigint;
  readonly packets: bigint;
  readonly connections: bigint;
  readonly crossAzBytes: bigint;
  readonly crossRegionBytes: bigint;
  readonly natBytes: bigint;
  readonly internetBytes: bigint;
}

/** The `limit` largest cost groups under `filter`, and whether more existed. */
export async function readCostGroups(
  ctx: QueryContext,
  args: {
    filter: FlowFilter;
    groupBy: CostGroup;
    level: EdgeLevel;
    tagKey?: string | null;
    orderBy: CostOrder;
    limit: number;
  },
): Promise<{ rows: readonly CostGroupRow[]; truncated: boolean }> {
  const source = await groupedEdgeRows(ctx, args.filter, { level: args.level, tagKey: args.tagKey ?? null });
  if (source.files.length === 0) return { rows: [], truncated: false };
  const { groupBy, level, orderBy, limit } = args;
  const rows = await runQuery(ctx, costGroupQuery({ rows: source.rows, groupBy, level, orderBy, limit }));
  const pair = args.groupBy === 'PAIR';
  const costRow = (r: Row): CostGroupRow => ({
    sender: pair ? null : endpointFromRow(r, 'sender', String(r.sender_id)),
    client: pair ? endpointFromRow(r, 'client', String(r.client_id)) : null,
    server: pair ? endpointFromRow(r, 'server', String(r.server_id)) : null,
    bytes: big(r.bytes),
    bytesToServer: big(r.bytes_to_server),
    bytesToClient: big(r.bytes_to_client),
    packets: big(r.packets),
    connections: big(r.connections),
    crossAzBytes: big(r.cross_az_bytes),
    crossRegionBytes: big(r.cross_region_bytes),
    natBytes: big(r.nat_bytes),
    internetBytes: big(r.internet_bytes),
  });
  return { rows: rows.slice(0, args.limit).map(costRow), truncated: rows.length > args.limit };
}
