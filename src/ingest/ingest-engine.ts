/**
 * The ingester's DuckDB: one in-memory instance (bounded memory, spilling to the staging folder) holding the batch
 * table, with the ledger file attached as `ledger`. Loader connections run in parallel (gzip decoding is one thread
 * per object); the ledger connection runs migrations and commits.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { loadMigrations, runMigrations } from '../store/migrations.ts';
import { createBatchTables, type BatchTables } from './ingest-batch-tables.ts';

/** Resource limits of the ingester's DuckDB. */
export interface EngineOptions {
  /** DuckDB threads (default 2). Also the number of objects loaded at once. */
  readonly threads?: number;
  /** DuckDB memory_limit (default '1GB'): keeps the process under ~1.5 GiB with Node's own share. */
  readonly memoryLimit?: string;
}

/** An open ingest engine. */
export interface IngestEngine {
  readonly instance: DuckDBInstance;
  /** Connections for loading objects, one per concurrent load. */
  readonly loaders: readonly DuckDBConnection[];
  /** The connection that owns the ledger (`USE ledger`) and the batch flushes. */
  readonly main: DuckDBConnection;
  /** The batch: loaded rows waiting for the next commit. */
  readonly batches: BatchTables;
  close(): void;
}

/** Opens the engine: attaches (creating/upgrading) the ledger and creates an empty batch table. */
export async function openIngestEngine(ledgerPath: string, tempDir: string, opts: EngineOptions = {}): Promise<IngestEngine> {
  const threads = opts.threads ?? 2;
  const spill = join(tempDir, 'duckdb-spill');
  await mkdir(spill, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(threads),
    memory_limit: opts.memoryLimit ?? '1GB',
    temp_directory: spill,
  });
  const main = await instance.connect();
  try {
    await main.run(`ATTACH '${ledgerPath.replaceAll("'", "''")}' AS ledger`);
  } catch (err) {
    main.closeSync();
    instance.closeSync();
    const msg = (err as Error).message;
    const hint = /lock/i.test(msg) ? ' (another flowql ingest or compact is running on this warehouse)' : '';
    throw new Error(`cannot open the ledger ${ledgerPath}${hint}: ${msg}`, { cause: err });
  }
  await main.run('USE ledger');
  await runMigrations(main, await loadMigrations());
  const loaders: DuckDBConnection[] = [];
  for (let i = 0; i < threads; i++) loaders.push(await instance.connect());
  return {
    instance,
    loaders,
    main,
    batches: createBatchTables(),
    close() {
      for (const c of loaders) c.closeSync();
      main.closeSync();
      instance.closeSync();
    },
  };
}
