/**
 * The ingester's DuckDB: one in-memory instance (bounded memory, spilling to the staging folder) holding the batch
 * table, with the ledger file attached as `ledger`. Loader connections run in parallel (gzip decoding is one thread
 * per object); the ledger connection runs migrations and commits.
 *
 * Memory (issue 10.3): the process's peak RSS is about Node's share (~130 MiB idle, ~300 MiB while loading) plus
 * DuckDB's memory_limit plus what DuckDB allocates outside its buffer manager (sort and Parquet writer state, ~200-300
 * MiB at 2 threads) plus freed pages its allocator has not returned yet. With a 1 GB limit an ingest of 1.67M records
 * peaked at 1.7-1.8 GiB; DEFAULT_MEMORY_LIMIT with the allocator returning freed pages at once (returnFreedPagesAtOnce, src/library-env.ts)
 * keeps it near 0.75 GiB. The batch is in-memory tables, which spill to `duckdb-spill` under the staging folder like the
 * sorts and the derivation's joins when the limit is reached: a larger `--memory-limit` spills less and may be faster.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { loadMigrations, runMigrations } from '../store/migrations.ts';
import { createBatchTables, type BatchTables } from './ingest-batch-tables.ts';
import { DEFAULT_MEMORY_LIMIT } from './ingest-memory.ts';

/** Resource limits of the ingester's DuckDB. */
export interface EngineOptions {
  /**
   * Loader connections (default 2); also DuckDB's threads per statement unless `oneThreadPerStatement`.
   */
  readonly threads?: number;
  /**
   * Every statement with one DuckDB thread, the loads side by side on the loader connections (an ingest); otherwise
   * `threads` DuckDB threads per statement (`flowql compact`, `flowql derive`, one statement at a time). Why: on the
   * 2-core machine, a load, flush or derivation statement with two DuckDB threads took 1.2-1.7x the CPU seconds of the
   * same statement with one (bench/ingest-bench.ts, 400k records: 4.7 -> 3.0 CPU s for `--no-derive`, 11.6 -> 9.6 for
   * the default ingest), while the parallel loads keep both cores busy.
   */
  readonly oneThreadPerStatement?: boolean;
  /** DuckDB memory_limit (default DEFAULT_MEMORY_LIMIT, ingest-memory.ts). */
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
export async function openIngestEngine(
  ledgerPath: string,
  tempDir: string,
  opts: EngineOptions = {},
): Promise<IngestEngine> {
  const threads = opts.threads ?? 2;
  const spill = join(tempDir, 'duckdb-spill');
  await mkdir(spill, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    // DuckDB's threads are an instance setting; a statement with one runs on the thread of its call.
    threads: String(opts.oneThreadPerStatement ? 1 : threads),
    memory_limit: opts.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
    temp_directory: spill,
    // With one thread per statement, statements run on Node's threads, not on DuckDB's workers, which
    // hand freed memory back as they finish tasks: without jemalloc's background thread, memory a statement freed on a
    // thread that then sat idle stayed with that thread, and an ingest of 1.6M records peaked at 1.10-1.24 GiB
    // instead of 0.79-0.91 (bench:ingest's objects, --no-derive).
    allocator_background_threads: 'true',
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
