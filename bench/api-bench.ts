/**
 * `npm run bench:api [-- --records N --runs R --data DIR --only TEXT]` (default 10,000,000 records, 20 runs): every GraphiQL
 * example query (src/graphql/graphiql-tabs.ts) through HTTP to a real `flowql serve` handler on a loopback port, next
 * to the same question answered by hand-written DuckDB SQL on the same Parquet files in the same run, with p50/p95 of
 * wall time, p50 of process CPU time (server, client and DuckDB threads all live in this process, so CPU time is the
 * figure to trust on a shared machine) and the ratio of p50s; then the connection-analytics statements of
 * bench/analytics-bench-cases.ts next to their raw-SQL baselines; between them, the question shapes of
 * bench/question-shapes-bench-cases.ts (thresholds, per-record extremes, fan-out, rates, HAVING, scans, cost groups).
 *
 * API and baseline runs alternate (A, B, A, B, ...) so that load from other processes hits both alike.
 * The first line is the floor: `{ __typename }` through the same HTTP path next to DuckDB's `SELECT 1`.
 *
 * Data: generated once (src/generator, 2 days) and ingested (src/ingest) into .bench/api-<N>/, reused afterwards;
 * `--data DIR` points at another prepared directory (DIR/warehouse/_flowql/manifest.json), e.g. for development at a
 * reduced size. Use `--records 1000000` for a quick run. `--only TEXT` times only the cases whose name holds TEXT
 * (case-insensitive), e.g. `--only tag` for the inventory cases.
 * Targets (issue 4): ratio <= 1.2; a page of flows <= 50 ms; a one-day top-N <= 300 ms.
 * The server is the GraphQL handler `flowql serve` mounts (createApiYoga on a node http server, locked-down DuckDB).
 * Baselines run on their own DuckDB instance with default settings, reading the warehouse by glob with Hive
 * partitions, as a user scripting DuckDB by hand would; statements of one question run concurrently, as GraphQL
 * resolves root fields concurrently.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateFlowFilter } from '../src/domain/flow-filter.ts';
import { HIVE_TYPES_SQL } from '../src/domain/flow-schema.ts';
import { EXAMPLE_QUERIES, exampleContext } from '../src/graphql/graphiql-tabs.ts';
import { createApiYoga } from '../src/graphql/yoga.ts';
import { openApiDatabase } from '../src/store/duckdb.ts';
import type { Manifest } from '../src/store/layout.ts';
import { apiBenchWarehouse } from './api-warehouse.ts';
import { CostMeter } from '../src/store/query-cost.ts';
import { runQuery } from '../src/store/query-runner.ts';
import type { SqlQuery } from '../src/store/sql.ts';
import { createWarehouseReader } from '../src/store/warehouse-reader.ts';
import { analyticsBenchCases } from './analytics-bench-cases.ts';
import { exampleBaselines } from './example-baselines.ts';
import { measurePair as measurePairOf, type Figures } from './paired-timing.ts';
import { QUESTION_SHAPE_CASES } from './question-shapes-bench-cases.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '20' },
    data: { type: 'string' },
    only: { type: 'string' },
  },
});
const N = Number(values.records);
const RUNS = Math.max(3, Number(values.runs));
const only = values.only?.toLowerCase();
const chosen = (name: string): boolean => only === undefined || name.toLowerCase().includes(only);
const { source, root, readManifest, ensureData } = apiBenchWarehouse(N, values.data);

/** The generated estate's inventory, imported once (the tag cases read it), as of the data's first day. */
async function ensureInventory(manifest: Manifest): Promise<Manifest> {
  if ((manifest.references ?? []).some((r) => r.kind === 'inventory')) return manifest;
  const { importReference, readInventory } = await import('../src/ingest/reference-import.ts');
  const { createLocalWarehouseStorage } = await import('../src/ingest/local-warehouse-storage.ts');
  const dir = join(source, 'inventory');
  const files = ['describe-instances.json', 'describe-network-interfaces.json'].map((f) => join(dir, f));
  const first = manifest.files.map((f) => f.date).sort()[0]!;
  await importReference(await readInventory(files, new Date(`${first}T00:00:00Z`)), {
    storage: await createLocalWarehouseStorage(root),
  });
  console.log(`imported the estate's inventory from ${dir}`);
  return (await readManifest())!;
}

/** Times `subject` and `baseline` alternately, `RUNS` calls each after `warmups` calls of each (paired-timing.ts). */
const measurePair = (subject: () => Promise<unknown>, baseline: () => Promise<unknown>, warmups = 5) =>
  measurePairOf(subject, baseline, RUNS, warmups);

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
const line = (name: string, api: Figures, base: Figures, target = '') =>
  console.log(
    `${name.padEnd(40)} ${fmt(api.p50)} ${fmt(api.p95)} ${fmt(api.cpu)} ${fmt(base.p50)} ${fmt(base.p95)} ${fmt(base.cpu)} ${(api.p50 / base.p50).toFixed(2).padStart(6)} ${(api.cpu / base.cpu).toFixed(2).padStart(6)}  ${target}`,
  );
const header = (first: string) =>
  console.log(
    `\n${first.padEnd(40)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'CPU ms'.padStart(8)} ${'SQL p50'.padStart(8)} ${'SQL p95'.padStart(8)} ${'SQL CPU'.padStart(8)} ${'ratio'.padStart(6)} ${'CPU r.'.padStart(6)}  target`,
  );

const quiet = { info: () => {}, warn: () => {} };
const manifest = await ensureInventory(await ensureData());
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
  // The records for every statement, read by glob, as a user scripting DuckDB by hand would.
  const flowsGlob = `read_parquet('${root}/flows/*/*/*/*.parquet', hive_partitioning = true, hive_types = ${HIVE_TYPES_SQL})`;
  const baselines = exampleBaselines(ctx, { tableFor: () => 'flows', flows: () => flowsGlob });
  const targets: Record<string, string> = {
    FlowsOfAnInstance: 'page of flows <= 50 ms',
    TopTalkers: 'one-day top-N <= 300 ms',
    RejectedTraffic: 'one-day top-N <= 300 ms',
  };
  const [floorApi, floorSql] = await measurePair(
    () => post('{ __typename }'),
    () => runAll(baselineDb, [{ text: 'SELECT 1', params: [] }]),
    50, // the first requests run yoga and graphql-js unoptimised (JIT): ~15 ms each instead of ~4
  );
  line('floor: { __typename } vs SELECT 1', floorApi, floorSql, 'HTTP + yoga overhead');
  for (const example of EXAMPLE_QUERIES) {
    const query = example.query(ctx);
    const statements = baselines[example.name];
    if (!statements || !chosen(example.name)) continue;
    const [api, base] = await measurePair(
      () => post(query),
      () => runAll(baselineDb, statements),
    );
    line(example.name, api, base, `ratio <= 1.2; ${targets[example.name] ?? ''}`);
  }

  header('question shapes of issue 11 (HTTP, loopback)');
  const glob = (table: string) =>
    `read_parquet('${root}/${table}/*/*/*/*.parquet', hive_partitioning = true, hive_types = ${HIVE_TYPES_SQL})`;
  const tables = {
    flows: glob('flows'),
    handshakes: glob('handshakes'),
    edges: glob('edges'),
    // The live snapshot only: a glob would also read a replaced one still on disk during its grace period.
    inventory: `read_parquet([${(manifest.references ?? [])
      .filter((r) => r.kind === 'inventory')
      .map((r) => `'${join(root, r.path)}'`)
      .join(', ')}])`,
    ipRanges: ((r) => (r ? `read_parquet('${join(root, r.path)}')` : null))(
      (manifest.references ?? []).find((r) => r.kind === 'ip_ranges'),
    ),
  };
  for (const shape of QUESTION_SHAPE_CASES.filter((s) => chosen(s.name))) {
    const query = shape.query(ctx);
    const [api, base] = await measurePair(
      () => post(query),
      () => runAll(baselineDb, shape.baseline(ctx, tables)),
    );
    line(shape.name.slice(0, 40), api, base, 'ratio <= 1.2');
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
    ).filter((c) => chosen(c.name))) {
      const warehouse = createWarehouseReader(root);
      const run = (q: SqlQuery) => () =>
        runQuery({ db: baselineDb, warehouse, cost: new CostMeter(), deadline: Date.now() + 600_000, log: quiet }, q);
      const [api, base] = await measurePair(run(c.query), run(c.baseline));
      line(c.name.slice(0, 40), api, base, '<= 300 ms');
    }
  }
} finally {
  await new Promise((ok) => server.close(ok));
  apiDb.closeSync();
  baselineDb.closeSync();
}
