/**
 * The warehouse layout on disk (or under an S3 prefix), shared by the ingester (writer) and the API (reader).
 *
 *   <root>/flows/account_id=<id>/region=<region>/date=<YYYY-MM-DD>/part-<uuid>.parquet
 *   <root>/handshakes/account_id=.../region=.../date=.../part-<uuid>.parquet   (derived, issue 5)
 *   <root>/edges/account_id=.../region=.../date=.../part-<uuid>.parquet        (derived, issue 5)
 *   <root>/flows_hourly/account_id=.../region=.../date=.../part-<uuid>.parquet (derived: flows summed per hour)
 *   <root>/flows_daily/account_id=.../region=.../date=.../part-daily-<uuid>.parquet (flows_hourly summed per day,
 *                                                                                    written by compact; optional)
 *   <root>/org_handshakes/region=.../date=.../part-<uuid>.parquet  (derived across the region's accounts, issue 16)
 *   <root>/org_edges/region=.../date=.../part-<uuid>.parquet       (derived across the region's accounts, issue 16)
 *   <root>/edges_daily/account_id=.../region=.../date=.../part-daily-<uuid>.parquet and
 *   <root>/org_edges_daily/region=.../date=.../part-daily-<uuid>.parquet (edge rows summed per day, written by
 *                                                                          compact; optional)
 *   <root>/reference/<kind>/part-<version>-<uuid>.parquet  reference tables (ip_ranges, networks): one live snapshot each
 *   <root>/_flowql/ledger.duckdb      the ingest ledger (sources, outputs, rejects); only the ingester opens it
 *   <root>/_flowql/manifest.json      the committed file list; written atomically (temp file + rename)
 *   <root>/_flowql/staging/           files being written; never read by queries
 *
 * Readers take the file list from the manifest, never from a directory glob: a file is visible to flowql only once
 * the ledger committed it and the manifest listing it has been renamed into place, so compaction and replacement of a
 * changed object swap file sets without a reader ever seeing a duplicate or a gap. (Athena/Trino/Spark reading the
 * same prefix by glob see the files too, including replaced files kept for the grace period: both sides of a swap
 * until a later run deletes them; see RetiredFile.)
 */
import { join } from 'node:path';
import type { ReferenceKind } from '../domain/reference-tables.ts';

export const TABLES = [
  'flows',
  'handshakes',
  'edges',
  'flows_hourly',
  'org_handshakes',
  'org_edges',
  'flows_daily',
  'edges_daily',
  'org_edges_daily',
] as const;
export type TableName = (typeof TABLES)[number];

/**
 * Derived tables a partition may lack without being "underived": the daily rollups, written by `flowql compact` for
 * days whose hourly rows are final and retired by any change to the day; a day without one is read from the hourly
 * rows it sums (DAILY_ROLLUPS).
 */
export const OPTIONAL_TABLES: readonly TableName[] = ['flows_daily', 'edges_daily', 'org_edges_daily'];

/** Each daily rollup and the table of hourly rows it sums per UTC day (src/ingest/daily-compact.ts). */
export const DAILY_ROLLUPS = {
  flows_daily: 'flows_hourly',
  edges_daily: 'edges',
  org_edges_daily: 'org_edges',
} as const satisfies Partial<Record<TableName, TableName>>;
export type DailyRollup = keyof typeof DAILY_ROLLUPS;

/**
 * The connection tables derived across every account and region (docs/semantics.md §10): a connection between two
 * accounts' instances is one row with both ends resolved, its bytes counted once, filed under one region. Partitioned
 * by region and date only (`org_edges/region=<r>/date=<d>/`); their manifest files carry ALL_ACCOUNTS as the account.
 * Written only where more than one account logs: with one account its own tables are the organisation-wide answer.
 */
export const ORG_TABLES = ['org_handshakes', 'org_edges'] as const;
export type OrgTableName = (typeof ORG_TABLES)[number];

/** The `accountId` of an org table's files: every account (never a valid account id). */
export const ALL_ACCOUNTS = '*';

/** The tables partitioned without an account: the org tables and their daily rollup. */
const ORG_PARTITIONED: readonly TableName[] = [...ORG_TABLES, 'org_edges_daily'];

/** True for a table partitioned without an account (ORG_TABLES and org_edges_daily). */
export function isOrgTable(table: TableName): boolean {
  return ORG_PARTITIONED.includes(table);
}

/** One committed Parquet file. */
export interface ManifestFile {
  /** Path relative to the warehouse root, with `/` separators. */
  readonly path: string;
  readonly table: TableName;
  readonly accountId: string;
  readonly region: string;
  /** UTC date, YYYY-MM-DD. */
  readonly date: string;
  readonly rows: number;
  readonly bytes: number;
}

/** What has been ingested, as a whole, for coverage and freshness displays. */
export interface ManifestIngestSummary {
  readonly objects: number;
  readonly records: number;
  readonly rejects: number;
  readonly lastIngestAt: string | null;
  /** Objects skipped as not flow logs (by content); absent in manifests written before it was counted. */
  readonly skippedObjects?: number;
  /**
   * The same counts split by the accounts each object belongs to (its S3 key's account and the accounts of the rows
   * it holds), so a key scoped to some accounts sees its own objects and rejects, each object once. Absent in
   * manifests written before it was kept.
   */
  readonly byAccounts?: readonly AccountIngestCounts[];
}

/** Ingest counts of the objects that belong to exactly `accounts` (sorted). */
export interface AccountIngestCounts {
  readonly accounts: readonly string[];
  readonly objects: number;
  readonly rejects: number;
  readonly skippedObjects: number;
}

/**
 * A file a commit took out of the manifest but has not deleted yet: readers that planned on an older generation (and
 * engines globbing the prefix) may still be reading it. It is deleted by the first commit, compaction or recovery
 * after `deleteAfter` (docs/ARCHITECTURE.md, "Retired files outlive their readers").
 */
export interface RetiredFile {
  readonly path: string;
  /** When the manifest that dropped it was committed (ISO-8601 UTC). */
  readonly retiredAt: string;
  /** retiredAt plus the writer's grace period: not deleted before this. */
  readonly deleteAfter: string;
}

/**
 * The live snapshot of a reference table (src/domain/reference-tables.ts). Kept apart from `files`: it belongs to no
 * account, region or date, and every tenant's questions look addresses up in it.
 */
export interface ManifestReference {
  readonly kind: ReferenceKind;
  /** Path relative to the warehouse root, with `/` separators. */
  readonly path: string;
  /**
   * ip_ranges: AWS's syncToken; networks: sha256 of the file's rows; inventory: sha256 of its as-of time and rows. A
   * re-import of the same version is a no-op.
   */
  readonly version: string;
  /**
   * ip_ranges: AWS's createDate (ISO-8601 UTC); networks: when the file was imported; inventory: its as-of time,
   * from which it names resources.
   */
  readonly createdAt: string;
  readonly importedAt: string;
  /** The imported file's name, for coverage displays. */
  readonly source: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface Manifest {
  readonly formatVersion: 1;
  /** Increases with every commit; readers use it to notice new data without a restart. */
  readonly generation: number;
  readonly updatedAt: string;
  readonly files: readonly ManifestFile[];
  readonly ingest: ManifestIngestSummary;
  /** Retired files still on storage (absent in manifests written before flowql kept them). */
  readonly retired?: readonly RetiredFile[];
  /**
   * Live reference snapshots, one per kind at most except inventory, whose snapshots accumulate (one per as-of time);
   * absent in manifests written before flowql kept them.
   */
  readonly references?: readonly ManifestReference[];
  /**
   * Set only on a tenant's view (src/auth/scoped-warehouse.ts), never written: the accounts it may read. Reference
   * tables that belong to accounts (inventory) apply it in their lookup, since one snapshot holds every account.
   */
  readonly accountScope?: readonly string[];
}

export const EMPTY_MANIFEST: Manifest = {
  formatVersion: 1,
  generation: 0,
  updatedAt: new Date(0).toISOString(),
  files: [],
  ingest: { objects: 0, records: 0, rejects: 0, lastIngestAt: null },
};

/** Paths of a local warehouse rooted at `root`. */
export function warehousePaths(root: string) {
  const meta = join(root, '_flowql');
  return {
    root,
    meta,
    ledger: join(meta, 'ledger.duckdb'),
    manifest: join(meta, 'manifest.json'),
    staging: join(meta, 'staging'),
    table: (table: TableName) => join(root, table),
  };
}

/**
 * Relative path of a partition directory: `flows/account_id=1/region=r/date=2024-01-02`, or for an org table (whose
 * files hold every account's rows) `org_edges/region=r/date=2024-01-02`.
 */
export function partitionDir(table: TableName, accountId: string, region: string, date: string): string {
  if (isOrgTable(table)) return `${table}/region=${region}/date=${date}`;
  return `${table}/account_id=${accountId}/region=${region}/date=${date}`;
}

/** Folder (relative, no trailing slash) of a reference table's snapshots. */
export function referenceDir(kind: ReferenceKind): string {
  return `reference/${kind}`;
}

/** The live snapshot of `kind` in `manifest`, or null when none was imported. */
export function manifestReference(manifest: Manifest, kind: ReferenceKind): ManifestReference | null {
  return manifest.references?.find((r) => r.kind === kind) ?? null;
}

/** Every live snapshot of `kind` in `manifest`, oldest first (inventory has several; the others one at most). */
export function manifestReferences(manifest: Manifest, kind: ReferenceKind): ManifestReference[] {
  return (manifest.references ?? [])
    .filter((r) => r.kind === kind)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

/** `account/region/date` of a file: the partition it belongs to, whatever its table. */
export function partitionKey(f: {
  readonly accountId: string;
  readonly region: string;
  readonly date: string;
}): string {
  return `${f.accountId}/${f.region}/${f.date}`;
}

/** True when every partition holding one of `files` also holds one of `derived` (a derived table covers them). */
export function partitionsCovered(files: readonly ManifestFile[], derived: readonly ManifestFile[]): boolean {
  const covered = new Set(derived.map(partitionKey));
  return files.every((f) => covered.has(partitionKey(f)));
}

/**
 * Flows partitions (`account/region/date`) missing a file of some derived table: written by an older flowql or
 * ingested with --no-derive. Their questions read the records until `flowql derive` runs. Where several accounts log,
 * a partition whose region and date have no org table file counts too: organisation-wide questions over it pair the
 * records at query time until then.
 */
export function underivedPartitions(files: readonly ManifestFile[]): string[] {
  const have = new Set(files.filter((f) => f.table !== 'flows').map((f) => `${f.table}:${partitionKey(f)}`));
  // Org tables are written per region and date where several accounts log, not per flows partition.
  const derivedTables = TABLES.filter((t) => t !== 'flows' && !isOrgTable(t) && !OPTIONAL_TABLES.includes(t));
  const shared = new Set(files.filter((f) => f.table === 'flows').map((f) => f.accountId)).size > 1;
  const missing = new Set<string>();
  for (const f of files) {
    if (f.table !== 'flows') continue;
    const orgKey = partitionKey({ accountId: ALL_ACCOUNTS, region: f.region, date: f.date });
    const orgMissing = shared && ORG_TABLES.some((t) => !have.has(`${t}:${orgKey}`));
    if (orgMissing || derivedTables.some((t) => !have.has(`${t}:${partitionKey(f)}`))) missing.add(partitionKey(f));
  }
  return [...missing].sort();
}
