/**
 * `npm run bench:tiers -- --data DIR [--runs R]`: a summary and a top-N over the longest window of whole days in the
 * warehouse at DIR (ingested, then `flowql compact`ed so its closed days have flows_daily files), answered by the
 * readers (src/questions/aggregate-reader.ts) three ways: as the planner picks (flows_daily), with the daily files
 * hidden (flows_hourly), and with every rollup hidden (the records); each next to hand-written DuckDB SQL over the same
 * tier's files. p50 wall and process CPU time per way; runs alternate so load from other processes hits all alike.
 *
 * Example: `node bin/flowql.js generate --out /tmp/g --records 1550000 --days 31`, `flowql ingest /tmp/g/AWSLogs
 * --data /tmp/w`, `flowql compact --data /tmp/w`, then `npm run bench:tiers -- --data /tmp/w`.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { validateFlowFilter } from '../src/domain/flow-filter.ts';
import { HIVE_TYPES_SQL } from '../src/domain/flow-schema.ts';
import { readFlowSummary, readFlowTopN } from '../src/questions/aggregate-reader.ts';
import { openApiDatabase } from '../src/store/duckdb.ts';
import type { Manifest, TableName } from '../src/store/layout.ts';
import { CostMeter } from '../src/store/query-cost.ts';
import type { QueryContext } from '../src/store/query-runner.ts';
import { createWarehouseReader, type WarehouseReader } from '../src/store/warehouse-reader.ts';

const { values } = parseArgs({ options: { data: { type: 'string' }, runs: { type: 'string', default: '9' } } });
if (!values.data) throw new Error('--data DIR: a warehouse ingested and compacted');
const root = resolve(values.data);
const RUNS = Math.max(3, Number(values.runs));
const manifest = JSON.parse(await readFile(join(root, '_flowql', 'manifest.json'), 'utf8')) as Manifest;
const dates = [...new Set(manifest.files.filter((f) => f.table === 'flows_daily').map((f) => f.date))].sort();
if (dates.length === 0) throw new Error(`${root} has no flows_daily files: run flowql compact first`);
const from = new Date(`${dates[0]}T00:00:00Z`);
const to = new Date(Date.parse(`${dates[dates.length - 1]}T00:00:00Z`) + 86_400_000);
const filter = validateFlowFilter(
  { timeRange: { from: from.toISOString(), to: to.toISOString() } },
  {
    maxRangeMs: Number.MAX_SAFE_INTEGER,
  },
);

/** The warehouse with some tables hidden from the planner (as if never written). */
function without(reader: WarehouseReader, hidden: readonly TableName[]): WarehouseReader {
  return {
    root: reader.root,
    manifest: async () => {
      const m = await reader.manifest();
      return { ...m, files: m.files.filter((f) => !hidden.includes(f.table)) };
    },
    absolutePath: (f) => reader.absolutePath(f),
    latestDataEnd: (t) => reader.latestDataEnd(t),
    prepare: (f) => reader.prepare(f),
  };
}

const db = await openApiDatabase({ warehouseRoot: root, threads: 2 });
const reader = createWarehouseReader(root);
const views: Record<'flows_daily' | 'flows_hourly' | 'flows', WarehouseReader> = {
  flows_daily: reader,
  flows_hourly: without(reader, ['flows_daily']),
  flows: without(reader, ['flows_daily', 'flows_hourly']),
};
const log = { info: () => {}, warn: () => {} };
const context = (warehouse: WarehouseReader): QueryContext => ({
  db,
  warehouse,
  cost: new CostMeter(),
  deadline: Date.now() + 600_000,
  log,
});

// Hand-written SQL: what a user scripting DuckDB would write over one tier's files (same files as the readers).
const hand = await (await DuckDBInstance.create(':memory:')).connect();
const filesOf = (table: TableName) =>
  `[${manifest.files
    .filter((f) => f.table === table && f.date >= dates[0]! && f.date <= dates[dates.length - 1]!)
    .map((f) => `'${join(root, f.path)}'`)
    .join(', ')}]`;
const src = (table: TableName) =>
  `read_parquet(${filesOf(table)}, hive_partitioning = true, hive_types = ${HIVE_TYPES_SQL})`;
const window = `start_time >= '${from.toISOString()}'::TIMESTAMP AND start_time < '${to.toISOString()}'::TIMESTAMP`;
const handSql = {
  summary: {
    flows_daily: `SELECT sum(records), sum(bytes), sum(packets) FROM ${src('flows_daily')} WHERE ${window}`,
    flows_hourly: `SELECT sum(records), sum(bytes), sum(packets) FROM ${src('flows_hourly')} WHERE ${window}`,
    flows: `SELECT count(*), sum(bytes), sum(packets) FROM ${src('flows')} WHERE ${window}`,
  },
  topn: {
    flows_daily: `SELECT srcaddr, dstaddr, sum(bytes) b FROM ${src('flows_daily')} WHERE ${window} AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL GROUP BY ALL ORDER BY b DESC LIMIT 10`,
    flows_hourly: `SELECT srcaddr, dstaddr, sum(bytes) b FROM ${src('flows_hourly')} WHERE ${window} AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL GROUP BY ALL ORDER BY b DESC LIMIT 10`,
    flows: `SELECT srcaddr, dstaddr, sum(bytes) b FROM ${src('flows')} WHERE ${window} AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL GROUP BY ALL ORDER BY b DESC LIMIT 10`,
  },
} as const;

const questions = {
  summary: (ctx: QueryContext) => readFlowSummary(ctx, filter, ['RECORDS', 'BYTES', 'PACKETS']),
  topn: (ctx: QueryContext) =>
    readFlowTopN(ctx, filter, { by: 'ADDRESS_PAIR', metric: 'BYTES', values: ['BYTES'], limit: 10 }),
};

async function timed(run: () => Promise<unknown>): Promise<[number, number]> {
  const [t, c] = [performance.now(), process.cpuUsage()];
  await run();
  const cpu = process.cpuUsage(c);
  return [performance.now() - t, (cpu.user + cpu.system) / 1000];
}
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`${root}: ${dates.length} days (${dates[0]} .. ${dates[dates.length - 1]}), ${RUNS} runs each`);
for (const [name, ask] of Object.entries(questions) as [
  keyof typeof questions,
  (c: QueryContext) => Promise<unknown>,
][]) {
  for (const tier of ['flows_daily', 'flows_hourly', 'flows'] as const) {
    const api: [number, number][] = [];
    const sqlRuns: [number, number][] = [];
    let cost = new CostMeter().snapshot();
    for (let i = 0; i < RUNS; i++) {
      const ctx = context(views[tier]);
      api.push(await timed(() => ask(ctx)));
      cost = ctx.cost.snapshot();
      sqlRuns.push(await timed(() => hand.runAndReadAll(handSql[name][tier])));
    }
    const [aw, ac, sw, sc] = [
      p50(api.map((r) => r[0])),
      p50(api.map((r) => r[1])),
      p50(sqlRuns.map((r) => r[0])),
      p50(sqlRuns.map((r) => r[1])),
    ];
    console.log(
      `${name.padEnd(8)} ${tier.padEnd(13)} rows ${String(cost.rowsScanned).padStart(9)} tiers ${cost.tiers.join('+').padEnd(13)} ` +
        `api p50 ${aw.toFixed(0).padStart(5)} ms (cpu ${ac.toFixed(0).padStart(5)} ms)  sql p50 ${sw.toFixed(0).padStart(5)} ms (cpu ${sc.toFixed(0).padStart(5)} ms)  ratio ${(aw / sw).toFixed(2)}`,
    );
  }
}
hand.closeSync();
db.closeSync();
