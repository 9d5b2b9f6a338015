/**
 * Chooses where a connection question reads from: the derived tables (`handshakes/` or `edges/` per account,
 * `org_handshakes/` or `org_edges/` across the accounts of a region; regionSources says which) when every flows
 * partition of the filter's range has its derived file, otherwise the raw flows of the range widened by one day on
 * each side (pairing crosses midnight), paired at query time. The fallback keeps answers exact on warehouses whose
 * derivation has not run (or not caught up); it is slow on large ranges, which is why derivation exists.
 */
import type { ConnectionTable } from '../domain/connection-enums.ts';
import { datesInRange, type FlowFilter } from '../domain/flow-filter.ts';
import { partitionsCovered, type ManifestFile, type OrgTableName } from '../store/layout.ts';
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

/** The org table holding the same rows as `table`, across the accounts of a region. */
const ORG_TABLE = { handshakes: 'org_handshakes', edges: 'org_edges' } as const satisfies Record<
  ConnectionTable,
  OrgTableName
>;

/**
 * Whose records answer, per region of the window (docs/semantics.md §10): the rows a question reads are derived from
 * the records of the accounts it selects (the key's scope and the filter's accountIds), and from nothing else.
 * - one account selected: its own derived tables (the other end is what its records show);
 * - every account that logs in the region: the org tables, where a connection between two accounts is one row;
 * - several accounts but not all: no derived table holds exactly their rows; the records are paired at query time.
 */
type RegionSource = 'account' | 'org' | 'records';

function regionSources(files: readonly ManifestFile[], selected: readonly ManifestFile[]): Map<string, RegionSource> {
  const accountsOf = (list: readonly ManifestFile[]) => {
    const m = new Map<string, Set<string>>();
    for (const f of list) if (f.table === 'flows') m.set(f.region, (m.get(f.region) ?? new Set()).add(f.accountId));
    return m;
  };
  const all = accountsOf(files);
  const sources = new Map<string, RegionSource>();
  for (const [region, chosen] of accountsOf(selected)) {
    const present = all.get(region)!;
    sources.set(region, chosen.size === 1 ? 'account' : chosen.size === present.size ? 'org' : 'records');
  }
  return sources;
}

/** Picks the derived table or the raw fallback for `table` under `filter`; `absolute` maps a file to its path. */
export function connectionSource(
  files: readonly ManifestFile[],
  filter: FlowFilter,
  table: ConnectionTable,
  absolute: (f: ManifestFile) => string,
): ConnectionSource {
  const flows = prunePartitions(files, filter, 'flows');
  if (flows.length === 0) {
    // No record in the window: pairing no records gives the table's columns and no rows (an empty derived file list
    // has no columns to bind, and the neighbour days of the raw fallback could not add a row inside the window).
    const rows = table === 'handshakes' ? handshakesFromFlowsSql({ files: [] }) : edgeRowsFromFlowsSql({ files: [] });
    return { rows: sql`(${rows})`, files: [], derived: false };
  }
  const sources = regionSources(files, flows);
  const byAccount = flows.filter((f) => sources.get(f.region) === 'account');
  const byOrg = flows.filter((f) => sources.get(f.region) === 'org');
  const derived = prunePartitions(files, filter, table).filter((f) => sources.get(f.region) === 'account');
  // Org files carry no account, so prunePartitions' scope test does not apply to them: a tenant's manifest lists them
  // only for regions whose every account it may read (scoped-warehouse.ts), and `files` is that manifest. Where they
  // are hidden, `present` above counts only the tenant's accounts, the region looks fully selected, and the missing
  // org files send the question to its records.
  const dates = new Set(datesInRange(filter.timeRange));
  const org = files.filter((f) => f.table === ORG_TABLE[table] && sources.get(f.region) === 'org' && dates.has(f.date));
  const orgCovered = new Set(org.map((f) => `${f.region}/${f.date}`));
  const covered =
    ![...sources.values()].includes('records') &&
    partitionsCovered(byAccount, derived) &&
    byOrg.every((f) => orgCovered.has(`${f.region}/${f.date}`));
  if (covered) {
    const none = raw('(SELECT NULL AS none WHERE FALSE)');
    const parts = [
      ...(derived.length > 0 ? [derivedScanSql(derived.map(absolute), none)] : []),
      ...(org.length > 0 ? [derivedScanSql(org.map(absolute), none, 'org')] : []),
    ];
    // The two layouts differ in their partition columns (org files have no account_id): united by name.
    const rows =
      parts.length === 1 ? parts[0]! : sql`(SELECT * FROM ${parts[0]!} UNION ALL BY NAME SELECT * FROM ${parts[1]!})`;
    return { rows, files: [...derived, ...org], derived: true };
  }
  const { from, to } = filter.timeRange;
  const wide = {
    ...filter,
    timeRange: { from: new Date(from.getTime() - DAY_MS), to: new Date(to.getTime() + DAY_MS) },
  };
  const rawFiles = prunePartitions(files, wide, 'flows');
  const source = { files: rawFiles.map(absolute) };
  const rows = table === 'handshakes' ? handshakesFromFlowsSql(source) : edgeRowsFromFlowsSql(source);
  return { rows: sql`(${rows})`, files: rawFiles, derived: false };
}
