/**
 * Environment variables flowql sets for the libraries it loads (DuckDB's jemalloc, the AWS SDK), before they load.
 * Apart from src/config.ts, which reads flowql's own settings, so that setting them does not load zod: config.ts's
 * schema cost every batch command about 0.12 CPU s at start (tsx, Node 20), a twenty-fifth of loading 400k records.
 */

/** The jemalloc settings used unless DUCKDB_JE_MALLOC_CONF is set: freed pages go back to the system within 30 ms. */
export const RETURN_FREED_PAGES = 'dirty_decay_ms:30,muzzy_decay_ms:0';

/**
 * How DuckDB's allocator (its own jemalloc, configured by `DUCKDB_JE_MALLOC_CONF`) treats freed memory in the batch
 * commands (ingest, compact, derive, check). By default it keeps freed pages for a second before returning them, and
 * an ingest frees and allocates hundreds of MiB a second (sorting, spilling, writing Parquet): measured on 1.67M
 * records with a 512 MB memory_limit, the process peaked at 1.10 GiB with the default and 0.75 GiB returning pages at
 * once. Returning them at once costs CPU in page faults, most in the derivation's statements: an ingest of
 * bench:ingest's 400,000 records took 17.5 CPU s (5.9 s of it system time) and peaked at 0.54 GiB with 0 ms, 11.2 CPU s
 * and 0.63 GiB with 30 ms, 12.0 s and 0.76 GiB with 100 ms; of its 1.6M records, 39 CPU s and 0.81 GiB with 30 ms,
 * 43 s and 1.01 GiB with 100 ms (jemalloc's default of 1 s peaked above 1 GiB already on 400,000).
 * jemalloc reads the variable once, when DuckDB's library is loaded, so this
 * must run before anything imports `@duckdb/node-api`; a value the user set is kept.
 */
export function returnFreedPagesAtOnce(env: NodeJS.ProcessEnv = process.env): void {
  env.DUCKDB_JE_MALLOC_CONF ??= RETURN_FREED_PAGES;
}

/**
 * The AWS SDK prints a 9-line notice on every command under Node < 22 ("versions published after the first week of
 * January 2027 will require node >=22"). flowql runs on Node 20 on purpose until its machines move to Node 22 or later
 * (the SDK is pinned in package.json to a release that supports Node 20, see README, Development), so the notice is
 * noise in every ingest and serve run: the SDK's own switch turns it off, unless the user set that switch
 * themselves. On Node 22+ the SDK never prints it, and this can go when flowql requires Node 22.
 */
export function silenceAwsSdkNodeNotice(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
