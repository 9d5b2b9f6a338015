/**
 * The views of the SQL endpoint (schema `flowql`: every table of the warehouse) and how a session's tenant
 * is bound to them. Each view reads `read_parquet(getvariable('flowql_files').<view>)`: the view is created once per
 * instance, and every statement a session runs first sets that one variable (per connection, so per statement; one
 * STRUCT of a file list per view, so one statement however many views there are) to the files its API key may read, from the same scoped manifest the GraphQL API uses (src/auth/scoped-warehouse.ts). A
 * tenant never names a file: the statement guard (sql-statement-guard.ts) refuses table functions, file paths and
 * `getvariable`, and only SELECT statements run.
 *
 * read_parquet of an empty list fails, so a tenant without files of a table reads a stand-in: an empty Parquet file
 * with the table's columns, written once under the scratch directory (an allowed directory of the locked-down
 * instance) from the first committed file of that table. A table without any file yet has no view.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LIST, listValue, STRUCT, structValue, VARCHAR, type DuckDBInstance } from '@duckdb/node-api';
import { HIVE_TYPES_SQL, ORG_HIVE_TYPES_SQL } from '../domain/flow-schema.ts';
import { isOrgTable, type ManifestFile } from './layout.ts';
import { CATALOG_OVERRIDE_RELATIONS, CATALOG_OVERRIDES } from './sql-catalog.ts';
import type { Connection } from './query-runner.ts';
import { SQL_SCHEMA, SQL_VIEWS, type GuardRelations, type SqlViewName } from './sql-statement-guard.ts';

/** The per-instance state: which views exist, their stand-in files, and pg_catalog's relation names. */
interface ViewState {
  readonly standIns: Map<SqlViewName, string>;
  catalog: ReadonlySet<string> | null;
  creating: Promise<void> | null;
}

const states = new WeakMap<DuckDBInstance, ViewState>();

/** The variable holding every view's file list (a STRUCT with a VARCHAR[] field per view). */
const VARIABLE = 'flowql_files';
const FILES_TYPE = STRUCT(Object.fromEntries(SQL_VIEWS.map((v) => [v, LIST(VARCHAR)])));

// The org tables are partitioned by region and date only (no account_id).
const sourceSql = (view: SqlViewName) =>
  `read_parquet(getvariable('${VARIABLE}').${view}, hive_partitioning = true, hive_types = ${isOrgTable(view) ? ORG_HIVE_TYPES_SQL : HIVE_TYPES_SQL}, union_by_name = true)`;

const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** Where the SQL endpoint's stand-ins live: `scratchDir` must be an allowed directory of the instance. */
export interface SqlViewOptions {
  readonly db: DuckDBInstance;
  readonly scratchDir: string;
  /** Absolute path of a manifest file. */
  readonly absolutePath: (file: ManifestFile) => string;
}

/** Sets every view's file list in one statement (a view not listed reads none: it must not be queried). */
async function setFiles(connection: Connection, files: ReadonlyMap<SqlViewName, readonly string[]>): Promise<void> {
  const value = structValue(Object.fromEntries(SQL_VIEWS.map((v) => [v, listValue([...(files.get(v) ?? [])])])));
  await connection.run(`SET VARIABLE ${VARIABLE} = $1`, [value], [FILES_TYPE]);
}

/**
 * Creates the views of the tables that have committed files in `allFiles` (every account's: the stand-in only takes
 * the columns of one) and are not created yet; returns the relations a statement may name.
 */
export async function ensureSqlViews(
  options: SqlViewOptions,
  allFiles: readonly ManifestFile[],
): Promise<GuardRelations> {
  const { db } = options;
  let state = states.get(db);
  if (!state) states.set(db, (state = { standIns: new Map(), catalog: null, creating: null }));
  const missing = SQL_VIEWS.filter((v) => !state.standIns.has(v) && allFiles.some((f) => f.table === v));
  if (missing.length > 0 || !state.catalog) {
    // One creator at a time; a session arriving meanwhile waits and then sees the views.
    while (state.creating) await state.creating;
    state.creating = createViews(options, state, allFiles).finally(() => {
      state.creating = null;
    });
    await state.creating;
  }
  return { views: new Set(state.standIns.keys()), catalog: state.catalog ?? new Set() };
}

async function createViews(options: SqlViewOptions, state: ViewState, allFiles: readonly ManifestFile[]) {
  const connection = await options.db.connect();
  try {
    await connection.run(`CREATE SCHEMA IF NOT EXISTS ${SQL_SCHEMA}`);
    for (const view of SQL_VIEWS) {
      const first = allFiles.find((f) => f.table === view);
      if (state.standIns.has(view) || !first) continue;
      const org = isOrgTable(view);
      const partitions = org
        ? ['region=none', 'date=1970-01-01']
        : ['account_id=none', 'region=none', 'date=1970-01-01'];
      const dir = join(options.scratchDir, 'sql-stand-ins', view, ...partitions);
      await mkdir(dir, { recursive: true });
      const standIn = join(dir, 'empty.parquet');
      await setFiles(connection, new Map([[view, [options.absolutePath(first)]]]));
      const hive = org ? 'region, date' : 'account_id, region, date';
      await connection.run(
        `COPY (SELECT * EXCLUDE (${hive}) FROM ${sourceSql(view)} LIMIT 0) TO ${quote(standIn)} (FORMAT parquet)`,
      );
      await connection.run(`CREATE OR REPLACE VIEW ${SQL_SCHEMA}.${view} AS SELECT * FROM ${sourceSql(view)}`);
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
 * Points every view at the files `tenantFiles` holds (a tenant's scoped manifest) on `connection`, before a
 * statement of that tenant runs on it.
 */
export async function bindTenantFiles(
  options: SqlViewOptions,
  connection: Connection,
  tenantFiles: readonly ManifestFile[],
): Promise<void> {
  const state = states.get(options.db);
  if (!state) return;
  // Unqualified names find flowql's views, then the catalog overrides of `main` (before DuckDB's pg_catalog).
  await connection.run(`SET search_path = '${SQL_SCHEMA},main'`);
  const files = new Map<SqlViewName, string[]>();
  for (const [view, standIn] of state.standIns) {
    const paths = tenantFiles.filter((f) => f.table === view).map((f) => options.absolutePath(f));
    files.set(view, paths.length > 0 ? paths : [standIn]);
  }
  await setFiles(connection, files);
}
