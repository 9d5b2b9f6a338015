/**
 * The views of the SQL endpoint (schema `flowql`: every table of the warehouse and every reference table) and how a
 * session's tenant is bound to them. Each view reads `read_parquet(getvariable('flowql_files').<view>)`: the view is
 * created once per instance, and every statement a session runs first sets that one variable (per connection, so per
 * statement; one STRUCT holding a file list per view and the tenant's accounts, so one statement however many views
 * there are) to the files its API key may read, from the same scoped manifest the GraphQL API uses
 * (src/auth/scoped-warehouse.ts). A tenant never names a file: the statement guard (sql-statement-guard.ts) refuses
 * table functions, file paths and `getvariable`, and only SELECT statements run.
 *
 * The reference tables belong to no account, and every key reads them as GraphQL does, except the inventory: one
 * snapshot lists every account's resources, so its view keeps only the rows of the key's accounts (the variable's
 * `accounts`, null for a key allowed every account). Its rows are the snapshots as imported, each with the span in
 * which it names its resource (see viewSql).
 *
 * read_parquet of an empty list fails, so a tenant without files of a table reads a stand-in: an empty Parquet file
 * with the table's columns, written once under the scratch directory (an allowed directory of the locked-down
 * instance) from the first committed file of that table. A table without any file yet has no view.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LIST, listValue, STRUCT, structValue, VARCHAR, type DuckDBInstance } from '@duckdb/node-api';
import { HIVE_TYPES_SQL, ORG_HIVE_TYPES_SQL } from '../domain/flow-schema.ts';
import { REFERENCE_KINDS, type ReferenceKind } from '../domain/reference-tables.ts';
import { isOrgTable, TABLES, type Manifest, type ManifestFile, type TableName } from './layout.ts';
import { CATALOG_OVERRIDE_RELATIONS, CATALOG_OVERRIDES } from './sql-catalog.ts';
import type { Connection } from './query-runner.ts';
import { SQL_SCHEMA, SQL_VIEWS, type GuardRelations, type SqlViewName } from './sql-statement-guard.ts';

/**
 * The per-instance state: which views exist, their stand-in files, pg_catalog's relation names, and the relations a
 * statement may name (one object until a view is added, so the guard's verdicts stay keyed by it).
 */
interface ViewState {
  readonly standIns: Map<SqlViewName, string>;
  catalog: ReadonlySet<string> | null;
  relations: GuardRelations | null;
  creating: Promise<void> | null;
}

const states = new WeakMap<DuckDBInstance, ViewState>();

/** The variable holding every view's file list (a VARCHAR[] field per view) and the tenant's accounts. */
const VARIABLE = 'flowql_files';
const ACCOUNTS = 'accounts';
const FILES_TYPE = STRUCT({
  ...Object.fromEntries(SQL_VIEWS.map((v) => [v, LIST(VARCHAR)])),
  [ACCOUNTS]: LIST(VARCHAR),
});

const isReference = (view: SqlViewName): view is ReferenceKind => (REFERENCE_KINDS as readonly string[]).includes(view);

const filesOf = (view: SqlViewName) => `getvariable('${VARIABLE}').${view}`;

/** What a view reads; the org tables are partitioned by region and date only (no account_id). */
function sourceSql(view: SqlViewName): string {
  if (isReference(view)) return `read_parquet(${filesOf(view)}, union_by_name = true)`;
  const hiveTypes = isOrgTable(view) ? ORG_HIVE_TYPES_SQL : HIVE_TYPES_SQL;
  return `read_parquet(${filesOf(view)}, hive_partitioning = true, hive_types = ${hiveTypes}, union_by_name = true)`;
}

/**
 * The view's definition: its source as it is, but for the inventory: the key's accounts only, and each row's span as
 * GraphQL names by it (`as_of` is the snapshot's time; `valid_from` on a resource's earliest row is its launch or
 * attach time as that snapshot lists it, else null: it names the resource before its time too; `valid_to` null while
 * no newer snapshot lists it). Snapshots written before flowql kept addresses and launch/attach times read them as
 * NULL (store/queries/inventory-tag-query.ts has the same rule for GraphQL).
 */
function viewSql(view: SqlViewName): string {
  if (view !== 'inventory') return `SELECT * FROM ${sourceSql(view)}`;
  const accounts = `getvariable('${VARIABLE}').${ACCOUNTS}`;
  const rows = `(SELECT * FROM ${sourceSql(view)} UNION ALL BY NAME
    SELECT NULL::VARCHAR[] AS private_addresses, NULL::TIMESTAMP AS launch_time, NULL::TIMESTAMP AS attach_time WHERE FALSE)`;
  return `SELECT * EXCLUDE (valid_from), valid_from AS as_of,
         CASE WHEN row_number() OVER w > 1 THEN valid_from ELSE coalesce(launch_time, attach_time) END AS valid_from,
         lead(valid_from) OVER w AS valid_to
    FROM ${rows}
   WHERE ${accounts} IS NULL OR list_contains(${accounts}, account_id)
  WINDOW w AS (PARTITION BY resource_id ORDER BY valid_from)`;
}

const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** Where the SQL endpoint's stand-ins live: `scratchDir` must be an allowed directory of the instance. */
export interface SqlViewOptions {
  readonly db: DuckDBInstance;
  readonly scratchDir: string;
  /** Absolute path of a manifest file or reference snapshot. */
  readonly absolutePath: (file: Pick<ManifestFile, 'path'>) => string;
}

type ViewFiles = ReadonlyMap<SqlViewName, readonly Pick<ManifestFile, 'path' | 'bytes'>[]>;
// A manifest (the whole warehouse's, or a tenant's scoped view of one generation) is read by every statement.
const viewFilesCache = new WeakMap<Manifest, ViewFiles>();

/** The files of each view in `manifest` (paths relative to the warehouse root): its tables' and its references'. */
export function viewFilesOf(manifest: Manifest): ViewFiles {
  const cached = viewFilesCache.get(manifest);
  if (cached) return cached;
  const byView = new Map<SqlViewName, Pick<ManifestFile, 'path' | 'bytes'>[]>();
  const add = (view: SqlViewName, file: Pick<ManifestFile, 'path' | 'bytes'>) => {
    const list = byView.get(view);
    if (list) list.push(file);
    else byView.set(view, [file]);
  };
  for (const f of manifest.files) if ((TABLES as readonly TableName[]).includes(f.table)) add(f.table, f);
  for (const r of manifest.references ?? []) add(r.kind, r);
  viewFilesCache.set(manifest, byView);
  return byView;
}

/** What a statement's variable holds: each view's files (a view not listed reads none) and the tenant's accounts. */
interface Binding {
  readonly files: ReadonlyMap<SqlViewName, readonly string[]>;
  readonly accounts: readonly string[] | null;
}

/** Sets the variable in one statement (a view not listed reads none: it must not be queried). */
async function bind(connection: Connection, binding: Binding): Promise<void> {
  const value = structValue({
    ...Object.fromEntries(SQL_VIEWS.map((v) => [v, listValue([...(binding.files.get(v) ?? [])])])),
    [ACCOUNTS]: binding.accounts ? listValue([...binding.accounts]) : null,
  });
  await connection.run(`SET VARIABLE ${VARIABLE} = $1`, [value], [FILES_TYPE]);
}

/**
 * Creates the views of the tables and references that have files in `manifest` (the whole warehouse's: a stand-in
 * only takes the columns of one file) and are not created yet; returns the relations a statement may name.
 */
export async function ensureSqlViews(options: SqlViewOptions, manifest: Manifest): Promise<GuardRelations> {
  const { db } = options;
  let state = states.get(db);
  if (!state) states.set(db, (state = { standIns: new Map(), catalog: null, relations: null, creating: null }));
  const files = viewFilesOf(manifest);
  const missing = SQL_VIEWS.filter((v) => !state.standIns.has(v) && files.has(v));
  if (missing.length > 0 || !state.relations) {
    // One creator at a time; a session arriving meanwhile waits and then sees the views.
    while (state.creating) await state.creating;
    state.creating = createViews(options, state, files).finally(() => {
      state.creating = null;
    });
    await state.creating;
    state.relations = { views: new Set(state.standIns.keys()), catalog: state.catalog ?? new Set() };
  }
  return state.relations!;
}

/** The partition folders of a stand-in, so hive partitioning reads the same columns from it as from the table. */
function standInPartitions(view: SqlViewName): string[] {
  if (isReference(view)) return [];
  if (isOrgTable(view)) return ['region=none', 'date=1970-01-01'];
  return ['account_id=none', 'region=none', 'date=1970-01-01'];
}

async function createViews(options: SqlViewOptions, state: ViewState, files: ViewFiles) {
  const connection = await options.db.connect();
  try {
    await connection.run(`CREATE SCHEMA IF NOT EXISTS ${SQL_SCHEMA}`);
    for (const view of SQL_VIEWS) {
      const first = files.get(view)?.[0];
      if (state.standIns.has(view) || !first) continue;
      const partitions = standInPartitions(view);
      const dir = join(options.scratchDir, 'sql-stand-ins', view, ...partitions);
      await mkdir(dir, { recursive: true });
      const standIn = join(dir, 'empty.parquet');
      await bind(connection, { files: new Map([[view, [options.absolutePath(first)]]]), accounts: null });
      const hive = partitions.map((p) => p.split('=')[0]).join(', ');
      await connection.run(
        `COPY (SELECT * ${hive ? `EXCLUDE (${hive})` : ''} FROM ${sourceSql(view)} LIMIT 0) TO ${quote(standIn)} (FORMAT parquet)`,
      );
      await connection.run(`CREATE OR REPLACE VIEW ${SQL_SCHEMA}.${view} AS ${viewSql(view)}`);
      state.standIns.set(view, standIn);
    }
    if (!state.catalog) {
      for (const statement of CATALOG_OVERRIDES) await connection.run(statement);
      const names = await connection.runAndReadAll(
        "SELECT view_name FROM duckdb_views() WHERE schema_name = 'pg_catalog' UNION SELECT table_name FROM duckdb_tables() WHERE schema_name = 'pg_catalog'",
      );
      state.catalog = new Set([
        ...names.getRowsJS().map((r) => String(r[0]).toLowerCase()),
        ...CATALOG_OVERRIDE_RELATIONS,
      ]);
    }
  } finally {
    connection.closeSync();
  }
}

/**
 * Points the views a statement reads (`read`, from the statement guard) at the files `tenant` (a tenant's scoped
 * manifest) may read on `connection`, and the inventory view at its accounts, before the statement runs on it. The
 * other views read their empty stand-ins: binding a view's list costs DuckDB time per file (about 2 ms for the
 * 900 files of bench:sql's warehouse), more than a small question takes to plan.
 */
export async function bindTenantFiles(
  options: SqlViewOptions,
  connection: Connection,
  tenant: Manifest,
  read: ReadonlySet<SqlViewName>,
): Promise<void> {
  const state = states.get(options.db);
  if (!state) return;
  // Unqualified names find flowql's views, then the catalog overrides of `main` (before DuckDB's pg_catalog).
  await connection.run(`SET search_path = '${SQL_SCHEMA},main'`);
  const available = viewFilesOf(tenant);
  const files = new Map<SqlViewName, string[]>();
  for (const [view, standIn] of state.standIns) {
    const paths = read.has(view) ? (available.get(view) ?? []).map((f) => options.absolutePath(f)) : [];
    files.set(view, paths.length > 0 ? paths : [standIn]);
  }
  await bind(connection, { files, accounts: tenant.accountScope ?? null });
}
