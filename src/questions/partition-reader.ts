/**
 * Coverage and freshness of the warehouse: which tables, accounts, regions and dates hold data, with file, record and
 * byte counts, from the committed manifest (no SQL: it is exactly what queries can see); and, with one query, how
 * each interface logged (OK, NODATA, SKIPDATA records), to tell a quiet interface from a gap in coverage.
 */
import type { FlowFilter } from '../domain/flow-filter.ts';
import { REFERENCE_KINDS, type ReferenceKind } from '../domain/reference-tables.ts';
import type { Manifest, ManifestFile, ManifestReference, TableName } from '../store/layout.ts';
import { manifestReferences, TABLES } from '../store/layout.ts';
import { buildInterfaceStatusQuery } from '../store/queries/partitions-query.ts';
import { runQuery, type QueryContext } from '../store/query-runner.ts';
import { aggregateScope } from './aggregate-reader.ts';

/** One partition (account, region, UTC date) of one table. */
export interface PartitionInfo {
  readonly table: TableName;
  readonly accountId: string;
  readonly region: string;
  readonly date: string;
  readonly files: number;
  readonly records: number;
  readonly bytes: number;
}

/** One table as a whole. */
export interface DatasetInfo {
  readonly table: TableName | ReferenceKind;
  /** The live snapshot of a reference table (null for the warehouse tables). */
  readonly snapshot: ManifestReference | null;
  readonly accountIds: readonly string[];
  readonly regions: readonly string[];
  /** Oldest and newest UTC dates with data, YYYY-MM-DD. */
  readonly firstDate: string;
  readonly lastDate: string;
  readonly partitions: number;
  readonly files: number;
  readonly records: number;
  readonly bytes: number;
}

/** Which partitions to list; every condition optional, dates inclusive (YYYY-MM-DD). */
export interface PartitionQuery {
  /** A reference table has no partitions: it lists none. */
  readonly table?: TableName | ReferenceKind;
  readonly accountIds?: readonly string[] | null;
  readonly regions?: readonly string[] | null;
  readonly fromDate?: string | null;
  readonly toDate?: string | null;
}

function keep(f: ManifestFile, q: PartitionQuery): boolean {
  return (
    f.table === (q.table ?? 'flows') &&
    (!q.accountIds || q.accountIds.includes(f.accountId)) &&
    (!q.regions || q.regions.includes(f.region)) &&
    (!q.fromDate || f.date >= q.fromDate) &&
    (!q.toDate || f.date <= q.toDate)
  );
}

/** Partitions of a table, newest date first, then account and region. */
export function listPartitions(manifest: Manifest, q: PartitionQuery = {}): PartitionInfo[] {
  const byKey = new Map<string, { -readonly [K in keyof PartitionInfo]: PartitionInfo[K] }>();
  for (const f of manifest.files) {
    if (!keep(f, q)) continue;
    const key = `${f.accountId}\u0000${f.region}\u0000${f.date}`;
    const p = byKey.get(key) ?? {
      table: f.table,
      accountId: f.accountId,
      region: f.region,
      date: f.date,
      files: 0,
      records: 0,
      bytes: 0,
    };
    p.files += 1;
    p.records += f.rows;
    p.bytes += f.bytes;
    byKey.set(key, p);
  }
  return [...byKey.values()].sort(
    (a, b) =>
      b.date.localeCompare(a.date) || a.accountId.localeCompare(b.accountId) || a.region.localeCompare(b.region),
  );
}

/** One summary per table that holds at least one file, in the layout's table order. */
export function summarizeDatasets(manifest: Manifest): DatasetInfo[] {
  const tables = TABLES.flatMap((table): DatasetInfo[] => {
    const parts = listPartitions(manifest, { table });
    if (parts.length === 0) return [];
    const dates = parts.map((p) => p.date).sort();
    const sum = (k: 'files' | 'records' | 'bytes') => parts.reduce((n, p) => n + p[k], 0);
    return [
      {
        table,
        snapshot: null,
        accountIds: [...new Set(parts.map((p) => p.accountId))].sort(),
        regions: [...new Set(parts.map((p) => p.region))].sort(),
        firstDate: dates[0]!,
        lastDate: dates[dates.length - 1]!,
        partitions: parts.length,
        files: sum('files'),
        records: sum('records'),
        bytes: sum('bytes'),
      },
    ];
  });
  // Reference tables: the loaded snapshots, dated by createDate (ip_ranges), import time (networks) or as-of
  // (inventory, one entry per snapshot).
  const references = REFERENCE_KINDS.flatMap((kind): DatasetInfo[] =>
    manifestReferences(manifest, kind).map((ref) => {
      const date = ref.createdAt.slice(0, 10);
      return {
        table: kind,
        snapshot: ref,
        accountIds: [],
        regions: [],
        firstDate: date,
        lastDate: date,
        partitions: 0,
        files: 1,
        records: ref.rows,
        bytes: ref.bytes,
      };
    }),
  );
  return [...tables, ...references];
}

/** Newest UTC date holding flows, or null for an empty warehouse (example queries default to it). */
export function newestFlowDate(manifest: Manifest): string | null {
  let newest: string | null = null;
  for (const f of manifest.files) if (f.table === 'flows' && (newest === null || f.date > newest)) newest = f.date;
  return newest;
}

/** How one interface logged over the filter's window. */
export interface InterfaceStatus {
  readonly accountId: string;
  readonly region: string;
  readonly interfaceId: string | null;
  readonly records: bigint;
  readonly okRecords: bigint;
  readonly nodataRecords: bigint;
  readonly skipdataRecords: bigint;
  readonly firstSeen: Date | null;
  readonly lastSeen: Date | null;
}

/** Interfaces with SKIPDATA first, then NODATA, up to `limit`, and whether more existed. */
export async function readInterfaceStatus(
  ctx: QueryContext,
  filter: FlowFilter,
  limit: number,
): Promise<{ rows: InterfaceStatus[]; truncated: boolean }> {
  const rows = await runQuery(
    ctx,
    buildInterfaceStatusQuery(await aggregateScope(ctx, filter, { dimensions: ['INTERFACE'] }), limit),
  );
  return {
    rows: rows.slice(0, limit).map((r) => ({
      accountId: r.account_id as string,
      region: r.region as string,
      interfaceId: (r.interface_id ?? null) as string | null,
      records: r.records as bigint,
      okRecords: r.ok_records as bigint,
      nodataRecords: r.nodata_records as bigint,
      skipdataRecords: r.skipdata_records as bigint,
      firstSeen: (r.first_seen ?? null) as Date | null,
      lastSeen: (r.last_seen ?? null) as Date | null,
    })),
    truncated: rows.length > limit,
  };
}
