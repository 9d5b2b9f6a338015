/**
 * Which region a connection row (a handshake or an edge row) belongs to (docs/semantics.md §10).
 *
 * Connections are derived across every region of their scope (one account, or the organisation), because a
 * connection between regions (inter-region peering) is logged in both regions' partitions and must be one row, its
 * bytes counted once. Each row is then filed under one region partition: the region of the client's interface when
 * the client's own records saw it (its egress SYN, or its side of the tuple), else the server's, else the region of
 * the records that saw it (a tuple seen only at a forwarding interface or of unknown direction; the smallest region
 * name if several). Only the row's own records decide, never the address map: a row is filed under a region whose
 * records it holds. A `regions` filter on a connection question selects rows by this region, on the derived tables
 * (the partition) and on records paired at query time alike.
 */
import { raw, sql, type SqlFragment } from '../store/sql.ts';

/** The region a row is filed under, over its columns client_seen_region, server_seen_region and obs_region. */
export const PLACE_REGION_SQL = 'coalesce(client_seen_region, server_seen_region, obs_region)';

/** Keep only rows filed under one of these regions (a question's `regions` filter). */
export interface PlacedIn {
  readonly regions: readonly string[];
}

/** The condition keeping the rows of `placed` (TRUE when absent). */
export function placedInSql(placed: PlacedIn | undefined): SqlFragment {
  if (!placed) return raw('TRUE');
  return sql`list_contains(${[...placed.regions]}::VARCHAR[], ${raw(PLACE_REGION_SQL)})`;
}
