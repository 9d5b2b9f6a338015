/**
 * Chooses where a connection question reads from: the derived tables (`handshakes/` or `edges/` of one account,
 * `org_handshakes/` or `org_edges/` of every account; sourceOf says which, and edges' daily rollups for whole days
 * when the question allows) when every flows partition of the filter's range has its derived file, otherwise the raw
 * flows of the range widened by one day on each side (pairing crosses midnight), paired at query time. The fallback keeps answers exact on warehouses whose
 * derivation has not run (or not caught up); it is slow on large ranges, which is why derivation exists.
 */
import type { ConnectionTable } from '../domain/connection-enums.ts';
import type { FlowFilter } from '../domain/flow-filter.ts';
import { ALL_ACCOUNTS, partitionsCovered, type ManifestFile, type OrgTableName } from '../store/layout.ts';
import { datesOf, wholeDaysOf } from '../store/queries/flows-daily-query.ts';
import { prunePartitions } from '../store/queries/flow-filter-query.ts';
import { raw, sql, type SqlFragment } from '../store/sql.ts';
import { derivedScanSql } from './flow-source.ts';
import { edgeRowsFromFlowsSql } from './edge-rows-query.ts';
import { handshakesFromFlowsSql } from './handshake-query.ts';

/** The rows relation of a connection question and the manifest files it reads. */
export interface ConnectionSource {
  readonly rows: SqlFragment;
  readonly files: readonly ManifestFile[];
  readonly derived: boolean;
}

const DAY_MS = 86_400_000;

/** The org table holding the same rows as `table`, across every account. */
const ORG_TABLE = { handshakes: 'org_handshakes', edges: 'org_edges' } as const satisfies Record<
  ConnectionTable,
  OrgTableName
>;

/**
 * Whose records answer (docs/semantics.md §10): the rows a question reads are derived from the records of the
 * accounts it selects (the key's scope and the filter's accountIds), in every region (connections are derived across
 * regions and filed under one, connection-placement.ts), and from nothing else.
 * - one account selected: its own derived tables (the other end is what its records show);
 * - every account that logs in the window: the org tables, where a connection between two accounts is one row;
 * - several accounts but not all: no derived table holds exactly their rows; the records are paired at query time.
 */
type Source = 'account' | 'org' | 'records';

function sourceOf(files: readonly ManifestFile[], filter: FlowFilter): Source {
  const accounts = (list: readonly ManifestFile[]) => new Set(list.map((f) => f.accountId));
  const anyRegion = { ...filter, regions: null };
  const selected = accounts(prunePartitions(files, anyRegion, 'flows'));
  if (selected.size <= 1) return 'account';
  const present = accounts(prunePartitions(files, { ...anyRegion, accountIds: null }, 'flows'));
  return selected.size === present.size ? 'org' : 'records';
}

/** How a connection question may read its rows. */
export interface ConnectionSourceOptions {
  /**
   * The question's answer is the same from edge rows summed per day (edges-daily-query.ts edgeDailyAnswers): its
   * whole days read the daily rollup where every partition of the day has one.
   */
  readonly daily?: boolean;
}

/**
 * The hourly edge files `derived` with the files of each whole day of the window swapped for its daily rollup, where
 * every hourly partition of that day has one (compact writes them per partition; an ingest into the day retires them).
 * A day is read from one grain or the other, never both, so no row is counted twice or missed; the window's cut days
 * keep their hourly rows, which the time filter cuts at the hour as before. Daily rows carry their day as `bucket`,
 * which the window's time filter (bucket overlapping [from, to)) keeps for exactly its whole days.
 */
function withDailyEdges(
  files: readonly ManifestFile[],
  filter: FlowFilter,
  source: 'account' | 'org',
  derived: readonly ManifestFile[],
): readonly ManifestFile[] {
  const days = wholeDaysOf(filter.timeRange);
  if (!days) return derived;
  const dailyTable = source === 'org' ? 'org_edges_daily' : 'edges_daily';
  const pruneAs = source === 'org' ? { ...filter, accountIds: null, scopeAccountIds: null } : filter;
  const daily = prunePartitions(files, { ...pruneAs, timeRange: days }, dailyTable);
  const swapped = new Set<string>();
  const out: ManifestFile[] = [];
  for (const date of datesOf(days)) {
    const hourlyOfDay = derived.filter((f) => f.date === date);
    const dailyOfDay = daily.filter((f) => f.date === date);
    if (hourlyOfDay.length === 0 || !partitionsCovered(hourlyOfDay, dailyOfDay)) continue;
    swapped.add(date);
    out.push(...dailyOfDay);
  }
  return [...derived.filter((f) => !swapped.has(f.date)), ...out];
}

/** Picks the derived table or the raw fallback for `table` under `filter`; `absolute` maps a file to its path. */
export function connectionSource(
  files: readonly ManifestFile[],
  filter: FlowFilter,
  table: ConnectionTable,
  absolute: (f: ManifestFile) => string,
  opts: ConnectionSourceOptions = {},
): ConnectionSource {
  const flows = prunePartitions(files, filter, 'flows');
  if (flows.length === 0) {
    // No record in the window: pairing no records gives the table's columns and no rows (an empty derived file list
    // has no columns to bind, and the neighbour days of the raw fallback could not add a row inside the window).
    const rows = table === 'handshakes' ? handshakesFromFlowsSql({ files: [] }) : edgeRowsFromFlowsSql({ files: [] });
    return { rows: sql`(${rows})`, files: [], derived: false };
  }
  const source = sourceOf(files, filter);
  if (source !== 'records') {
    // Org files carry no account, so prunePartitions' scope test does not apply to them: a tenant's manifest lists
    // them only when it may read every account of the warehouse (scoped-warehouse.ts), and `files` is that manifest.
    // Where they are hidden, the accounts present are only the tenant's, the selection looks whole, and the missing
    // org files send the question to its records.
    const derived =
      source === 'org'
        ? prunePartitions(files, { ...filter, accountIds: null, scopeAccountIds: null }, ORG_TABLE[table])
        : prunePartitions(files, filter, table);
    const key = (f: ManifestFile) => `${source === 'org' ? ALL_ACCOUNTS : f.accountId}/${f.region}/${f.date}`;
    const have = new Set(derived.map(key));
    if (flows.every((f) => have.has(key(f)))) {
      const read = table === 'edges' && opts.daily ? withDailyEdges(files, filter, source, derived) : derived;
      const none = raw('(SELECT NULL AS none WHERE FALSE)');
      return { rows: derivedScanSql(read.map(absolute), none, source), files: read, derived: true };
    }
  }
  // Paired at query time from the selected accounts' records of every region (a connection between regions is one
  // row), kept where the row is filed under a region the filter names.
  const { from, to } = filter.timeRange;
  const wide = {
    ...filter,
    regions: null,
    timeRange: { from: new Date(from.getTime() - DAY_MS), to: new Date(to.getTime() + DAY_MS) },
  };
  const rawFiles = prunePartitions(files, wide, 'flows');
  const records = { files: rawFiles.map(absolute) };
  const placed = filter.regions ? { regions: filter.regions } : undefined;
  const rows = table === 'handshakes' ? handshakesFromFlowsSql(records, placed) : edgeRowsFromFlowsSql(records, placed);
  return { rows: sql`(${rows})`, files: rawFiles, derived: false };
}
