/**
 * `npm run bench:api [-- --records N --runs R]` (default 10,000,000 records, 20 runs): every GraphiQL example query
 * (src/graphql/graphiql-tabs.ts) through HTTP to a real `flowql serve` on a loopback port, next to the same question
 * answered by hand-written DuckDB SQL on the same Parquet files in the same run, with p50/p95 and the ratio; then the
 * connection-analytics statements of bench/analytics-bench-cases.ts next to their raw-SQL baselines.
 *
 * Data: generated once (src/generator, 2 days) and ingested (src/ingest) into .bench/api-<N>/, reused afterwards.
 * Targets (issue 4): ratio <= 1.2; a page of flows <= 50 ms; a one-day top-N <= 300 ms.
 * The server is the GraphQL handler `flowql serve` mounts (createApiYoga on a node http server, locked-down DuckDB).
 * Baselines run on their own DuckDB instance with default settings, reading the warehouse by glob with Hive
 * partitions, as a user scripting DuckDB by hand would; statements of one question run concurrently, as GraphQL
 * resolves root fields concurrently.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateFlowFilter } from '../src/domain/flow-filter.ts';
import { HIVE_TYPES_SQL } from '../src/domain/flow-schema.ts';
import { EXAMPLE_QUERIES, exampleContext, type ExampleContext } from '../src/graphql/graphiql-tabs.ts';
import { createApiYoga } from '../src/graphql/yoga.ts';
import { openApiDatabase } from '../src/store/duckdb.ts';
import type { Manifest } from '../src/store/layout.ts';
import { CostMeter } from '../src/store/query-cost.ts';
import { runQuery } from '../src/store/query-runner.ts';
import type { SqlQuery } from '../src/store/sql.ts';
import { createWarehouseReader } from '../src/store/warehouse-reader.ts';
import { analyticsBenchCases } from './analytics-bench-cases.ts';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '20' } },
});
const N = Number(values.records);
const RUNS = Math.max(3, Number(values.runs));
const dir = join(process.cwd(), '.bench', `api-${N}`);
const source = join(dir, 'source');
const root = join(dir, 'warehouse');
const manifestPath = join(root, '_flowql', 'manifest.json');

const readManifest = async (): Promise<Manifest | null> =>
  existsSync(manifestPath) ? (JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest) : null;

async function ensureData(): Promise<Manifest> {
  const existing = await readManifest();
  if (existing && existing.ingest.records >= N) {
    console.log(`reusing ${root} (${existing.ingest.records} records, ${existing.files.length} files)`);
    return existing;
  }
  // Generator and ingester load only when data must be made (a reused warehouse needs neither).
  const { generateDataset } = await import('../src/generator/generate-dataset.ts');
  const { createLocalWarehouseStorage } = await import('../src/ingest/local-warehouse-storage.ts');
  const { createProgressReporter } = await import('../src/ingest/ingest-progress.ts');
  const { runIngest } = await import('../src/ingest/ingest-run.ts');
  if (!existsSync(join(source, 'ground-truth.json'))) {
    console.log(`generating ${N} records into ${source} ...`);
    const g = await generateDataset({ outDir: source, records: N, days: 2, seed: 7 });
    console.log(`generated ${g.records} records in ${g.files} files, ${g.seconds.toFixed(1)} s`);
  }
  console.log(`ingesting into ${root} ...`);
  const progress = createProgressReporter(process.stderr);
  const s = await runIngest({
    sources: [join(source, 'AWSLogs')],
    storage: await createLocalWarehouseStorage(root),
    onProgress: (p) => progress.update(p),
    onLog: (l) => progress.log(l),
  });
  progress.stop();
  console.log(`ingested ${s.records} records (${s.rejects} rejects) in ${(s.elapsedMs / 1000).toFixed(1)} s`);
  return (await readManifest())!;
}

/** p50 and p95 of `runs` timed calls after two warm-ups. */
async function measure(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 2; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95) };
}

/** The hand-written SQL answering each example, over the warehouse by glob (a question may need several statements). */
function baselineStatements(c: ExampleContext): Record<string, { text: string; params: DuckDBValue[] }[]> {
  const flows = `read_parquet('${root}/flows/*/*/*/*.parquet', hive_partitioning = true, hive_types = ${HIVE_TYPES_SQL})`;
  const day = `date = CAST($1 AS TIMESTAMP)::DATE AND start_time >= CAST($1 AS TIMESTAMP) AND start_time < CAST($2 AS TIMESTAMP)`;
  const w: DuckDBValue[] = [c.from.slice(0, 19), c.to.slice(0, 19)];
  const rejected = `${day} AND action = 'REJECT'`;
  return {
    FlowsOfAnInstance: [
      {
        text: `SELECT start_time, interface_id, srcaddr, srcport, dstaddr, dstport, protocol, action, bytes, packets, tcp_flags FROM ${flows} WHERE ${day} AND instance_id = $3 ORDER BY start_time, flow_id LIMIT 21`,
        params: [...w, c.instanceId],
      },
    ],
    TopTalkers: [
      {
        text: `SELECT srcaddr, dstaddr, sum(bytes) AS b, sum(packets), count(*) FROM ${flows} WHERE ${day} AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL GROUP BY ALL ORDER BY b DESC LIMIT 11`,
        params: w,
      },
      {
        text: `SELECT count(*), sum(bytes), sum(packets), count(DISTINCT srcaddr), count(DISTINCT dstaddr) FROM ${flows} WHERE ${day}`,
        params: w,
      },
    ],
    RejectedTraffic: [
      {
        text: `SELECT count(*), sum(bytes), count(DISTINCT srcaddr), min(start_time), max(end_time) FROM ${flows} WHERE ${rejected}`,
        params: w,
      },
      {
        text: `SELECT srcaddr, count(*) AS n, count(DISTINCT dstaddr) FROM ${flows} WHERE ${rejected} AND srcaddr IS NOT NULL GROUP BY ALL ORDER BY n DESC LIMIT 11`,
        params: w,
      },
      {
        text: `SELECT dstport, count(*) AS n FROM ${flows} WHERE ${rejected} AND dstport IS NOT NULL GROUP BY ALL ORDER BY n DESC LIMIT 11`,
        params: w,
      },
    ],
    TrafficOverTime: [
      {
        text: `WITH g AS (SELECT time_bucket(INTERVAL 1 HOUR, start_time) AS t, account_id, sum(bytes) AS b, count(*), count(*) FILTER (WHERE action = 'REJECT') FROM ${flows} WHERE ${day} GROUP BY ALL),
               top AS (SELECT account_id FROM g GROUP BY ALL ORDER BY sum(b) DESC LIMIT 5)
               SELECT * FROM g WHERE account_id IN (SELECT account_id FROM top) ORDER BY account_id, t`,
        params: w,
      },
    ],
    Coverage: [
      {
        text: `SELECT account_id, region, interface_id, count(*) AS n, count(*) FILTER (WHERE log_status = 'OK') AS ok, count(*) FILTER (WHERE log_status = 'NODATA') AS nd, count(*) FILTER (WHERE log_status = 'SKIPDATA') AS sd, min(start_time), max(coalesce(end_time, start_time)) FROM ${flows} WHERE ${day} GROUP BY ALL ORDER BY sd DESC, nd DESC, account_id, region, interface_id LIMIT 6`,
        params: w,
      },
    ],
  };
}

async function runAll(db: DuckDBInstance, statements: { text: string; params: DuckDBValue[] }[]): Promise<void> {
  await Promise.all(
    statements.map(async (s) => {
      const c: DuckDBConnection = await db.connect();
      try {
        await c.runAndReadAll(s.text, s.params);
      } finally {
        c.closeSync();
      }
    }),
  );
}

const fmt = (ms: number) => ms.toFixed(1).padStart(8);
const line = (name: string, api: { p50: number; p95: number }, base: { p50: number; p95: number }, target = '') =>
  console.log(
    `${name.padEnd(44)} ${fmt(api.p50)} ${fmt(api.p95)} ${fmt(base.p50)} ${fmt(base.p95)} ${(api.p50 / base.p50).toFixed(2).padStart(7)}  ${target}`,
  );
const header = (first: string) =>
  console.log(
    `\n${first.padEnd(44)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'SQL p50'.padStart(8)} ${'SQL p95'.padStart(8)} ${'ratio'.padStart(7)}  target`,
  );

const quiet = { info: () => {}, warn: () => {} };
const manifest = await ensureData();
const newest = manifest.files.filter((f) => f.table === 'flows').reduce((d, f) => (f.date > d ? f.date : d), '');
const dayRecords = manifest.files
  .filter((f) => f.table === 'flows' && f.date === newest)
  .reduce((n, f) => n + f.rows, 0);
const baselineDb = await DuckDBInstance.create(':memory:');
const probe = await baselineDb.connect();
const busiest = await probe.runAndReadAll(
  `SELECT instance_id FROM read_parquet('${root}/flows/*/*/*/*.parquet', hive_partitioning = true, hive_types = ${HIVE_TYPES_SQL}) WHERE date = CAST($1 AS DATE) AND instance_id IS NOT NULL GROUP BY ALL ORDER BY count(*) DESC, instance_id LIMIT 1`,
  [newest],
);
probe.closeSync();
const ctx = exampleContext(newest, String(busiest.getRowObjectsJS()[0]?.instance_id ?? 'i-0'));
console.log(
  `day ${newest} (${dayRecords} of ${manifest.ingest.records} records), instance ${ctx.instanceId}, ${RUNS} runs each`,
);

// The API as `flowql serve` mounts it: the locked-down DuckDB instance, the yoga handler, a node http server.
const apiDb = await openApiDatabase({ warehouseRoot: root });
const yoga = createApiYoga({
  db: apiDb,
  warehouse: createWarehouseReader(root),
  log: { ...quiet, error: (obj: object) => console.error(obj) },
  limits: { maxPageSize: 1000, defaultPageSize: 100, maxRangeMs: 31 * 86_400_000 },
  queryTimeoutMs: 120_000,
  maxDepth: 12,
  maxCost: 100_000,
  graphiql: false,
});
const server = createServer(yoga);
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
const post = async (query: string) => {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { errors?: unknown[] };
  if (body.errors) throw new Error(`API errors: ${JSON.stringify(body.errors)}`);
  return body;
};

try {
  header('example query (HTTP, loopback)');
  const baselines = baselineStatements(ctx);
  const targets: Record<string, string> = {
    FlowsOfAnInstance: 'page of flows <= 50 ms',
    TopTalkers: 'one-day top-N <= 300 ms',
    RejectedTraffic: 'one-day top-N <= 300 ms',
  };
  for (const example of EXAMPLE_QUERIES) {
    const query = example.query(ctx);
    const statements = baselines[example.name];
    if (!statements) continue;
    const api = await measure(() => post(query));
    const base = await measure(() => runAll(baselineDb, statements));
    line(example.name, api, base, `ratio <= 1.2; ${targets[example.name] ?? ''}`);
  }

  header('connection analytics (DuckDB statements)');
  const files = (table: string) =>
    manifest.files.filter((f) => f.table === table && f.date === newest).map((f) => join(root, f.path));
  if (files('handshakes').length === 0)
    console.log('(no handshakes/edges tables in this warehouse: derived tables not built at ingest)');
  else {
    const filter = validateFlowFilter({ timeRange: { from: ctx.from, to: ctx.to } });
    for (const c of analyticsBenchCases(
      { flows: files('flows'), handshakes: files('handshakes'), edges: files('edges') },
      filter,
    )) {
      const warehouse = createWarehouseReader(root);
      const run = (q: SqlQuery) => () =>
        runQuery({ db: baselineDb, warehouse, cost: new CostMeter(), deadline: Date.now() + 600_000, log: quiet }, q);
      line(c.name.slice(0, 44), await measure(run(c.query)), await measure(run(c.baseline)), '<= 300 ms');
    }
  }
} finally {
  await new Promise((ok) => server.close(ok));
  apiDb.closeSync();
  baselineDb.closeSync();
}
