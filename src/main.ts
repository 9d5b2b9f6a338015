/**
 * Composition root of `flowql serve`: reads the configuration (the only place besides src/config.ts that touches
 * process.env), builds the DuckDB instance, warehouse reader and GraphQL handler, listens, and shuts down cleanly
 * on SIGINT/SIGTERM (stop accepting, finish in-flight requests, close DuckDB).
 */
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { parseConfig, type Config, type ConfigFlags } from './config.ts';
import { createApiYoga } from './graphql/yoga.ts';
import { openApiDatabase } from './store/duckdb.ts';
import { createWarehouseReader } from './store/warehouse-reader.ts';

/** A listening API server. */
export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:4000 (the GraphQL endpoint is `${url}/graphql`). */
  readonly url: string;
  readonly server: Server;
  /** Stops accepting connections, waits for in-flight requests, closes DuckDB. */
  close(): Promise<void>;
}

/** Builds and starts the API for a validated configuration. */
export async function startApiServer(config: Config, log: Logger): Promise<RunningServer> {
  const root = resolve(config.dataDir);
  await mkdir(root, { recursive: true });
  const warehouse = createWarehouseReader(root);
  const db = await openApiDatabase({ warehouseRoot: root, threads: config.duckdbThreads, memoryLimit: config.duckdbMemoryLimit });
  const graphiql = config.graphiql
    ? {
        graphiql: (await import('./graphql/graphiql-tabs.ts')).graphiqlOptions({ db, warehouse, log }),
        renderGraphiQL: (await import('@graphql-yoga/render-graphiql')).renderGraphiQL,
      }
    : { graphiql: false as const };
  const yoga = createApiYoga({
    db,
    warehouse,
    log,
    limits: {
      maxPageSize: config.maxPageSize,
      defaultPageSize: config.defaultPageSize,
      maxRangeMs: config.maxRangeDays * 86_400_000,
    },
    queryTimeoutMs: config.queryTimeoutMs,
    maxDepth: config.maxDepth,
    maxCost: config.maxCost,
    ...graphiql,
  });
  const server = createServer(yoga);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(config.port, config.host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url: `${url}/graphql`, warehouse: root }, 'flowql API listening');
  return {
    url,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => {
          db.closeSync();
          ok();
        });
        server.closeIdleConnections();
      }),
  };
}

/** `flowql serve`: configuration from the environment and flags, demo data if asked, then serve until a signal. */
export async function serve(flags: ConfigFlags): Promise<void> {
  const config = parseConfig(process.env, flags);
  const log = pino({ level: config.logLevel });
  if (config.demo) {
    // The demo bootstrap (empty warehouse -> generate -> ingest) belongs to src/demo/ (another owner); the specifier is
    // a variable so this file type-checks before that module lands.
    const specifier = './demo/ensure-demo-warehouse.ts';
    const demo = (await import(specifier)) as { ensureDemoWarehouse(root: string, o: { log: Logger }): Promise<void> };
    await demo.ensureDemoWarehouse(resolve(config.dataDir), { log });
  }
  const running = await startApiServer(config, log);
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
