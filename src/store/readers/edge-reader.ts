/**
 * Traffic edges for the API: picks the derived `edges/` table or the raw fallback, filters, aggregates at the
 * requested level, orders and pages by offset.
 */
import type { EdgeLevel } from '../../analytics/connection-rules.ts';
import { connectionRelationSql } from '../../analytics/connection-filter-query.ts';
import { connectionSource } from '../../analytics/connection-source.ts';
import { edgeQuery, type EdgeOrder } from '../../analytics/edge-query.ts';
import type { FlowFilter } from '../../domain/flow-filter.ts';
import { runQuery, type QueryContext, type Row } from '../query-runner.ts';

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
