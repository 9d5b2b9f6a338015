/**
 * npm run bench:ingest [-- --records N --days D --object-records R --repeat K --keep]
 *
 * Feeds `flowql ingest` what users have (issue 10): one flow log's v5 records as AWS delivers them, many gzip objects
 * of a few thousand records (AWS's 10-minute files; one large object a day) in AWS's S3 key layout
 * (bench/aws-shaped-objects.ts, from `flowql generate`'s simulation). Defaults: the issue's shape, 1,667,088 records
 * over 3 days in objects of 3,859 records. In the same run and on the same files it measures:
 *
 *   baseline     DuckDB's own read_csv(delim ' ', header, nullstr '-') -> COPY ... PARTITION_BY (zstd), as a user
 *                would script it
 *   (a) load     `flowql ingest --no-derive` into an empty warehouse
 *   (b) default  `flowql ingest` (also derives handshakes/, edges/, flows_hourly/) into an empty warehouse, then
 *                `flowql compact`, then (e) bytes per record of each table from the manifest
 *   (c) delivery a warehouse holding every object but the day's last 3 (built by a default ingest), then the ingest of
 *                the whole prefix as cron or --watch runs it (3 new objects), at two day sizes 4x apart (N and 4N
 *                records over the same days, objects of the same size): does the cost follow the delivery or the day?
 *                Then a late object: the larger warehouse compacted (its days' derived files merged into one each),
 *                and an object for noon of the first day delivered (a regular object of that hour under a new name,
 *                its records again): the hours it reaches are derived, the merged files' other hours copied.
 *   (d) peak RSS of every run.
 *
 * Each run is a child process under /usr/bin/time: wall seconds, CPU seconds (user + system, DuckDB's threads
 * included; wall time is noisy on a shared machine, CPU time less so), peak RSS. Ratios to the baseline are CPU
 * seconds per record. The baseline, (a) and (b) run --repeat times (default 3) in interleaved rounds (baseline, a, b,
 * baseline, ...): each round's ratios compare runs made side by side, the table shows their medians (the median CPU
 * and wall of each run, the highest peak) and a line lists every round's, so a ratio can be read on a noisy machine
 * (the baseline alone varied 2.7-3.2 CPU s between runs of the same 400,000 records). Each delivery of (c) also runs
 * --repeat times, each into a copy of the warehouse its setup left, and shows the median. After (c) the derived tables
 * of the incremental warehouse are compared with the from-scratch ones of (b), row for row (issue 10.2: they must be
 * equal).
 *
 * Generated objects live in .bench/ingest-aws-*; --keep reuses them (and keeps the warehouses for inspection),
 * otherwise they are regenerated and removed at the end. Develop with `--records 50000 --object-records 500`.
 */
import { copyFile, cp, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { TABLES } from '../src/store/layout.ts';
import { awsShapedDataset, type ShapedDataset } from './aws-shaped-objects.ts';
import { measureNode, type Measured } from './timed-child.ts';

const argv = process.argv.slice(2);
function numberArg(name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(argv[i + 1]);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name}: expected a positive whole number, got '${argv[i + 1] ?? ''}'`);
  return n;
}
const RECORDS = numberArg('--records', 1_667_088);
const DAYS = numberArg('--days', 3);
const OBJECT_RECORDS = numberArg('--object-records', 3_859);
const KEEP = argv.includes('--keep');
const REPEAT = numberArg('--repeat', 3);
const DELIVERY_OBJECTS = 3;
const DAY_SCALE = 4;

const GIB = 2 ** 30;
const TARGET = {
  loadCpuRatio: 1.0,
  defaultCpuRatio: 2.0,
  deliverySeconds: 3,
  deliveryGrowth: 1.5,
  peakRss: GIB,
  flowsBytes: 15,
  allBytes: 25,
} as const;

/** Exit 3: some objects could not be read; the summary says which. Anything else is a failed run. */
const measure = (nodeArgs: readonly string[]): Promise<Measured> => measureNode(nodeArgs, [0, 3]);

const BASELINE = `
import { DuckDBInstance } from '@duckdb/node-api';
const [out, ...files] = process.argv.slice(1);
const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1GB' });
const c = await db.connect();
const list = files.map((f) => "'" + f + "'").join(',');
await c.run(\`COPY (SELECT * EXCLUDE ("account-id"), "account-id" AS account_id, CAST(to_timestamp("start") AS DATE) AS date
  FROM read_csv([\${list}], delim=' ', header=true, nullstr='-'))
  TO '\${out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, date))\`);
`;

interface IngestSummary {
  readonly records: number;
  readonly objects: { readonly loaded: number; readonly skipped: number; readonly failed: number };
}

async function ingest(sources: readonly string[], data: string, extra: readonly string[] = []) {
  const m = await measure(['bin/flowql.js', 'ingest', ...sources, '--data', data, '--json', ...extra]);
  const summary = JSON.parse(m.stdout) as IngestSummary;
  if (summary.objects.failed > 0) throw new Error(`ingest into ${data}: ${summary.objects.failed} object(s) failed`);
  return { m, summary };
}

interface ManifestFile {
  readonly path: string;
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
}

async function manifestFiles(data: string): Promise<ManifestFile[]> {
  return (JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as { files: ManifestFile[] }).files;
}

const DERIVED = ['handshakes', 'edges', 'flows_hourly'] as const;

/** Rows of each derived table found in one warehouse and not the other (both ways, duplicates counted). */
async function derivedDifferences(a: string, b: string): Promise<Record<string, number>> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '512MB' });
  const c = await db.connect();
  const [fa, fb] = [await manifestFiles(a), await manifestFiles(b)];
  const out: Record<string, number> = {};
  for (const table of DERIVED) {
    const list = (files: ManifestFile[], root: string) =>
      `[${files
        .filter((f) => f.table === table)
        .map((f) => `'${join(root, f.path)}'`)
        .join(', ')}]`;
    const [la, lb] = [list(fa, a), list(fb, b)];
    if (la === '[]' || lb === '[]') {
      out[table] = la === lb ? 0 : NaN;
      continue;
    }
    const scan = (l: string) => `SELECT * FROM read_parquet(${l}, union_by_name = true)`;
    const reader = await c.runAndReadAll(
      `SELECT (SELECT count(*) FROM (${scan(la)} EXCEPT ALL ${scan(lb)})) + (SELECT count(*) FROM (${scan(lb)} EXCEPT ALL ${scan(la)}))`,
    );
    out[table] = Number(reader.getRows()[0]![0]);
  }
  c.closeSync();
  db.closeSync();
  return out;
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const gib = (b: number) => `${(b / GIB).toFixed(2)} GiB`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const log = (line: string) => process.stderr.write(`bench:ingest  ${line}\n`);

const benchRoot = resolve('.bench');
const datasetDir = (records: number) => join(benchRoot, `ingest-aws-${records}r-${DAYS}d-${OBJECT_RECORDS}o`);
const shape = (records: number): Promise<ShapedDataset> =>
  awsShapedDataset({ dir: datasetDir(records), records, days: DAYS, objectRecords: OBJECT_RECORDS, keep: KEEP, log });

const small = await shape(RECORDS);
const large = await shape(RECORDS * DAY_SCALE);
const ROOT = datasetDir(RECORDS);
const files = small.objects.map((o) => o.path);
const loadBefore = load();

const rows: string[] = [];
const row = (cells: readonly string[]) => rows.push(`| ${cells.join(' | ')} |`);
const cpuRatio = (m: Measured, records: number, base: Measured) => m.cpu / records / (base.cpu / RECORDS);

const fullRuns = [
  {
    label: '(a) `flowql ingest --no-derive`',
    data: join(ROOT, 'wh-load'),
    extra: ['--no-derive'],
    target: TARGET.loadCpuRatio,
  },
  {
    label: '(b) `flowql ingest` (default: derives)',
    data: join(ROOT, 'wh-default'),
    extra: [],
    target: TARGET.defaultCpuRatio,
  },
];
const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
/** The runs of one kind over the rounds: median wall and CPU, highest peak. */
const typical = (ms: readonly Measured[]): Measured => ({
  wall: median(ms.map((m) => m.wall)),
  cpu: median(ms.map((m) => m.cpu)),
  peak: Math.max(...ms.map((m) => m.peak)),
  stdout: '',
});
const baseRuns: Measured[] = [];
const roundRuns = fullRuns.map(() => [] as { m: Measured; summary: IngestSummary }[]);
for (let round = 1; round <= REPEAT; round++) {
  log(`round ${round} of ${REPEAT}: baseline over ${files.length} objects`);
  await rm(join(ROOT, 'baseline'), { recursive: true, force: true });
  baseRuns.push(await measure(['--input-type=module', '-e', BASELINE, join(ROOT, 'baseline'), ...files]));
  for (const [i, run] of fullRuns.entries()) {
    log(`round ${round} of ${REPEAT}: ${run.label}`);
    await rm(run.data, { recursive: true, force: true });
    roundRuns[i]!.push(await ingest([small.objectsDir], run.data, run.extra));
  }
}
const base = typical(baseRuns);
row([
  'baseline `read_csv -> COPY ... PARTITION_BY` (zstd)',
  int(RECORDS),
  fmt(base.wall),
  fmt(base.cpu),
  gib(base.peak),
  '1.00x',
  '',
  '',
]);
const roundRatios: string[] = [];
for (const [i, run] of fullRuns.entries()) {
  const runs = roundRuns[i]!;
  const ratios = runs.map((r, k) => cpuRatio(r.m, r.summary.records, baseRuns[k]!));
  const ratio = median(ratios);
  const m = typical(runs.map((r) => r.m));
  roundRatios.push(`${run.label.slice(0, 3)} ${ratios.map((x) => `${fmt(x, 2)}x`).join(', ')}`);
  row([
    run.label,
    int(runs[0]!.summary.records),
    fmt(m.wall),
    fmt(m.cpu),
    gib(m.peak),
    `${fmt(ratio, 2)}x`,
    `CPU ratio <= ${fmt(run.target, 1)}x; RSS <= 1 GiB`,
    `${verdict(ratio <= run.target)}; ${verdict(m.peak <= TARGET.peakRss)}`,
  ]);
}
const defaultData = fullRuns[1]!.data;
log('compact');
const comp = await measure(['bin/flowql.js', 'compact', '--data', defaultData, '--json']);
row([
  '`flowql compact` of (b)',
  int(RECORDS),
  fmt(comp.wall),
  fmt(comp.cpu),
  gib(comp.peak),
  '',
  'RSS <= 1 GiB',
  verdict(comp.peak <= TARGET.peakRss),
]);

// (c): the same delivery (the last objects of the last day, regular size) into warehouses whose days differ 4x.
const deliveries: { records: number; dayRecords: number; m: Measured; data: string; cpus: number[] }[] = [];
for (const [name, set] of [
  ['day', small],
  [`${DAY_SCALE}x-day`, large],
] as const) {
  const data = join(ROOT, `wh-incremental-${name}`);
  const earlier = set.objects.slice(0, -DELIVERY_OBJECTS).map((o) => o.path);
  const delivered = set.objects.slice(-DELIVERY_OBJECTS);
  const deliveredRecords = delivered.reduce((a, o) => a + o.records, 0);
  log(`(c) setup: ${earlier.length} objects (${int(set.records - deliveredRecords)} records) into ${data}`);
  await rm(data, { recursive: true, force: true });
  const setup = await ingest(earlier, data);
  row([
    `(c) setup: \`flowql ingest\` of all but the last ${DELIVERY_OBJECTS} objects, ${int(set.records / DAYS)} records/day`,
    int(setup.summary.records),
    fmt(setup.m.wall),
    fmt(setup.m.cpu),
    gib(setup.m.peak),
    `${fmt(cpuRatio(setup.m, setup.summary.records, base), 2)}x`,
    'RSS <= 1 GiB',
    verdict(setup.m.peak <= TARGET.peakRss),
  ]);
  // The delivery runs --repeat times into copies of the warehouse as the setup left it: one run of about a second
  // varied by a tenth either way, which moved the growth ratio between the two day sizes by 0.3.
  const before = `${data}-before-delivery`;
  await rm(before, { recursive: true, force: true });
  await cp(data, before, { recursive: true });
  const runs: { m: Measured; summary: IngestSummary }[] = [];
  for (let k = 1; k <= REPEAT; k++) {
    log(
      `(c) delivery ${k} of ${REPEAT}: ${DELIVERY_OBJECTS} objects (${int(deliveredRecords)} records), listing the whole prefix`,
    );
    await rm(data, { recursive: true, force: true });
    await cp(before, data, { recursive: true });
    const run = await ingest([set.objectsDir], data);
    if (run.summary.objects.loaded !== DELIVERY_OBJECTS)
      throw new Error(
        `delivery into ${data}: loaded ${run.summary.objects.loaded} objects, expected ${DELIVERY_OBJECTS}`,
      );
    runs.push(run);
  }
  await rm(before, { recursive: true, force: true });
  const { summary } = runs.at(-1)!;
  const m = typical(runs.map((r) => r.m));
  deliveries.push({
    records: summary.records,
    dayRecords: set.records / DAYS,
    m,
    data,
    cpus: runs.map((r) => r.m.cpu),
  });
  row([
    `(c) delivery: ${DELIVERY_OBJECTS} new objects into 3 days of ${int(set.records / DAYS)} records/day`,
    int(summary.records),
    fmt(m.wall),
    fmt(m.cpu),
    gib(m.peak),
    '',
    `wall <= ${TARGET.deliverySeconds} s; RSS <= 1 GiB`,
    `${verdict(m.wall <= TARGET.deliverySeconds)}; ${verdict(m.peak <= TARGET.peakRss)}`,
  ]);
}
const [d1, d4] = deliveries as [(typeof deliveries)[number], (typeof deliveries)[number]];

// (c) late: an object for a day `flowql compact` has merged. A regular object from the middle of the first day,
// copied under a new name (AWS's name with another hash): the ingester takes it for a new object.
log('(c) late object: compact the 4x-day warehouse, then deliver an object for noon of its first day');
await measure(['bin/flowql.js', 'compact', '--data', d4.data, '--json']);
const firstDay = large.objects
  .filter((o) => o.records < 2 * OBJECT_RECORDS)
  .slice(0, Math.floor(large.objects.length / DAYS));
const noon = firstDay[Math.floor(firstDay.length / 2)]!;
const lateDir = join(ROOT, 'late-object');
await rm(lateDir, { recursive: true, force: true });
await mkdir(lateDir, { recursive: true });
await copyFile(noon.path, join(lateDir, basename(noon.path).replace(/_[0-9a-f]+\.log\.gz$/, '_1a7e0b1e.log.gz')));
const late = await ingest([lateDir], d4.data);
row([
  `(c) late: 1 object for noon of the first (compacted) day, ${int(large.records / DAYS)} records/day`,
  int(late.summary.records),
  fmt(late.m.wall),
  fmt(late.m.cpu),
  gib(late.m.peak),
  '',
  `wall <= ${TARGET.deliverySeconds} s; RSS <= 1 GiB`,
  `${verdict(late.m.wall <= TARGET.deliverySeconds)}; ${verdict(late.m.peak <= TARGET.peakRss)}`,
]);
const growthWall = d4.m.wall / d1.m.wall;
const growthCpu = d4.m.cpu / d1.m.cpu;

log('comparing derived tables: incremental vs from scratch');
const diff = await derivedDifferences(defaultData, d1.data);

log('storage');
const manifest = await manifestFiles(defaultData);
// Every table compact left in the warehouse, the daily rollups included: the storage target counts them all.
const tables = TABLES.filter((t) => manifest.some((f) => f.table === t));
const storage = tables.map((t) => {
  const fs = manifest.filter((f) => f.table === t);
  return {
    table: t,
    files: fs.length,
    rows: fs.reduce((a, f) => a + f.rows, 0),
    bytes: fs.reduce((a, f) => a + f.bytes, 0),
  };
});
const totalBytes = storage.reduce((a, s) => a + s.bytes, 0);
let baseBytes = 0;
for (const e of await readdir(join(ROOT, 'baseline'), { recursive: true, withFileTypes: true }))
  if (e.isFile()) baseBytes += (await stat(join(e.parentPath, e.name))).size;

const regular = small.objects.filter((o) => o.records < 2 * OBJECT_RECORDS);
const bigOnes = small.objects.filter((o) => o.records >= 2 * OBJECT_RECORDS);
const mean = (os: readonly { records: number }[]) => int(os.reduce((a, o) => a + o.records, 0) / os.length);
console.log(
  `bench:ingest  ${int(RECORDS)} v5 records (one account/region), ${DAYS} days, ${small.objects.length} gzip objects ` +
    `in AWS's key layout (${regular.length} of ~${mean(regular)} records` +
    (bigOnes.length > 0 ? `, ${bigOnes.length} large of ~${mean(bigOnes)}` : '') +
    `), ${fmt(small.bytes / 1e6)} MB; ${DAY_SCALE}x-day set: ${int(large.records)} records in ${large.objects.length} objects`,
);
console.log(
  `load average (1, 5, 15 min): before ${loadBefore}, after ${load()} (2 cores: above 2, the figures are shared)\n`,
);
console.log(
  `baseline, (a) and (b): medians of ${REPEAT} interleaved round(s); CPU ratio of each round: ${roundRatios.join('; ')}; ` +
    `baseline CPU s ${baseRuns.map((m) => fmt(m.cpu)).join(', ')}\n`,
);
console.log('| run | records | wall s | CPU s | peak RSS | CPU/record vs baseline | target | |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log(
  `\nincremental delivery, day ${DAY_SCALE}x larger (${int(d1.dayRecords)} -> ${int(d4.dayRecords)} records/day, ` +
    `${int(d1.records)} and ${int(d4.records)} records delivered): wall ${fmt(growthWall, 2)}x, CPU ${fmt(growthCpu, 2)}x ` +
    `(target <= ${TARGET.deliveryGrowth}x, judged on CPU: ${verdict(growthCpu <= TARGET.deliveryGrowth)}); ` +
    `medians of ${REPEAT} deliveries each, CPU s ${d1.cpus.map((x) => fmt(x, 2)).join(', ')} and ${d4.cpus.map((x) => fmt(x, 2)).join(', ')}`,
);
console.log(
  `derived tables after the delivery vs from scratch (b), rows differing: ` +
    DERIVED.map((t) => `${t} ${diff[t]}`).join(', ') +
    ` (must all be 0: ${verdict(DERIVED.every((t) => diff[t] === 0))})\n`,
);
console.log(`| table (after \`flowql compact\` of (b)) | files | rows | bytes | bytes/record | target | |`);
console.log('|---|---|---|---|---|---|---|');
for (const s of storage) {
  const per = s.bytes / RECORDS;
  const target = s.table === 'flows' ? `<= ${TARGET.flowsBytes}` : '';
  console.log(
    `| ${s.table} | ${s.files} | ${int(s.rows)} | ${int(s.bytes)} | ${fmt(per, 2)} | ${target} | ${s.table === 'flows' ? verdict(per <= TARGET.flowsBytes) : ''} |`,
  );
}
console.log(
  `| all tables | ${storage.reduce((a, s) => a + s.files, 0)} | | ${int(totalBytes)} | ${fmt(totalBytes / RECORDS, 2)} | <= ${TARGET.allBytes} | ${verdict(totalBytes / RECORDS <= TARGET.allBytes)} |`,
);
console.log(
  `| baseline's Parquet (zstd, DuckDB defaults) | | | ${int(baseBytes)} | ${fmt(baseBytes / RECORDS, 2)} | | |`,
);

if (!KEEP) {
  for (const records of [RECORDS, RECORDS * DAY_SCALE]) await rm(datasetDir(records), { recursive: true, force: true });
}
