/**
 * `npm run bench:sql [-- --records N --runs R --clients C --seconds S --data DIR]` (default 10,000,000 records, 10
 * runs, 50 clients for 60 s): the GraphiQL example questions as SQL (the ```sql blocks over schema flowql in
 * docs/bi.md) through the PostgreSQL wire protocol (node-postgres against `flowql serve --pg-port` in this process)
 * next to the same SQL run directly on a DuckDB instance whose `flowql` views read the same files, with p50/p95 wall
 * time, p50 process CPU time and the ratio of p50s (target: at most 1.1); then C concurrent connections asking the
 * questions round robin for S seconds, with answers, errors and latency; peak RSS at the end.
 *
 * Runs alternate (wire, direct, wire, direct, ...) so load from other processes hits both alike. Data: generated and
 * ingested once into .bench/api-<N>/ (the same directory as bench:api), reused afterwards; `--data DIR` points at
 * another prepared directory (DIR/warehouse/_flowql/manifest.json).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { pino } from 'pino';
import { parseConfig } from '../src/config.ts';
import { HIVE_TYPES_SQL, ORG_HIVE_TYPES_SQL } from '../src/domain/flow-schema.ts';
import { startApiServer } from '../src/main.ts';
import { ensureDemoReferences } from '../src/demo/ensure-demo-warehouse.ts';
import { REFERENCE_KINDS } from '../src/domain/reference-tables.ts';
import { isOrgTable, TABLES } from '../src/store/layout.ts';
import { apiBenchWarehouse } from './api-warehouse.ts';
import { measurePair as measurePairOf, quantile } from './paired-timing.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '60' },
    data: { type: 'string' },
  },
});
const N = Number(values.records);
const RUNS = Math.max(3, Number(values.runs));
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const { root, readManifest, ensureData } = apiBenchWarehouse(N, values.data);

/** The example questions: docs/bi.md's sql blocks over schema flowql, named by their first output column. */
async function questions(): Promise<{ name: string; text: string }[]> {
  const doc = await readFile(join(import.meta.dirname, '../docs/bi.md'), 'utf8');
  return [...doc.matchAll(/^```sql\n([\s\S]*?)^```/gm)]
    .map((m) => m[1]!.trim())
    .filter((q) => /\bflowql\.\w/.test(q))
    .map((text) => ({ name: /FROM flowql\.(\w+)/.exec(text)![1]! + ':' + /SELECT\s+(\w+)/.exec(text)![1]!, text }));
}

/** Wall p50/p95 and CPU p50 (ms) of `subject` and `baseline`, alternating, after 2 warm-ups each. */
const measurePair = (subject: () => Promise<unknown>, baseline: () => Promise<unknown>) =>
  measurePairOf(subject, baseline, RUNS, 2);

await ensureData();
// The reference views' questions need the shipped ip ranges and networks (the demo's), where the warehouse has none.
await ensureDemoReferences(root, { info: (o, msg) => console.log(msg, JSON.stringify(o)) });
const manifest = (await readManifest())!;
const asked = await questions();
const scratch = await mkdtemp(join(tmpdir(), 'flowql-sql-bench-'));
const config = parseConfig(
  {},
  {
    dataDir: root,
    port: 0,
    pgPort: 0,
    graphiql: false,
    logLevel: 'silent',
    exportDir: scratch,
    queryTimeoutMs: 120_000,
  },
);
const server = await startApiServer(config, pino({ level: 'silent' }));
const connect = async () => {
  const c = new pg.Client({ host: '127.0.0.1', port: server.pg!.port, user: 'bench', database: 'flowql' });
  await c.connect();
  return c;
};

// The direct side: the same views over the same files, on a DuckDB instance of its own with default settings.
const direct = await (await DuckDBInstance.create(':memory:')).connect();
await direct.run('CREATE SCHEMA flowql');
for (const view of TABLES) {
  const files = manifest.files.filter((f) => f.table === view).map((f) => `'${join(root, f.path)}'`);
  if (files.length === 0) continue;
  await direct.run(
    `CREATE VIEW flowql.${view} AS SELECT * FROM read_parquet([${files.join(', ')}], hive_partitioning = true, hive_types = ${isOrgTable(view) ? ORG_HIVE_TYPES_SQL : HIVE_TYPES_SQL}, union_by_name = true)`,
  );
}
// The reference tables as docs/bi.md describes their views (the bench's key reads every account's inventory).
for (const kind of REFERENCE_KINDS) {
  const files = (manifest.references ?? []).filter((r) => r.kind === kind).map((r) => `'${join(root, r.path)}'`);
  if (files.length === 0) continue;
  const source = `read_parquet([${files.join(', ')}], union_by_name = true)`;
  await direct.run(
    kind === 'inventory'
      ? `CREATE VIEW flowql.inventory AS SELECT * EXCLUDE (valid_from), valid_from AS as_of,
           CASE WHEN row_number() OVER w > 1 THEN valid_from END AS valid_from, lead(valid_from) OVER w AS valid_to
         FROM ${source} WINDOW w AS (PARTITION BY resource_id ORDER BY valid_from)`
      : `CREATE VIEW flowql.${kind} AS SELECT * FROM ${source}`,
  );
}

const client = await connect();
const fmt = (x: number) => x.toFixed(1).padStart(8);
console.log(`\n${N} records, ${RUNS} runs each; ms (wall p50, p95; process CPU p50)`);
console.log(
  `${'question'.padEnd(24)} ${'wire p50'.padStart(8)} ${'p95'.padStart(8)} ${'cpu'.padStart(8)}   ${'direct'.padStart(8)} ${'p95'.padStart(8)} ${'cpu'.padStart(8)}   ratio`,
);
let worst = 0;
for (const q of asked) {
  const [wire, duck] = await measurePair(
    () => client.query(q.text),
    () => direct.runAndReadAll(q.text),
  );
  const ratio = wire!.p50 / duck!.p50;
  worst = Math.max(worst, ratio);
  console.log(
    `${q.name.padEnd(24)} ${fmt(wire!.p50)} ${fmt(wire!.p95)} ${fmt(wire!.cpu)}   ${fmt(duck!.p50)} ${fmt(duck!.p95)} ${fmt(duck!.cpu)}   ${ratio.toFixed(2)}`,
  );
}
console.log(`worst ratio of p50s: ${worst.toFixed(2)} (target <= 1.1)`);
await client.end();

console.log(`\n${CLIENTS} connections for ${SECONDS} s, the questions round robin ...`);
const clients = await Promise.all(Array.from({ length: CLIENTS }, connect));
const stopAt = Date.now() + SECONDS * 1000;
let answers = 0;
const errors = new Map<string, number>();
const latencies: number[] = [];
const c0 = process.cpuUsage();
await Promise.all(
  clients.map(async (c, i) => {
    for (let k = i; Date.now() < stopAt; k++) {
      const t = performance.now();
      try {
        await c.query(asked[k % asked.length]!.text);
        answers++;
        latencies.push(performance.now() - t);
      } catch (err) {
        const key = (err as Error).message.slice(0, 120);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  }),
);
const cpu = process.cpuUsage(c0);
console.log(
  `answers ${answers} (${(answers / SECONDS).toFixed(1)}/s), errors ${[...errors.values()].reduce((a, b) => a + b, 0)}, latency p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p95 ${quantile(latencies, 0.95).toFixed(0)} ms, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`,
);
for (const [message, n] of errors) console.log(`  ${n} x ${message}`);
await Promise.all(clients.map((c) => c.end()));
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
direct.closeSync();
await server.close();
await rm(scratch, { recursive: true, force: true });
