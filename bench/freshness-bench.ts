/**
 * npm run bench:freshness [-- --day-records N --deliveries K --every S --interval S --keep]
 *
 * Issue 10.5: does `flowql ingest --watch --interval 30` make an object queryable within 60 s of landing when a day
 * holds 10M records of one account/region (AWS delivering an object every 5 minutes)? One day of v5 records in AWS's
 * shape (bench/aws-shaped-objects.ts: 288 objects a day, ~35,000 records each, one large object), the first 80% of the
 * day's objects ingested as setup (the day so far), then `flowql ingest --watch` runs as a child while the next
 * objects land one every `--every` seconds (default 60: five times AWS's rate, to keep the run short). For each object:
 * the seconds from landing (its rename into the watched folder) to the manifest listing its records. Printed next to
 * the baseline measured in the same run: DuckDB's own `read_csv -> COPY` of the same object (what "queryable" costs
 * without derived tables or exactly-once bookkeeping).
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { awsShapedDataset } from './aws-shaped-objects.ts';
import { ensureCliBundle } from './cli-bundle.ts';

function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} takes a positive number`);
  return v;
}

const DAY_RECORDS = numberArg('--day-records', 10_000_000);
const DELIVERIES = numberArg('--deliveries', 5);
const EVERY_S = numberArg('--every', 60);
const INTERVAL_S = numberArg('--interval', 30);
const KEEP = process.argv.includes('--keep');
const TARGET_S = 60;
const log = (line: string) => console.error(`bench:freshness  ${line}`);
const fmt = (n: number, d = 1) => n.toFixed(d);

const dir = resolve('.bench', `freshness-${DAY_RECORDS}r`);
const data = join(dir, 'wh');
const watched = join(dir, 'watched');
const set = await awsShapedDataset({
  dir: join(dir, 'set'),
  records: DAY_RECORDS,
  days: 1,
  objectRecords: Math.round(DAY_RECORDS / 288),
  keep: KEEP,
  log,
});
const objects = [...set.objects].sort((a, b) => a.path.localeCompare(b.path));
const setupCount = Math.floor(objects.length * 0.8);
if (setupCount + DELIVERIES > objects.length) throw new Error(`only ${objects.length} objects: fewer --deliveries`);

/** Copies an object into the watched folder under its AWS key, landing it atomically (rename). */
async function land(path: string): Promise<void> {
  const target = join(watched, relative(set.objectsDir, path));
  await mkdir(dirname(target), { recursive: true });
  await copyFile(path, `${target}.part`);
  await rename(`${target}.part`, target);
}

const manifestRecords = async (): Promise<number> => {
  try {
    return (JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as { ingest: { records: number } })
      .ingest.records;
  } catch {
    return 0;
  }
};

ensureCliBundle();
await rm(data, { recursive: true, force: true });
await rm(watched, { recursive: true, force: true });
for (const o of objects.slice(0, setupCount)) await land(o.path);
const setupRecords = objects.slice(0, setupCount).reduce((n, o) => n + o.records, 0);
log(`setup: ingesting ${setupCount} objects (${setupRecords} records, the day so far)`);
const setupStart = performance.now();
await new Promise<void>((done, fail) => {
  const child = spawn(process.execPath, ['bin/flowql.js', 'ingest', watched, '--data', data, '--json'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`setup ingest exited ${code}`))));
});
const setupSeconds = (performance.now() - setupStart) / 1000;

// The baseline: DuckDB's own copy of one delivered object, in this process.
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await db.connect();
const baselineOut = join(dir, 'baseline');
await rm(baselineOut, { recursive: true, force: true });
const probe = objects[setupCount]!.path;
const b0 = performance.now();
await c.run(`COPY (SELECT * EXCLUDE ("account-id"), "account-id" AS account_id, CAST(to_timestamp("start") AS DATE) AS date
  FROM read_csv('${probe}', delim=' ', header=true, nullstr='-'))
  TO '${baselineOut}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, date))`);
const baselineSeconds = (performance.now() - b0) / 1000;
c.closeSync();
db.closeSync();

log(`watch: flowql ingest --watch --interval ${INTERVAL_S}; ${DELIVERIES} objects land, one every ${EVERY_S} s`);
const watchStart = performance.now();
const watcher = spawn(
  process.execPath,
  ['bin/flowql.js', 'ingest', watched, '--data', data, '--watch', '--interval', String(INTERVAL_S)],
  {
    stdio: ['ignore', 'ignore', 'ignore'],
  },
);
/** The watcher's CPU seconds and peak RSS so far, from /proc (Linux): GNU time cannot stay in front of a signal. */
async function watcherUsage(pid: number): Promise<{ cpu: number; peak: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const cpu = (Number(stat[11]) + Number(stat[12])) / ticks;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return { cpu, peak: Number(hwm?.[1] ?? 0) * 1024 };
}
const exited = new Promise<void>((done) => watcher.on('exit', () => done()));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
await sleep(2_000);

const rows: { records: number; latency: number }[] = [];
let expected = setupRecords;
for (const o of objects.slice(setupCount, setupCount + DELIVERIES)) {
  const landed = performance.now();
  await land(o.path);
  expected += o.records;
  while ((await manifestRecords()) < expected) {
    if ((performance.now() - landed) / 1000 > 10 * TARGET_S)
      throw new Error('an object was not ingested within 10 minutes');
    await sleep(250);
  }
  const latency = (performance.now() - landed) / 1000;
  rows.push({ records: o.records, latency });
  log(`object of ${o.records} records queryable ${fmt(latency)} s after landing`);
  const wait = EVERY_S * 1000 - (performance.now() - landed);
  if (wait > 0) await sleep(wait);
}
const usage = await watcherUsage(watcher.pid!);
const wall = (performance.now() - watchStart) / 1000;
watcher.kill('SIGTERM');
await exited;

const worst = Math.max(...rows.map((r) => r.latency));
console.log(
  `bench:freshness  one v5 day of ${DAY_RECORDS.toLocaleString('en-US')} records (one account/region) in ${objects.length} AWS-shaped objects; ` +
    `setup ingested ${setupCount} of them (${setupRecords.toLocaleString('en-US')} records) in ${fmt(setupSeconds)} s\n`,
);
console.log('| object | records | seconds from landing to queryable | target | |');
console.log('|---|---|---|---|---|');
rows.forEach((r, i) =>
  console.log(
    `| ${i + 1} | ${r.records.toLocaleString('en-US')} | ${fmt(r.latency)} | <= ${TARGET_S} | ${r.latency <= TARGET_S ? 'met' : '**missed**'} |`,
  ),
);
console.log(
  `\nworst ${fmt(worst)} s (of which up to ${INTERVAL_S} s is the wait for the next --watch run); baseline: DuckDB's read_csv -> COPY of one object ${fmt(baselineSeconds, 2)} s`,
);
console.log(
  `watcher over the run: ${fmt(wall)} s wall, ${fmt(usage.cpu)} CPU s (${fmt((usage.cpu / wall) * 100, 0)}% of one core), peak RSS ${fmt(usage.peak / 2 ** 30, 2)} GiB`,
);
if (!KEEP) await rm(dir, { recursive: true, force: true });
