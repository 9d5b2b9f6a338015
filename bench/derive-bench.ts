/**
 * `npm run bench:derive [-- --records N --runs R --data DIR]` (default 10,000,000 records over 2 days, 3 runs): the
 * derivation of the newest day from scratch, every hour of it (src/analytics/derive-tables.ts: handshakes/, edges/
 * and flows_hourly/, the edges bytes-once and endpoint-resolved), next to a baseline
 * measured in the same run on the same flows files: the naive edge table (every record summed per address pair,
 * port, protocol and hour, written as Parquet the same way), i.e. what skipping pairing, direction and counting-once
 * would cost. Prints wall and process-CPU milliseconds (CPU is the figure to trust on a shared machine) and the ratio.
 *
 * Data: generated (src/generator, seed 7) and ingested without derivation into .bench/derive-<N>/warehouse once, reused
 * afterwards; `--data DIR` points at another prepared directory holding DIR/warehouse/_flowql/manifest.json (for
 * example .bench/api-<N> from bench:api). Use `--records 1000000` for a quick run.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { deriveTables } from '../src/analytics/derive-tables.ts';
import { wholePartitions } from '../src/analytics/derived-hours.ts';
import { HIVE_TYPES_SQL } from '../src/domain/flow-schema.ts';
import type { Manifest } from '../src/store/layout.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '3' },
    data: { type: 'string' },
  },
});
const N = Number(values.records);
const RUNS = Math.max(1, Number(values.runs));
const dir = values.data ? resolve(values.data) : join(process.cwd(), '.bench', `derive-${N}`);
const root = join(dir, 'warehouse');
const manifestPath = join(root, '_flowql', 'manifest.json');

async function ensureData(): Promise<Manifest> {
  if (existsSync(manifestPath)) {
    const m = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
    console.log(`reusing ${root} (${m.ingest.records} records, ${m.files.length} files)`);
    return m;
  }
  const { generateDataset } = await import('../src/generator/generate-dataset.ts');
  const { createLocalWarehouseStorage } = await import('../src/ingest/local-warehouse-storage.ts');
  const { runIngest } = await import('../src/ingest/ingest-run.ts');
  const source = join(dir, 'source');
  console.log(`generating ${N} records into ${source} ...`);
  await generateDataset({ outDir: source, records: N, days: 2, seed: 7 });
  console.log(`ingesting into ${root} (no derivation) ...`);
  await runIngest({ sources: [join(source, 'AWSLogs')], storage: await createLocalWarehouseStorage(root) });
  return JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
}

/** Wall and CPU milliseconds of one call. */
async function timed<T>(f: () => Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000, value };
}

const manifest = await ensureData();
const flows = manifest.files.filter((f) => f.table === 'flows');
const newest = flows.reduce((a, f) => (f.date > a ? f.date : a), '');
const touched = flows
  .filter((f) => f.date === newest)
  .map((f) => ({ accountId: f.accountId, region: f.region, date: f.date }));
const targets = touched;
const records = flows
  .filter((f) => targets.some((t) => t.accountId === f.accountId && t.region === f.region && t.date === f.date))
  .reduce((a, f) => a + f.rows, 0);
console.log(`derive of ${newest}: ${targets.length} partitions derived whole, ${records} records in them`);

const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await db.connect();
await conn.run("SET TimeZone = 'UTC'");

async function derive(): Promise<number> {
  const staging = await mkdtemp(join(tmpdir(), 'flowql-bench-derive-'));
  try {
    const r = await deriveTables({
      db,
      root,
      files: manifest.files.filter((f) => f.table === 'flows'),
      changes: wholePartitions(touched),
      stagingDir: staging,
    });
    return r.files.reduce((a, f) => a + f.rows, 0);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The baseline: per target partition, the same window of flows files, every record summed per hour (no pairing). */
async function naive(): Promise<number> {
  const staging = await mkdtemp(join(tmpdir(), 'flowql-bench-naive-'));
  let rows = 0;
  try {
    for (const [i, p] of targets.entries()) {
      const day = Date.parse(`${p.date}T00:00:00Z`);
      const near = new Set([0].map((d) => new Date(day + d * 86_400_000).toISOString().slice(0, 10)));
      const files = flows
        .filter((f) => f.accountId === p.accountId && f.region === p.region && near.has(f.date))
        .map((f) => `'${join(root, f.path)}'`);
      const r = await conn.runAndReadAll(`COPY (
  SELECT srcaddr, dstaddr, dstport, protocol, date_trunc('hour', start_time) AS bucket, sum(bytes) AS bytes,
         sum(packets) AS packets, count(*) AS records, count(*) FILTER (action = 'REJECT') AS rejected
  FROM read_parquet([${files.join(', ')}], hive_partitioning = true, hive_types = ${HIVE_TYPES_SQL})
  WHERE CAST(start_time AS DATE) = DATE '${p.date}' AND srcaddr IS NOT NULL
  GROUP BY ALL) TO '${join(staging, `naive-${i}.parquet`)}' (FORMAT parquet, COMPRESSION zstd)`);
      rows += Number(r.getRows()[0]?.[0] ?? 0);
    }
    return rows;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

const fmt = (v: number) => v.toFixed(0).padStart(8);
console.log(
  `${'run'.padEnd(5)} ${'derive wall'.padStart(12)} ${'cpu'.padStart(8)}   ${'naive wall'.padStart(11)} ${'cpu'.padStart(8)}   ratio (cpu)`,
);
const ratios: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  const d = await timed(derive);
  const b = await timed(naive);
  ratios.push(d.cpu / b.cpu);
  console.log(
    `${String(run).padEnd(5)} ${fmt(d.wall)} ms ${fmt(d.cpu)}   ${fmt(b.wall)} ms ${fmt(b.cpu)}   ${(d.cpu / b.cpu).toFixed(1)}x   (${d.value} derived rows, ${b.value} naive rows)`,
  );
}
ratios.sort((a, b) => a - b);
console.log(`median ratio (cpu): ${ratios[Math.floor(ratios.length / 2)]!.toFixed(1)}x`);
conn.closeSync();
db.closeSync();
