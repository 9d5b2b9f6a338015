/**
 * Traffic edges for the API (pages, the node graph, the diff of two windows, cost totals): picks the derived `edges/` table or the raw fallback, filters, aggregates at the
 * requested level, orders and pages by offset.
 */
import type { EdgeLevel } from '../analytics/connection-rules.ts';
import { connectionRelationSql } from '../analytics/connection-filter-query.ts';
import { connectionSource } from '../analytics/connection-source.ts';
import { edgeDiffQuery } from '../analytics/edge-diff-query.ts';
import { edgeGraphFromRows, type EdgeGraph } from '../analytics/edge-graph.ts';
import { edgeQuery, edgeTotalsQuery, type EdgeOrder } from '../analytics/edge-query.ts';
import type { FlowFilter } from '../domain/flow-filter.ts';
import { runQuery, type QueryContext, type Row } from '../store/query-runner.ts';

/** One page of aggregated edges (columns of edgeAggregateSql). */
export interface EdgePage {
  readonly rows: readonly Row[];
  readonly hasNextPage: boolean;
}

/** Edges at `level` matching `filter`, ordered by `orderBy` (descending), `first` of them from `offset`. */
export async function readEdges(
  ctx: QueryContext,
  args: { filter: FlowFilter; level: EdgeLevel; orderBy: EdgeOrder; first: number; offset: number },
): Promise<EdgePage> {
  const manifest = await ctx.warehouse.manifest();
  const source = connectionSource(manifest.files, args.filter, 'edges', (f) => ctx.warehouse.absolutePath(f));
  if (source.files.length === 0) return { rows: [], hasNextPage: false };
  ctx.cost.recordScan(source.files);
  const rows = await runQuery(
    ctx,
    edgeQuery({
      rows: connectionRelationSql(source.rows, args.filter, 'edges'),
      level: args.level,
      orderBy: args.orderBy,
      limit: args.first,
      offset: args.offset,
    }),
  );
  return { rows: rows.slice(0, args.first), hasNextPage: rows.length > args.first };
}

/** The node graph of the `maxEdges` edges with most bytes at `level` (edge-graph.ts). */
export async function readEdgeGraph(
  ctx: QueryContext,
  args: { filter: FlowFilter; level: EdgeLevel; maxEdges: number },
): Promise<EdgeGraph> {
  const page = await readEdges(ctx, { ...args, orderBy: 'BYTES', first: args.maxEdges, offset: 0 });
  return { ...edgeGraphFromRows(page.rows, args.maxEdges), truncated: page.hasNextPage };
}

/** Edges that appeared, disappeared or changed by `minFactor` between two windows (edge-diff-query.ts). */
export async function readEdgeDiff(
  ctx: QueryContext,
  args: { before: FlowFilter; after: FlowFilter; level: EdgeLevel; minFactor: number; limit: number },
): Promise<{ rows: readonly Row[]; truncated: boolean }> {
  const manifest = await ctx.warehouse.manifest();
  const abs = (f: Parameters<typeof ctx.warehouse.absolutePath>[0]) => ctx.warehouse.absolutePath(f);
  const before = connectionSource(manifest.files, args.before, 'edges', abs);
  const after = connectionSource(manifest.files, args.after, 'edges', abs);
  if (before.files.length + after.files.length === 0) return { rows: [], truncated: false };
  ctx.cost.recordScan([...before.files, ...after.files]);
  const rows = await runQuery(
    ctx,
    edgeDiffQuery({
      before: connectionRelationSql(before.rows, args.before, 'edges'),
      after: connectionRelationSql(after.rows, args.after, 'edges'),
      level: args.level,
      minFactor: args.minFactor,
      limit: args.limit,
    }),
  );
  return { rows: rows.slice(0, args.limit), truncated: rows.length > args.limit };
}

/** Totals of all edges under `filter` (bytes once per direction, and the cost lens); one row. */
export async function readEdgeTotals(ctx: QueryContext, filter: FlowFilter): Promise<Row> {
  const manifest = await ctx.warehouse.manifest();
  const source = connectionSource(manifest.files, filter, 'edges', (f) => ctx.warehouse.absolutePath(f));
  ctx.cost.recordScan(source.files);
  const [row] = await runQuery(ctx, edgeTotalsQuery(connectionRelationSql(source.rows, filter, 'edges')));
  return row ?? {};
}
