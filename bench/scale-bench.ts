/**
 * `npm run bench:scale [-- --records N --days D --object-records R --dir DIR --runs R --prepare-only --data WAREHOUSE]`
 * (default 100,000,000 records over 10 days): issue 14's scale benchmark.
 *
 * 1. Data: N v5 records of an organisation (3 accounts, 3 regions, 6 flow logs, every one v5 text in AWS's default
 *    key layout: the generator's `accounts-v5` estate) re-cut into AWS-shaped gzip objects of R records
 *    (bench/aws-shaped-objects.ts, as bench:ingest feeds). Cached in DIR/shaped: a rerun skips generation.
 * 2. Load, as a user would: `flowql ingest DIR/shaped/objects` (derives the connection tables and flows_hourly),
 *    `flowql compact` (one file per partition, and flows_daily), `flowql inventory import` of the estate. Each under
 *    /usr/bin/time: wall and CPU seconds, peak RSS; then files, rows and bytes per table. Cached in DIR/ingest.json
 *    (with the warehouse in DIR/warehouse): a rerun prints the figures measured when the warehouse was built.
 *    `--prepare-only` stops here.
 * 3. Questions: every GraphiQL example (src/graphql/graphiql-tabs.ts) over the newest day, every dataset
 *    (`/datasets/<name>.csv`) over the same day, and a top-N and an hourly series over a 31-day window ending with the
 *    data (the data has D days, so the window holds all of them), asked of a real `flowql serve` child on a loopback
 *    port. Cold: the server runs with `--result-cache-mb 0`, so every request runs its statements (files, metadata and
 *    the OS page cache are warm after the first; the very first request of each is shown apart as `1st`); warm: a
 *    second server with the default result cache, the same request repeated. Next to each, hand-written DuckDB SQL
 *    over the same files (bench/scale-bench-cases.ts) reading the tier flowql read (`extensions.cost.tiers`, or the
 *    `x-flowql-cost` header of a download); runs alternate (API, SQL, API, ...). Figures: p50 wall ms, p50 CPU ms (the
 *    server's, from /proc; the SQL's, this process's), the ratio of p50s, and the server's peak RSS.
 *
 * `--data WAREHOUSE` skips 1 and 2 and asks the questions of a warehouse prepared otherwise (e.g. bench:api's, after
 * `flowql compact`); its load figures are not known, so only its tables are listed.
 *
 * Targets (issue 14): every example <= 1 s cold; the 31-day top-N and series <= 1 s; ratio <= 1.2 where the SQL reads
 * the same tier.
 * Develop with `--records 2000000 --days 3 --dir /tmp/scale-2m`.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { HIVE_TYPES_SQL, ORG_HIVE_TYPES_SQL } from '../src/domain/flow-schema.ts';
import { GENERATE_DEFAULTS } from '../src/generator/generate-dataset.ts';
import { EXAMPLE_QUERIES, exampleContext, type ExampleContext } from '../src/graphql/graphiql-tabs.ts';
import { isOrgTable, type Manifest, type TableName } from '../src/store/layout.ts';
import { awsShapedDataset, shapedInventoryDir } from './aws-shaped-objects.ts';
import {
  datasetBaselines,
  exampleBaselines,
  longWindowQuestions,
  type BaselineSources,
  type BaselineStatement,
} from './example-baselines.ts';
import { measurePair, type Figures } from './paired-timing.ts';
import { startServeChild } from './serve-child.ts';
import { measureNode, type Measured } from './timed-child.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000000' },
    days: { type: 'string', default: '10' },
    'object-records': { type: 'string', default: '3859' },
    dir: { type: 'string' },
    runs: { type: 'string', default: '7' },
    'prepare-only': { type: 'boolean', default: false },
    data: { type: 'string' },
  },
});
const positive = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}: expected a positive whole number, got '${text}'`);
  return n;
};
const N = positive('records', values.records);
const DAYS = positive('days', values.days);
const OBJECT_RECORDS = positive('object-records', values['object-records']);
const RUNS = Math.max(3, positive('runs', values.runs));
const DIR = resolve(values.dir ?? join('.bench', `scale-${N}r-${DAYS}d`));
const WAREHOUSE = values.data ? resolve(values.data) : join(DIR, 'warehouse');
const log = (line: string) => process.stderr.write(`bench:scale  ${line}\n`);

const GIB = 2 ** 30;
const fmt = (n: number, digits = 1) => n.toFixed(digits);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const gib = (b: number) => `${(b / GIB).toFixed(2)} GiB`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The load steps' figures, kept with the warehouse they built. */
interface Prepared {
  readonly records: number;
  readonly objects: number;
  readonly objectBytes: number;
  readonly generatedSeconds: number;
  readonly steps: readonly { readonly label: string; readonly m: Omit<Measured, 'stdout'>; readonly load: string }[];
}

async function prepare(): Promise<Prepared> {
  const cache = join(DIR, 'ingest.json');
  if (existsSync(cache) && existsSync(join(WAREHOUSE, '_flowql', 'manifest.json'))) {
    log(`reusing ${WAREHOUSE} (figures of its build in ${cache})`);
    return JSON.parse(await readFile(cache, 'utf8')) as Prepared;
  }
  const shapedDir = join(DIR, 'shaped');
  const set = await awsShapedDataset({
    dir: shapedDir,
    records: N,
    days: DAYS,
    objectRecords: OBJECT_RECORDS,
    keep: true,
    estate: 'accounts-v5',
    log,
  });
  // Ingest is exactly-once: a build cut short (no figures yet) resumes where it stopped, and its figures say so.
  const resumed = existsSync(join(WAREHOUSE, '_flowql', 'manifest.json'));
  if (resumed) log(`resuming the interrupted build in ${WAREHOUSE}: the load figures cover this run only`);
  else await rm(WAREHOUSE, { recursive: true, force: true });
  const steps: Prepared['steps'][number][] = [];
  const step = async (label: string, args: readonly string[]) => {
    log(`${label} (load average before: ${load()})`);
    const before = load();
    const { stdout: _, ...m } = await measureNode(['bin/flowql.js', ...args]);
    steps.push({ label, m, load: `${before} -> ${load()}` });
    log(`${label}: ${fmt(m.wall)} s wall, ${fmt(m.cpu)} s CPU, peak RSS ${gib(m.peak)}`);
  };
  await step(resumed ? '`flowql ingest` (resumed)' : '`flowql ingest`', [
    'ingest',
    set.objectsDir,
    '--data',
    WAREHOUSE,
    '--json',
  ]);
  await step('`flowql compact`', ['compact', '--data', WAREHOUSE, '--json']);
  const inventory = shapedInventoryDir(shapedDir);
  // The snapshot names the estate from the data's first day (the generator's default start).
  const first = `${GENERATE_DEFAULTS.start}T00:00:00Z`;
  await step('`flowql inventory import`', [
    'inventory',
    'import',
    ...['describe-instances', 'describe-network-interfaces', 'describe-subnets', 'describe-vpcs'].map((f) =>
      join(inventory, `${f}.json`),
    ),
    '--data',
    WAREHOUSE,
    '--as-of',
    first,
  ]);
  const prepared: Prepared = {
    records: set.records,
    objects: set.objects.length,
    objectBytes: set.bytes,
    generatedSeconds: set.generatedSeconds,
    steps,
  };
  await writeFile(cache, JSON.stringify(prepared, null, 2));
  return prepared;
}

const prepared = values.data ? null : await prepare();
const manifest = JSON.parse(await readFile(join(WAREHOUSE, '_flowql', 'manifest.json'), 'utf8')) as Manifest;
const records = prepared?.records ?? manifest.ingest.records;

if (prepared) {
  console.log(
    `bench:scale  ${int(prepared.records)} v5 records, ${DAYS} days, 3 accounts / 3 regions / 6 flow logs, ` +
      `${int(prepared.objects)} gzip objects in AWS's key layout (${fmt(prepared.objectBytes / 1e9, 2)} GB; ` +
      `generated in ${fmt(prepared.generatedSeconds)} s); warehouse ${WAREHOUSE}\n`,
  );
  console.log('| load step | wall s | CPU s | records/s (wall) | peak RSS | load average before -> after |');
  console.log('|---|---|---|---|---|---|');
  for (const s of prepared.steps)
    console.log(
      `| ${s.label} | ${fmt(s.m.wall)} | ${fmt(s.m.cpu)} | ${s.label.includes('ingest') ? int(prepared.records / s.m.wall) : ''} | ${gib(s.m.peak)} | ${s.load} |`,
    );
} else console.log(`bench:scale  the warehouse ${WAREHOUSE} (${int(records)} records), prepared elsewhere`);

const tables = [...new Set(manifest.files.map((f) => f.table))].sort() as TableName[];
console.log('\n| table | files | rows | bytes | bytes/record |');
console.log('|---|---|---|---|---|');
let total = 0;
for (const t of tables) {
  const fs = manifest.files.filter((f) => f.table === t);
  const bytes = fs.reduce((a, f) => a + f.bytes, 0);
  total += bytes;
  console.log(
    `| ${t} | ${fs.length} | ${int(fs.reduce((a, f) => a + f.rows, 0))} | ${int(bytes)} | ${fmt(bytes / records, 2)} |`,
  );
}
console.log(`| all tables | ${manifest.files.length} | | ${int(total)} | ${fmt(total / records, 2)} |`);
if (values['prepare-only']) process.exit(0);

// ---- 3. Questions -------------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const flowDates = [...new Set(manifest.files.filter((f) => f.table === 'flows').map((f) => f.date))].sort();
const newest = flowDates[flowDates.length - 1]!;
const dataEnd = new Date(Date.parse(`${newest}T00:00:00Z`) + DAY_MS);

/** Relations over a table's files of the manifest within [from, to) by date (never a glob: retired files linger). */
function sourcesFor(c: ExampleContext): BaselineSources {
  const [fromDate, lastDate] = [c.from.slice(0, 10), new Date(Date.parse(c.to) - 1).toISOString().slice(0, 10)];
  const files = (table: TableName) =>
    manifest.files.filter((f) => f.table === table && f.date >= fromDate && f.date <= lastDate);
  const relation = (table: TableName) => {
    const list = files(table).map((f) => `'${join(WAREHOUSE, f.path)}'`);
    if (list.length === 0) throw new Error(`bench:scale: no ${table} files between ${fromDate} and ${lastDate}`);
    const types = isOrgTable(table) ? ORG_HIVE_TYPES_SQL : HIVE_TYPES_SQL;
    return `read_parquet([${list.join(', ')}], hive_partitioning = true, hive_types = ${types})`;
  };
  // Several accounts log: the organisation's connection tables answer organisation-wide questions (layout.ts).
  const org = files('org_edges').length > 0;
  // Edge questions read the daily rollup for whole days when every day of the window has it (connection-source.ts).
  const [hourlyEdges, dailyEdges] = org
    ? (['org_edges', 'org_edges_daily'] as const)
    : (['edges', 'edges_daily'] as const);
  const daysWith = (table: TableName) => new Set(files(table).map((f) => f.date));
  const wholeDayEdgesTable = [...daysWith(hourlyEdges)].every((d) => daysWith(dailyEdges).has(d))
    ? dailyEdges
    : hourlyEdges;
  return {
    // The planner's choice for whole days: daily rollups when every day has them, else hourly, else the records.
    tableFor: (grain) =>
      grain === 'record'
        ? 'flows'
        : grain === 'day' && files('flows_daily').length > 0
          ? 'flows_daily'
          : files('flows_hourly').length > 0
            ? 'flows_hourly'
            : 'flows',
    flows: (table) => relation(table),
    connections: {
      handshakes: relation(org ? 'org_handshakes' : 'handshakes'),
      edges: relation(org ? 'org_edges' : 'edges'),
      inventory: `read_parquet('${WAREHOUSE}/reference/inventory/*.parquet')`,
      handshakesTable: org ? 'org_handshakes' : 'handshakes',
      edgesTable: org ? 'org_edges' : 'edges',
      wholeDayEdges: relation(wholeDayEdgesTable),
      wholeDayEdgesTable,
    },
  };
}

/** One question: how the API is asked, and the hand-written SQL next to it. */
interface Case {
  readonly group: string;
  readonly name: string;
  /** Sends the request; returns the flows tiers the API reported reading. */
  readonly ask: (url: string) => Promise<readonly string[]>;
  readonly statements: readonly BaselineStatement[];
  readonly target: string;
  readonly withinTarget: (coldP50: number) => boolean;
}

async function askGraphql(url: string, query: string): Promise<readonly string[]> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { errors?: unknown[]; extensions?: { cost?: { tiers?: string[] } } };
  if (body.errors) throw new Error(`API errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.extensions?.cost?.tiers ?? [];
}

async function askDataset(url: string, path: string): Promise<readonly string[]> {
  const res = await fetch(`${url}/datasets/${path}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`/datasets/${path}: ${res.status} ${text.slice(0, 500)}`);
  return (JSON.parse(res.headers.get('x-flowql-cost') ?? '{}') as { tiers?: string[] }).tiers ?? [];
}

const sqlDb = await DuckDBInstance.create(':memory:');
async function runAll(statements: readonly BaselineStatement[]): Promise<void> {
  await Promise.all(
    statements.map(async (s) => {
      const c = await sqlDb.connect();
      try {
        await c.runAndReadAll(s.text, s.params);
      } finally {
        c.closeSync();
      }
    }),
  );
}

const ONE_SECOND = (ms: number) => ms <= 1000;
const cold = await startServeChild(WAREHOUSE, ['--result-cache-mb', '0']);
const cases: Case[] = [];
let instanceId: string | null;
try {
  const day = exampleContext(newest, null);
  const top = await fetch(
    `${cold.url}/datasets/topn.json?from=${day.from}&to=${day.to}&by=INSTANCE&metric=RECORDS&limit=1`,
  );
  instanceId = ((await top.json()) as { instance_id?: string }[])[0]?.instance_id ?? null;
} catch (err) {
  await cold.stop();
  throw err;
}
const ctx = exampleContext(newest, instanceId);
const daySources = sourcesFor(ctx);
const baselines = exampleBaselines(ctx, daySources);
for (const e of EXAMPLE_QUERIES)
  cases.push({
    group: 'example',
    name: e.name,
    ask: (url) => askGraphql(url, e.query(ctx)),
    statements: baselines[e.name] ?? [],
    target: '<= 1 s cold',
    withinTarget: ONE_SECOND,
  });
for (const d of datasetBaselines(ctx, daySources))
  cases.push({
    group: 'dataset',
    name: d.name,
    ask: (url) => askDataset(url, `${d.path}from=${ctx.from}&to=${ctx.to}`),
    statements: d.statements,
    target: '',
    withinTarget: () => true,
  });
const month: ExampleContext = {
  from: new Date(dataEnd.getTime() - 31 * DAY_MS).toISOString(),
  to: dataEnd.toISOString(),
  instanceId: ctx.instanceId,
};
for (const q of longWindowQuestions(month, sourcesFor(month)))
  cases.push({
    group: '31 days',
    name: q.name,
    ask: (url) => askGraphql(url, q.query),
    statements: q.statements,
    target: q.name.includes('HOUR') ? '' : '<= 1 s',
    withinTarget: q.name.includes('HOUR') ? () => true : ONE_SECOND,
  });

interface Row {
  readonly c: Case;
  readonly tiers: readonly string[];
  readonly first: number;
  readonly api: Figures;
  readonly sql: Figures | null;
  warm?: Figures;
}
const rows: Row[] = [];
let coldPeak: number;
let warmPeak: number;
const loadBefore = load();
log(`cold: ${cases.length} questions, ${RUNS} runs each, server with --result-cache-mb 0`);
try {
  for (const c of cases) {
    log(`cold ${c.group} ${c.name}`);
    const t = performance.now();
    const tiers = await c.ask(cold.url);
    const first = performance.now() - t;
    const subject = { run: () => c.ask(cold.url), cpuMs: cold.cpuMs };
    if (c.statements.length === 0) {
      const [api] = await measurePair(subject, () => Promise.resolve(), RUNS, 1);
      rows.push({ c, tiers, first, api, sql: null });
    } else {
      const [api, sql] = await measurePair(subject, () => runAll(c.statements), RUNS, 1);
      rows.push({ c, tiers, first, api, sql });
    }
  }
} finally {
  coldPeak = cold.peakRss();
  await cold.stop();
}
const warm = await startServeChild(WAREHOUSE);
log('warm: the same requests to a server with the default result cache');
try {
  for (const row of rows) {
    const [api] = await measurePair(
      { run: () => row.c.ask(warm.url), cpuMs: warm.cpuMs },
      () => Promise.resolve(),
      RUNS,
      1,
    );
    row.warm = api;
  }
} finally {
  warmPeak = warm.peakRss();
  await warm.stop();
}
sqlDb.closeSync();

const ms = (n: number) => fmt(n, 0);
console.log(
  `\nday ${newest} (${int(manifest.files.filter((f) => f.table === 'flows' && f.date === newest).reduce((a, f) => a + f.rows, 0))} records), ` +
    `instance ${ctx.instanceId}; 31-day window ${month.from.slice(0, 10)} .. ${month.to.slice(0, 10)} holds the ${flowDates.length} days of data; ` +
    `${RUNS} runs each; load average before ${loadBefore}, after ${load()} (2 cores: above 2, the figures are shared)`,
);
console.log(
  `flowql serve peak RSS: ${gib(coldPeak)} (cold server), ${gib(warmPeak)} (warm server); CPU ms is the server's (10 ms ticks) and, for SQL, this process's\n`,
);
console.log(
  '| | question | flowql reads | SQL reads | 1st ms | cold p50 ms | cold CPU ms | warm p50 ms | SQL p50 ms | SQL CPU ms | ratio (cold/SQL) | target | |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const flowTiers = r.tiers.join('+') || '-';
  const sqlReads = [...new Set(r.c.statements.map((s) => s.reads))].join('+') || '-';
  const sameTier =
    r.sql !== null &&
    [...new Set(r.c.statements.map((s) => s.reads).filter((t) => t.startsWith('flows')))].sort().join('+') ===
      [...r.tiers].sort().join('+');
  const ratio = r.sql ? r.api.p50 / r.sql.p50 : NaN;
  const verdicts = [
    r.c.target ? (r.c.withinTarget(r.api.p50) ? 'met' : '**missed**') : '',
    sameTier ? (ratio <= 1.2 ? 'ratio met' : 'ratio **missed**') : '',
  ].filter((v) => v !== '');
  console.log(
    `| ${r.c.group} | ${r.c.name} | ${flowTiers} | ${sqlReads} | ${ms(r.first)} | ${ms(r.api.p50)} | ${ms(r.api.cpu)} | ${ms(r.warm!.p50)} | ` +
      `${r.sql ? ms(r.sql.p50) : ''} | ${r.sql ? ms(r.sql.cpu) : ''} | ${r.sql ? fmt(ratio, 2) : ''} | ` +
      `${[r.c.target, sameTier ? 'ratio <= 1.2' : ''].filter((t) => t !== '').join('; ')} | ${verdicts.join('; ')} |`,
  );
}
console.log(
  '\nflowql reads: `extensions.cost.tiers` (the `x-flowql-cost` header of a download): every table the request read. ' +
    'Connection baselines read the same tables but leave out what flowql adds (naming each end from the inventory, ' +
    'direction methods, observed interfaces), so their ratio includes that work and has no target.',
);
