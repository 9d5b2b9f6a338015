/**
 * The API's DuckDB instance: one per process, in memory, locked down so that a query (even a malicious one) can only
 * read the warehouse directory. Order matters: `allowed_directories` first, then `enable_external_access = false`
 * (which freezes the allow-list), then `lock_configuration = true` (no later SET can undo either).
 */
import { resolve, sep } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** Settings of the API instance. */
export interface ApiDatabaseOptions {
  /** Local warehouse root; the only directory queries may read. */
  readonly warehouseRoot: string;
  /** DuckDB worker threads (default: DuckDB's choice, all cores). */
  readonly threads?: number;
  /** e.g. `4GB`; default DuckDB's (80% of RAM). */
  readonly memoryLimit?: string;
  /** Scratch directory the dataset exports write into (`COPY ... TO`), allowed next to the warehouse. */
  readonly exportDirectory?: string;
}

const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** Opens the locked-down in-memory instance the API queries through (a connection per query, see query-runner). */
export async function openApiDatabase(options: ApiDatabaseOptions): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const root = resolve(options.warehouseRoot);
    const asDir = (path: string): string => (path.endsWith(sep) ? path : path + sep);
    const dirs = [asDir(root), ...(options.exportDirectory ? [asDir(resolve(options.exportDirectory))] : [])];
    const statements = [
      "SET GLOBAL TimeZone = 'UTC'",
      ...(options.threads ? [`SET GLOBAL threads = ${Math.max(1, Math.floor(options.threads))}`] : []),
      ...(options.memoryLimit ? [`SET GLOBAL memory_limit = ${quote(options.memoryLimit)}`] : []),
      // Parquet footers kept between queries: warehouse files never change under one path (every write is a new
      // file), and a question re-reads the footers of every file it prunes to (about 30% of a repeated question's
      // CPU on bench:sql's files).
      'SET GLOBAL parquet_metadata_cache = true',
      `SET GLOBAL allowed_directories = [${dirs.map(quote).join(', ')}]`,
      'SET GLOBAL enable_external_access = false',
      'SET GLOBAL lock_configuration = true',
    ];
    for (const statement of statements) await connection.run(statement);
  } finally {
    connection.closeSync();
  }
  return instance;
}
