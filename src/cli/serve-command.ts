import type { Command } from 'commander';

/** `flowql serve`: the GraphQL API over a warehouse (picks up newly ingested data without a restart). */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the GraphQL API (/graphql) over a warehouse')
    .option('--data <dir>', 'warehouse directory or s3://bucket/prefix (env FLOWQL_DATA, default ./data)')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint of an s3:// warehouse (env FLOWQL_S3_ENDPOINT)')
    .option(
      '--s3-sync-seconds <s>',
      'seconds between syncs of an s3:// warehouse (env FLOWQL_S3_SYNC_SECONDS, default 30)',
    )
    .option('--cache-dir <dir>', 'local cache of an s3:// warehouse (env FLOWQL_CACHE_DIR, default a temp folder)')
    .option(
      '--cache-max-gb <gib>',
      'GiB of Parquet files the cache of an s3:// warehouse keeps, least recently used out (env FLOWQL_CACHE_MAX_GB, default 10)',
    )
    .option('--port <port>', 'port (env FLOWQL_PORT, default 4000; 0 = any free port)')
    .option(
      '--pg-port <port>',
      'also serve read-only SQL over the PostgreSQL protocol on this port, for BI tools (env FLOWQL_PG_PORT, default off)',
    )
    .option('--pg-tls-cert <file>', 'PEM certificate of the SQL endpoint, with --pg-tls-key (env FLOWQL_PG_TLS_CERT)')
    .option('--pg-tls-key <file>', 'PEM private key of the SQL endpoint (env FLOWQL_PG_TLS_KEY)')
    .option('--host <host>', 'interface to listen on (env FLOWQL_HOST, default 127.0.0.1)')
    .option('--max-page-size <n>', 'largest `first` of a connection (env FLOWQL_MAX_PAGE_SIZE, default 1000)')
    .option('--default-page-size <n>', '`first` when a client gives none (env FLOWQL_DEFAULT_PAGE_SIZE, default 100)')
    .option(
      '--max-range-days <n>',
      'longest filter time window of a question that reads flow records or hourly edge rows (env FLOWQL_MAX_RANGE_DAYS, default 31)',
    )
    .option(
      '--max-tier-range-days <n>',
      'longest window of an aggregate or edge question the rollup tiers answer (env FLOWQL_MAX_TIER_RANGE_DAYS, default 400)',
    )
    .option('--query-timeout-ms <ms>', 'time budget of one request (env FLOWQL_QUERY_TIMEOUT_MS, default 10000)')
    .option('--max-depth <n>', 'deepest GraphQL selection accepted (env FLOWQL_MAX_DEPTH, default 12)')
    .option('--max-cost <n>', 'largest estimated GraphQL operation cost (env FLOWQL_MAX_COST, default 200000)')
    .option(
      '--max-statements <n>',
      'most DuckDB statements of one GraphQL request (env FLOWQL_MAX_STATEMENTS, default 16)',
    )
    .option(
      '--max-response-bytes <n>',
      'largest GraphQL response in bytes (env FLOWQL_MAX_RESPONSE_BYTES, default 16777216)',
    )
    .option(
      '--max-running-statements <n>',
      'DuckDB statements running at once, the rest queued fairly (env FLOWQL_MAX_RUNNING_STATEMENTS, default 4)',
    )
    .option('--duckdb-threads <n>', 'DuckDB worker threads (env FLOWQL_DUCKDB_THREADS, default all cores)')
    .option(
      '--duckdb-memory-limit <size>',
      'DuckDB memory limit, e.g. 4GB (env FLOWQL_DUCKDB_MEMORY_LIMIT, default 80% of RAM)',
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env FLOWQL_LOG_LEVEL, default info)')
    .option('--no-graphiql', 'do not serve GraphiQL at /graphql')
    .option('--demo', 'fill an empty warehouse with generated demo data first')
    .option('--api-keys <file>', 'API key file; every request then needs a key (env FLOWQL_API_KEYS_FILE)')
    .option(
      '--persisted-operations <file>',
      'allow-listed operations { sha256: query } (env FLOWQL_PERSISTED_OPERATIONS_FILE)',
    )
    .option('--no-introspection', 'refuse GraphQL introspection (env FLOWQL_INTROSPECTION=false)')
    .option(
      '--export-dir <dir>',
      'scratch directory of dataset downloads (env FLOWQL_EXPORT_DIR, default a temp folder)',
    )
    .option('--max-dataset-rows <n>', 'most rows of a dataset download (env FLOWQL_MAX_DATASET_ROWS, default 1000000)')
    .option(
      '--dataset-timeout-ms <ms>',
      'time budget of one dataset download (env FLOWQL_DATASET_TIMEOUT_MS, default 120000)',
    )
    .option(
      '--result-cache-mb <mib>',
      'memory for answers shared by identical requests, 0 = off (env FLOWQL_RESULT_CACHE_MB, default 64)',
    )
    .action(async (options: Record<string, unknown>) => {
      const { serve } = await import('../main.ts');
      // commander sets graphiql=true unless --no-graphiql: pass it only when turned off, so FLOWQL_GRAPHIQL still applies.
      await serve({
        ...options,
        dataDir: options.data,
        graphiql: options.graphiql === false ? false : undefined,
        introspection: options.introspection === false ? false : undefined,
        apiKeysFile: options.apiKeys,
        persistedOperationsFile: options.persistedOperations,
      });
    });
}
