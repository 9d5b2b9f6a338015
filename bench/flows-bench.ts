/**
 * `npm run bench:flows [-- --records N --runs R]` (default 10,000,000 records, 15 runs): the `flows` page and the
 * address filters, each next to a baseline measured in the same run on the same files, with the ratio. Subject and
 * baseline runs alternate; each line prints wall p50/p95 and the p50 of process CPU time (DuckDB's threads included;
 * the figure to trust on a shared machine). Use `--records 1000000` while developing.
 *
 * - flows page: `flows(first: 100)` for one day and a CIDR, through GraphQL (yoga.fetch, no socket) vs the same
 *   question as hand-written DuckDB SQL on the same pruned files (SELECT * ... ORDER BY start_time, flow_id LIMIT 100).
 * - flows.page statement on the API instance: the current one (one top-N over the 9 selected columns) vs the former
 *   two-phase design (keyset top-N on keys, then every column of the day joined back by key), and vs the same
 *   statement reading every column (what selecting only the asked columns saves).
 * - CIDR strategies over srcaddr (all partitions): flowql's text-prefix + octet range (IPv4 /20) and prefix + hex range
 *   (IPv6 /48) vs converting every address to a number (the obvious approach), to justify the design.
 * Data: generated once into .bench/flows-<N>/ (4 days x 2 accounts x 2 regions; 10% IPv6), reused by later runs.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { STORED_COLUMNS } from '../src/domain/flow-schema.ts';
import { createApiYoga } from '../src/graphql/yoga.ts';
import { openApiDatabase } from '../src/store/duckdb.ts';
import { EMPTY_MANIFEST, type Manifest, type ManifestFile } from '../src/store/layout.ts';
import { createWarehouseReader } from '../src/store/warehouse-reader.ts';
import { validateFlowFilter } from '../src/domain/flow-filter.ts';
import { CostMeter } from '../src/store/query-cost.ts';
import { flowFilterSql, flowWindowSql, prunePartitions } from '../src/store/queries/flow-filter-query.ts';
import { flowsPageQuery } from '../src/store/queries/flows-page-query.ts';
import { parquetSourceSql } from '../src/store/queries/parquet-source-query.ts';
import { runQuery } from '../src/store/query-runner.ts';
import { build, sql } from '../src/store/sql.ts';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '10000000' }, runs: { type: 'string', default: '15' } },
});
const N = Number(values.records);
const RUNS = Math.max(3, Number(values.runs));
const root = join(process.cwd(), '.bench', `flows-${N}`);

async function generate(): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const generated: Record<string, string> = {
    version: '5',
    interface_id: "printf('eni-%017x', i % 5000)",
    srcaddr:
      "CASE WHEN i % 10 = 0 THEN printf('2600:1f18:%x:%x::%x', (i // 7) % 65536, i % 4096, i % 65535 + 1) ELSE printf('10.%d.%d.%d', (i // 65536) % 256, (i // 256) % 256, i % 256) END",
    dstaddr: "printf('10.200.%d.%d', (i // 256) % 256, i % 256)",
    srcport: '(i * 7919) % 65536',
    dstport: '(CASE i % 4 WHEN 0 THEN 443 WHEN 1 THEN 22 WHEN 2 THEN 53 ELSE 8080 END)',
    protocol: 'CASE WHEN i % 4 = 2 THEN 17 ELSE 6 END',
    packets: '(i % 100 + 1)::BIGINT',
    bytes: '((i % 100 + 1) * 1500)::BIGINT',
    start_time: `TIMESTAMP '2024-05-01' + to_seconds((i * ${4 * 86400}) // ${N})`,
    end_time: `TIMESTAMP '2024-05-01' + to_seconds((i * ${4 * 86400}) // ${N} + 30)`,
    action: "CASE WHEN i % 13 = 0 THEN 'REJECT' ELSE 'ACCEPT' END",
    log_status: "'OK'",
    tcp_flags: 'CASE WHEN i % 4 = 2 THEN NULL ELSE (i % 4) * 9 END',
    flow_id: 'i::BIGINT',
    source_id: '1',
    source_line: '(i + 2)::INTEGER',
  };
  const select = STORED_COLUMNS.map((col) => {
    const name = col.column === 'end' ? '"end"' : col.column;
    return `CAST(${generated[col.column] ?? 'NULL'} AS ${col.type}) AS ${name}`;
  });
  const flows = join(root, 'flows');
  await mkdir(flows, { recursive: true });
  console.log(`generating ${N.toLocaleString()} records into ${root} ...`);
  await c.run(`COPY (
      SELECT ${select.join(', ')},
             CASE WHEN i % 2 = 0 THEN '111111111111' ELSE '222222222222' END AS account_id,
             CASE WHEN i % 3 = 0 THEN 'eu-west-1' ELSE 'us-east-1' END AS region,
             CAST(TIMESTAMP '2024-05-01' + to_seconds((i * ${4 * 86400}) // ${N}) AS DATE) AS date
      FROM range(${N}) r(i) ORDER BY date, start_time, flow_id)
    TO '${flows}' (FORMAT parquet, PARTITION_BY (account_id, region, date), COMPRESSION zstd)`);
  c.closeSync();
  const files: ManifestFile[] = [];
  for (const a of await readdir(flows)) {
    for (const r of await readdir(join(flows, a))) {
      for (const d of await readdir(join(flows, a, r))) {
        for (const f of await readdir(join(flows, a, r, d))) {
          const path = `flows/${a}/${r}/${d}/${f}`;
          files.push({
            path,
            table: 'flows',
            accountId: a.split('=')[1] ?? '',
            region: r.split('=')[1] ?? '',
            date: d.split('=')[1] ?? '',
            rows: 0,
            bytes: (await stat(join(root, path))).size,
          });
        }
      }
    }
  }
  const manifest: Manifest = { ...EMPTY_MANIFEST, generation: 1, updatedAt: new Date().toISOString(), files };
  await mkdir(join(root, '_flowql'), { recursive: true });
  await writeFile(join(root, '_flowql', 'manifest.json'), JSON.stringify(manifest));
}

/** Wall p50/p95 and CPU p50, in ms. */
interface Figures {
  readonly p50: number;
  readonly p95: number;
  readonly cpu: number;
}

/** Times `subject` and `baseline` alternately, RUNS calls each after one warm-up of each (file metadata, caches). */
async function timedPair(
  subject: () => Promise<unknown>,
  baseline: () => Promise<unknown>,
): Promise<[Figures, Figures]> {
  await subject();
  await baseline();
  const wall: [number[], number[]] = [[], []];
  const cpu: [number[], number[]] = [[], []];
  for (let i = 0; i < RUNS; i++) {
    for (const [k, run] of [subject, baseline].entries()) {
      const c0 = process.cpuUsage();
      const t = performance.now();
      await run();
      wall[k]!.push(performance.now() - t);
      const c = process.cpuUsage(c0);
      cpu[k]!.push((c.user + c.system) / 1000);
    }
  }
  const at = (ms: number[], q: number) =>
    [...ms].sort((a, b) => a - b)[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? NaN;
  const figures = (k: 0 | 1): Figures => ({ p50: at(wall[k], 0.5), p95: at(wall[k], 0.95), cpu: at(cpu[k], 0.5) });
  return [figures(0), figures(1)];
}

function report(name: string, [subject, baseline]: [Figures, Figures], baseName: string) {
  const f = (x: number) => x.toFixed(1).padStart(7);
  console.log(
    `${name.padEnd(44)} p50 ${f(subject.p50)} p95 ${f(subject.p95)} CPU ${f(subject.cpu)} ms | ${baseName.padEnd(26)} p50 ${f(baseline.p50)} p95 ${f(baseline.p95)} CPU ${f(baseline.cpu)} ms | ratio p50 ${(subject.p50 / baseline.p50).toFixed(2)} CPU ${(subject.cpu / baseline.cpu).toFixed(2)}`,
  );
}

if (!existsSync(join(root, '_flowql', 'manifest.json'))) await generate();
const warehouse = createWarehouseReader(root);
const db = await openApiDatabase({ warehouseRoot: root });
const log = { info: () => {}, warn: () => {}, error: () => {} };
const yoga = createApiYoga({
  db,
  warehouse,
  log,
  limits: { maxPageSize: 1000, defaultPageSize: 100, maxRangeMs: 31 * 86_400_000 },
  queryTimeoutMs: 60_000,
  maxDepth: 12,
  maxCost: 1_000_000,
  graphiql: false,
});
const raw = await db.connect();
const manifest = await warehouse.manifest();
const day = manifest.files
  .filter((f) => f.date === '2024-05-02')
  .map((f) => `'${warehouse.absolutePath(f)}'`)
  .join(', ');
const all = manifest.files.map((f) => `'${warehouse.absolutePath(f)}'`).join(', ');
const hive = "hive_partitioning = true, hive_types = {'account_id': VARCHAR, 'region': VARCHAR, 'date': DATE}";
console.log(`${N.toLocaleString()} records, ${manifest.files.length} files; ${RUNS} runs each after a warm-up\n`);

const page = async (filter: string) => {
  const res = await yoga.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `{ flows(filter: ${filter}, first: 100) { edges { cursor node { flowId start srcAddr dstAddr srcPort dstPort protocol bytes packets action } } pageInfo { hasNextPage endCursor } } }`,
    }),
  });
  const body = (await res.json()) as { errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
};
const rawRun = (text: string) => async () => (await raw.runAndReadAll(text)).getRowObjectsJS();

report(
  'flows page, one day',
  await timedPair(
    () => page('{ timeRange: { from: "2024-05-02", to: "2024-05-03" } }'),
    rawRun(
      `SELECT flow_id, start_time, srcaddr, dstaddr, srcport, dstport, protocol, bytes, packets, action FROM read_parquet([${day}], ${hive}) WHERE start_time >= '2024-05-02' AND start_time < '2024-05-03' ORDER BY start_time, flow_id LIMIT 101`,
    ),
  ),
  'hand SQL, same files+columns',
);
report(
  'flows page, one day, srcAddr 10.1.16.0/20',
  await timedPair(
    () => page('{ timeRange: { from: "2024-05-02", to: "2024-05-03" }, srcAddr: ["10.1.16.0/20"] }'),
    rawRun(
      `SELECT flow_id, start_time, srcaddr, dstaddr, srcport, dstport, protocol, bytes, packets, action FROM read_parquet([${day}], ${hive}) WHERE start_time >= '2024-05-02' AND start_time < '2024-05-03' AND starts_with(srcaddr, '10.1.') AND TRY_CAST(split_part(srcaddr, '.', 3) AS INTEGER) BETWEEN 16 AND 31 ORDER BY start_time, flow_id LIMIT 101`,
    ),
  ),
  'hand SQL, same files+columns',
);

// The statement alone, on the API instance: the current flows.page vs the former two-phase design it replaced.
const pageFilter = validateFlowFilter({ timeRange: { from: '2024-05-02', to: '2024-05-03' } });
const dayFiles = prunePartitions(manifest.files, pageFilter).map((f) => warehouse.absolutePath(f));
const pageColumns = [
  'start_time',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'bytes',
  'packets',
  'action',
];
const context = () => ({ db, warehouse, cost: new CostMeter(), deadline: Date.now() + 60_000, log });
const current = flowsPageQuery({
  files: dayFiles,
  where: flowFilterSql(pageFilter),
  order: 'START_TIME_ASC',
  after: null,
  limit: 100,
  columns: pageColumns,
});
const src = parquetSourceSql(dayFiles);
const twoPhase = build(
  'flows.page.two_phase',
  sql`WITH page_keys AS (
  SELECT start_time AS key_start, flow_id AS key_flow_id FROM ${src}
  WHERE ${flowFilterSql(pageFilter)} ORDER BY start_time, flow_id LIMIT ${101}
)
SELECT *, epoch_us(start_time) AS cursor_start_us
FROM ${src} JOIN page_keys ON flow_id = key_flow_id AND start_time = key_start
WHERE ${flowWindowSql(pageFilter)} ORDER BY start_time, flow_id`,
);
report(
  'flows.page statement, one day, 100 rows',
  await timedPair(
    () => runQuery(context(), current),
    () => runQuery(context(), twoPhase),
  ),
  'former two-phase key join',
);
const everyColumn = flowsPageQuery({
  files: dayFiles,
  where: flowFilterSql(pageFilter),
  order: 'START_TIME_ASC',
  after: null,
  limit: 100,
});
report(
  'flows.page statement, one day, 100 rows',
  await timedPair(
    () => runQuery(context(), current),
    () => runQuery(context(), everyColumn),
  ),
  'same, every column',
);

const v4num =
  "(TRY_CAST(split_part(srcaddr,'.',1) AS BIGINT) * 16777216 + TRY_CAST(split_part(srcaddr,'.',2) AS BIGINT) * 65536 + TRY_CAST(split_part(srcaddr,'.',3) AS BIGINT) * 256 + TRY_CAST(split_part(srcaddr,'.',4) AS BIGINT))";
report(
  'count srcaddr in 10.1.16.0/20 (prefix+octet)',
  await timedPair(
    rawRun(
      `SELECT count(*) FROM read_parquet([${all}], ${hive}) WHERE starts_with(srcaddr, '10.1.') AND TRY_CAST(split_part(srcaddr, '.', 3) AS INTEGER) BETWEEN 16 AND 31`,
    ),
    rawRun(`SELECT count(*) FROM read_parquet([${all}], ${hive}) WHERE ${v4num} BETWEEN 167841792 AND 167845887`),
  ),
  'full numeric conversion',
);
const hex =
  "lower(array_to_string(list_transform(string_split(trim(replace(srcaddr, '::', ':' || repeat('0:', 8 - len(list_filter(string_split(srcaddr, ':'), lambda g: g <> '')))), ':'), ':'), lambda g: lpad(g, 4, '0')), ''))";
report(
  'count srcaddr in 2600:1f18:5::/48 (prefix+hex)',
  await timedPair(
    rawRun(
      `SELECT count(*) FROM read_parquet([${all}], ${hive}) WHERE contains(srcaddr, ':') AND starts_with(srcaddr, '2600:1f18:') AND ${hex} BETWEEN '26001f18000500000000000000000000' AND '26001f180005ffffffffffffffffffff'`,
    ),
    rawRun(
      `SELECT count(*) FROM read_parquet([${all}], ${hive}) WHERE contains(srcaddr, ':') AND ${hex} BETWEEN '26001f18000500000000000000000000' AND '26001f180005ffffffffffffffffffff'`,
    ),
  ),
  'hex of every IPv6 address',
);
raw.closeSync();
db.closeSync();
