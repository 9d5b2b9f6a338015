/**
 * The rows a connection question reads: the derived table or the raw fallback for the filter's window
 * (connection-source.ts), filtered as connections (connection-filter-query.ts), with the files read counted in the
 * request's cost. Every handshake and edge question, and their datasets, starts here.
 */
import { connectionRelationSql, refusedConnectionFilter } from '../analytics/connection-filter-query.ts';
import { connectionSource } from '../analytics/connection-source.ts';
import type { ConnectionTable } from '../domain/connection-enums.ts';
import type { FlowFilter } from '../domain/flow-filter.ts';
import type { ManifestFile } from '../store/layout.ts';
import type { QueryContext } from '../store/query-runner.ts';
import type { SqlFragment } from '../store/sql.ts';
import { scanFiles } from '../store/scan-files.ts';

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
