/**
 * Composition root of `flowql serve`: reads the configuration (the only place besides src/config.ts and
 * src/library-env.ts that touches process.env), builds the DuckDB instance, warehouse reader and GraphQL handler, listens, and shuts down cleanly
 * on SIGINT/SIGTERM (stop accepting, finish in-flight requests, close DuckDB).
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { parseConfig, type Config, type ConfigFlags } from './config.ts';
import { parseApiKeyFile } from './domain/api-keys.ts';
import { createApiYoga } from './graphql/yoga.ts';
import { useNoIntrospection, useOperationMetrics } from './http/graphql-plugins.ts';
import { loadPersistedOperations } from './http/persisted-operations.ts';
import { createReadinessCheck } from './http/readiness.ts';
import { createRequestHandler } from './http/request-handler.ts';
import { createServerMetrics, meteredQueryLogger } from './http/server-metrics.ts';
import { createScopedWarehouses } from './auth/scoped-warehouse.ts';
import { startPgServer, type RunningPgServer } from './pgwire/pg-server.ts';
import { createSqlEndpoint } from './pgwire/sql-endpoint.ts';
import { openApiDatabase } from './store/duckdb.ts';
import { ResultCache } from './store/result-cache.ts';
import type { S3WarehouseCache } from './ingest/s3-warehouse-cache.ts';
import { underivedPartitions } from './store/layout.ts';
import { createWarehouseReader, type WarehouseReader } from './store/warehouse-reader.ts';
import { notAWarehouseReason } from './store/warehouse-presence.ts';

/** A listening API server. */
export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:4000 (the GraphQL endpoint is `${url}/graphql`). */
  readonly url: string;
  readonly server: Server;
  /** The SQL endpoint (`--pg-port`), when configured. */
  readonly pg: RunningPgServer | null;
  /** Stops accepting connections, waits for in-flight requests, closes DuckDB. */
  close(): Promise<void>;
}

/**
 * An `s3://` warehouse: its manifest synced once before serving (so the first request sees the data) and then every
 * s3SyncSeconds; the Parquet files a request reads are fetched on first use into a cache of cacheMaxGb. The module is
 * loaded only for S3 warehouses (it pulls in the AWS SDK).
 */
async function openS3Cache(config: Config, log: Logger) {
  const { createS3WarehouseCache } = await import('./ingest/s3-warehouse-cache.ts');
  const cache = await createS3WarehouseCache(config.dataDir, {
    endpoint: config.s3Endpoint,
    cacheDir: config.cacheDir,
    maxBytes: Math.round(config.cacheMaxGb * 2 ** 30),
    onFetch: (file, bytes, ms) => log.debug({ warehouse: config.dataDir, file, bytes, ms }, 'S3 file fetched'),
  });
  const first = await cache.sync();
  log.info(
    { warehouse: config.dataDir, cache: cache.root, maxBytes: cache.stats().maxBytes, ...first },
    'S3 warehouse manifest synced',
  );
  let generation = first.generation;
  cache.start(config.s3SyncSeconds * 1000, (err, report) => {
    if (err) log.error({ err, warehouse: config.dataDir }, 'S3 warehouse sync failed; serving the cached data');
    else if (report && (report.generation !== generation || report.deleted > 0)) {
      generation = report.generation;
      log.info({ warehouse: config.dataDir, ...report }, 'S3 warehouse manifest synced');
    }
  });
  return cache;
}

/** Builds and starts the API for a validated configuration. */
export async function startApiServer(config: Config, log: Logger): Promise<RunningServer> {
  const s3 = config.dataDir.startsWith('s3://') ? await openS3Cache(config, log) : null;
  try {
    return await listenApi(config, log, s3);
  } catch (err) {
    // Its sync timer would keep a failed start alive.
    await s3?.close();
    throw err;
  }
}

/** Says at start when partitions lack derived tables: their questions work, but read every record. */
async function warnOfUnderivedPartitions(warehouse: WarehouseReader, data: string, log: Logger): Promise<void> {
  const manifest = await warehouse.manifest().catch(() => null); // an unreadable manifest is /ready's to report
  const underived = manifest ? underivedPartitions(manifest.files) : [];
  if (underived.length === 0) return;
  log.warn(
    { partitions: underived.length, first: underived[0] },
    `partitions without derived tables: their aggregates and connection questions read every record (slower); run \`flowql derive --data ${data}\``,
  );
}

async function listenApi(config: Config, log: Logger, s3: S3WarehouseCache | null): Promise<RunningServer> {
  const root = s3 ? s3.root : resolve(config.dataDir);
  // Not created here: a mistyped --data must not leave a folder behind and serve zeros; say so instead (and /ready).
  const notWarehouse = await notAWarehouseReason(root, config.dataDir);
  if (notWarehouse)
    log.warn({ warehouse: config.dataDir }, `${notWarehouse}; serving no data until then (/ready is 503)`);
  const warehouse = createWarehouseReader(root, s3?.files);
  const apiKeys = config.apiKeysFile
    ? parseApiKeyFile(await readFile(config.apiKeysFile, 'utf8'), config.apiKeysFile)
    : null;
  const persisted = config.persistedOperationsFile
    ? await loadPersistedOperations(config.persistedOperationsFile)
    : null;
  const exportDir = config.exportDir ? resolve(config.exportDir) : await mkdtemp(join(tmpdir(), 'flowql-exports-'));
  await mkdir(exportDir, { recursive: true });
  const resultCache = new ResultCache(config.resultCacheMb * 2 ** 20);
  const metrics = createServerMetrics(warehouse, resultCache);
  const queryLog = meteredQueryLogger(log, metrics);
  const db = await openApiDatabase({
    warehouseRoot: root,
    threads: config.duckdbThreads,
    memoryLimit: config.duckdbMemoryLimit,
    exportDirectory: exportDir,
  });
  const graphiql = config.graphiql
    ? {
        graphiql: (await import('./graphql/graphiql-tabs.ts')).graphiqlOptions({ db, warehouse, log }),
        renderGraphiQL: (await import('@graphql-yoga/render-graphiql')).renderGraphiQL,
      }
    : { graphiql: false as const };
  const yoga = createApiYoga({
    db,
    warehouse,
    log: queryLog,
    limits: {
      maxPageSize: config.maxPageSize,
      defaultPageSize: config.defaultPageSize,
      maxRangeMs: config.maxRangeDays * 86_400_000,
      maxTierRangeMs: Math.max(config.maxRangeDays, config.maxTierRangeDays) * 86_400_000,
    },
    queryTimeoutMs: config.queryTimeoutMs,
    maxDepth: config.maxDepth,
    maxCost: config.maxCost,
    maxStatements: config.maxStatements,
    maxResponseBytes: config.maxResponseBytes,
    maxRunningStatements: config.maxRunningStatements,
    resultCache,
    plugins: [useOperationMetrics(metrics, log), ...(config.introspection ? [] : [useNoIntrospection()])],
    ...graphiql,
  });
  const handler = createRequestHandler({
    yoga,
    db,
    warehouse,
    log: queryLog,
    metrics,
    apiKeys,
    persisted,
    readiness: createReadinessCheck(warehouse, config.dataDir),
    exportDir,
    maxRows: config.maxDatasetRows,
    maxRangeMs: config.maxRangeDays * 86_400_000,
    maxTierRangeMs: Math.max(config.maxRangeDays, config.maxTierRangeDays) * 86_400_000,
    timeoutMs: config.datasetTimeoutMs,
    resultCache,
  });
  const server = createServer(handler);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(config.port, config.host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  if (apiKeys)
    log.info(
      { keys: apiKeys.byDigest.size, file: config.apiKeysFile },
      'API keys configured: every request needs a key',
    );
  else
    log.warn(
      {},
      'no API keys configured (--api-keys / FLOWQL_API_KEYS_FILE): the API is open, every caller sees every account',
    );
  log.info({ url: `${url}/graphql`, warehouse: root }, 'flowql API listening');
  const pg = await startSqlEndpoint(config, { db, warehouse, apiKeys, log: queryLog, exportDir }, log).catch((err) => {
    server.close();
    throw err;
  });
  await warnOfUnderivedPartitions(warehouse, config.dataDir, log);
  return {
    url,
    server,
    pg,
    close: () =>
      new Promise<void>((ok) => {
        const pgClosed = pg?.close();
        server.close(async () => {
          await pgClosed;
          await s3?.close().catch((err: unknown) => log.warn({ err }, 'closing the S3 cache failed'));
          db.closeSync();
          // Only the folder this process created is removed; a configured export directory is left alone.
          if (config.exportDir) ok();
          else
            void rm(exportDir, { recursive: true, force: true }).then(
              () => ok(),
              () => ok(),
            );
        });
        server.closeIdleConnections();
      }),
  };
}

/** Starts the read-only SQL endpoint (src/pgwire/) on `--pg-port`, or nothing when it is not configured. */
async function startSqlEndpoint(
  config: Config,
  parts: {
    db: Awaited<ReturnType<typeof openApiDatabase>>;
    warehouse: WarehouseReader;
    apiKeys: ReturnType<typeof parseApiKeyFile> | null;
    log: ReturnType<typeof meteredQueryLogger<Logger>>;
    exportDir: string;
  },
  log: Logger,
): Promise<RunningPgServer | null> {
  if (config.pgPort === undefined) return null;
  const endpoint = createSqlEndpoint({
    db: parts.db,
    warehouse: parts.warehouse,
    scoped: createScopedWarehouses(parts.warehouse),
    apiKeys: parts.apiKeys,
    log: parts.log,
    // The export directory is an allowed directory of the instance: the views' empty stand-ins live there.
    scratchDir: parts.exportDir,
    queryTimeoutMs: config.queryTimeoutMs,
    maxRows: config.maxDatasetRows,
  });
  const tls =
    config.pgTlsCert && config.pgTlsKey
      ? { cert: await readFile(config.pgTlsCert), key: await readFile(config.pgTlsKey) }
      : null;
  const pg = await startPgServer(endpoint, config.host, config.pgPort, tls);
  log.info(
    { host: config.host, port: pg.port, tls: tls !== null },
    'flowql SQL endpoint (PostgreSQL protocol) listening',
  );
  return pg;
}

/** The address to open in a browser: a server listening on every interface is reached at localhost. */
function browsableUrl(url: string): string {
  return url.replace(/^http:\/\/(0\.0\.0\.0|\[::\])(?=:)/, 'http://localhost');
}

/** `flowql serve`: configuration from the environment and flags, demo data if asked, then serve until a signal. */
export async function serve(flags: ConfigFlags): Promise<void> {
  const config = parseConfig(process.env, flags);
  const log = pino({ level: config.logLevel });
  if (config.demo && config.dataDir.startsWith('s3://')) {
    throw new Error(
      `--demo fills a local warehouse; it cannot be combined with --data ${config.dataDir} (ingest into S3 with flowql ingest)`,
    );
  }
  if (config.demo) {
    // Loaded only with --demo: the generator and the ingest pipeline are not the server's. A literal specifier, so
    // the CLI bundle (bin/build-cli-bundle.js) holds it.
    const { ensureDemoWarehouse } = await import('./demo/ensure-demo-warehouse.ts');
    await ensureDemoWarehouse(resolve(config.dataDir), { log });
  }
  const running = await startApiServer(config, log);
  // startApiServer logs the address as JSON, for machines; a person running `npm start` looks for a plain line.
  process.stderr.write(
    `flowql: ${config.graphiql ? 'GraphiQL' : 'GraphQL API'} at ${browsableUrl(running.url)}/graphql\n`,
  );
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
