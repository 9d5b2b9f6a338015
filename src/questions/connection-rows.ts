/**
 * The rows a connection question reads: the derived table or the raw fallback for the filter's window
 * (connection-source.ts), filtered as connections (connection-filter-query.ts), with the files read counted in the
 * request's cost. Every handshake and edge question, and their datasets, starts here.
 */
import { connectionRelationSql, refusedConnectionFilter } from '../analytics/connection-filter-query.ts';
import { connectionSource } from '../analytics/connection-source.ts';
import { withEndTagsSql } from '../analytics/edge-tag-query.ts';
import type { ConnectionTable } from '../domain/connection-enums.ts';
import type { EdgeGrouping } from '../domain/edge-grouping.ts';
import type { FlowFilter } from '../domain/flow-filter.ts';
import type { ManifestFile } from '../store/layout.ts';
import type { QueryContext } from '../store/query-runner.ts';
import type { SqlFragment } from '../store/sql.ts';
import { scanFiles } from '../store/scan-files.ts';
import { readyInventorySnapshots } from './inventory-lookup.ts';

/** The filtered connection relation of `table` under `filter`, and the files it reads (none: nothing to ask). */
export async function connectionRows(
  ctx: QueryContext,
  filter: FlowFilter,
  table: ConnectionTable,
): Promise<{ rows: SqlFragment; files: readonly ManifestFile[] }> {
  const manifest = await ctx.warehouse.manifest();
  const source = connectionSource(manifest.files, filter, table, (f) => ctx.warehouse.absolutePath(f));
  await scanFiles(ctx, source.files);
  return { rows: connectionRelationSql(source.rows, filter, table), files: source.files };
}

/**
 * The filtered edge rows under `filter`, ready to group at `grouping`: at the TAG level each end carries its tag
 * (edge-tag-query.ts), read from the inventory snapshots a tenant's key may see (its own accounts' resources).
 */
export async function groupedEdgeRows(
  ctx: QueryContext,
  filter: FlowFilter,
  grouping: EdgeGrouping,
): Promise<{ rows: SqlFragment; files: readonly ManifestFile[] }> {
  const source = await connectionRows(ctx, filter, 'edges');
  if (grouping.level !== 'TAG' || grouping.tagKey === null) return source;
  const snapshots = await readyInventorySnapshots(ctx.warehouse);
  const rows = withEndTagsSql(source.rows, { snapshots, accounts: filter.scopeAccountIds }, grouping.tagKey);
  return { rows, files: source.files };
}

/**
 * The first filter field a connection question over `table` cannot honour, with the reason; null when it honours
 * them all. The dataset route asks before running so its error names the URL parameter rather than the filter field;
 * connectionRows refuses the same fields anyway.
 */
export function checkConnectionFilter(
  filter: FlowFilter,
  table: ConnectionTable,
): { field: keyof FlowFilter; reason: string } | null {
  return refusedConnectionFilter(filter, table);
}
