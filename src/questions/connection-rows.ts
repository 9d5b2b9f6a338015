/**
 * The rows a connection question reads: the derived table or the raw fallback for the filter's window
 * (connection-source.ts), filtered as connections (connection-filter-query.ts), with the files read counted in the
 * request's cost. Every handshake and edge question, and their datasets, starts here.
 */
import { connectionRelationSql, refusedConnectionFilter } from '../analytics/connection-filter-query.ts';
import { connectionSource } from '../analytics/connection-source.ts';
import { withEndTagsSql } from '../analytics/edge-tag-query.ts';
import { edgeDailyAnswers } from '../analytics/edges-daily-query.ts';
import type { ConnectionTable } from '../domain/connection-enums.ts';
import type { EdgeGrouping } from '../domain/edge-grouping.ts';
import { recordWindowTooLong, type FlowFilter } from '../domain/flow-filter.ts';
import type { ManifestFile } from '../store/layout.ts';
import type { QueryContext } from '../store/query-runner.ts';
import type { SqlFragment } from '../store/sql.ts';
import { scanFiles } from '../store/scan-files.ts';
import { readyInventorySnapshots } from './inventory-lookup.ts';

/**
 * The filtered connection relation of `table` under `filter`, and the files it reads (none: nothing to ask). Edge
 * rows grouped at `level` (null: summed whole) read daily rollups for whole days where they give the same answer.
 */
export async function connectionRows(
  ctx: QueryContext,
  filter: FlowFilter,
  table: ConnectionTable,
  level: EdgeGrouping['level'] | null = null,
): Promise<{ rows: SqlFragment; files: readonly ManifestFile[] }> {
  const manifest = await ctx.warehouse.manifest();
  const daily = table === 'edges' && edgeDailyAnswers(filter, level);
  const source = connectionSource(manifest.files, filter, table, (f) => ctx.warehouse.absolutePath(f), { daily });
  if (source.files.length > 0) checkConnectionWindow(ctx, filter, daily, source.derived);
  await scanFiles(ctx, source.files);
  return { rows: connectionRelationSql(source.rows, filter, table), files: source.files };
}

/**
 * Edge questions are validated against the rollup tiers' window (--max-tier-range-days): over whole days they read
 * edge rows summed per day. One that cannot (the TAG level or a tag filter, which look each hour's ends up at that
 * hour; partitions without derived edge files, paired from their records) is held to --max-range-days here, before
 * any statement runs (a window without records reads nothing and is let through). Handshakes are validated against
 * --max-range-days directly.
 */
function checkConnectionWindow(ctx: QueryContext, filter: FlowFilter, daily: boolean, derived: boolean): void {
  const max = ctx.maxRecordRangeMs;
  const { from, to } = filter.timeRange;
  if (max === undefined || to.getTime() - from.getTime() <= max) return;
  if (!derived)
    throw recordWindowTooLong(
      filter,
      max,
      'some of its partitions have no derived edge files (ingested with --no-derive or by an older flowql; `flowql derive` writes them)',
    );
  if (!daily)
    throw recordWindowTooLong(
      filter,
      max,
      "the TAG level and the tag filter look each hour's ends up in the inventory at that hour, which daily rows do not keep",
      'filter',
      'hourly edge rows',
    );
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
  const source = await connectionRows(ctx, filter, 'edges', grouping.level);
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
