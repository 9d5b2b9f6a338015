// flows_hourly against the flows it sums. Fixture: the generator (6000 records over two days, seed 11: several
// accounts, regions and formats, REJECTs, NODATA records without bytes) ingested with derivation. Every aggregate
// shape the API builds is run twice on the real DuckDB: over the flows files (record grain) and over the hourly files
// aggregateScope picks; the rows must be identical. Then the routing: what the hourly table cannot answer reads the
// flows, a `--no-derive` ingest retires the derived files it makes stale, and `flowql derive` writes them back.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FlowValue, TimeInterval } from '../../src/domain/aggregate-enums.ts';
import type { FlowDimension } from '../../src/domain/flow-dimensions.ts';
import { FLOW_BOUNDS, FLOW_METRICS, PER_RECORD_EXTREMES, isRateMetric } from '../../src/domain/aggregate-enums.ts';
import { validateFlowFilter, type FlowFilter } from '../../src/domain/flow-filter.ts';
import { generateDataset } from '../../src/generator/generate-dataset.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { runRederive } from '../../src/ingest/ingest-rederive.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import type { Manifest } from '../../src/store/layout.ts';
import type { AggregateScope } from '../../src/store/queries/aggregate-expressions.ts';
import { buildFlowBreakdownQuery } from '../../src/store/queries/flow-breakdown-query.ts';
import { flowFilterSql, prunePartitions } from '../../src/store/queries/flow-filter-query.ts';
import { HOURLY_STORED_COLUMNS, type AggregateNeeds } from '../../src/store/queries/flows-hourly-query.ts';
import { buildFlowSummaryQuery } from '../../src/store/queries/flow-summary-query.ts';
import { buildFlowTimeSeriesQuery } from '../../src/store/queries/flow-time-series-query.ts';
import { buildFlowTopNQuery } from '../../src/store/queries/flow-top-n-query.ts';
import { parquetSourceSql } from '../../src/store/queries/parquet-source-query.ts';
import { buildInterfaceStatusQuery } from '../../src/store/queries/partitions-query.ts';
import { runQuery, type QueryContext } from '../../src/store/query-runner.ts';
import { build, sql, type SqlQuery } from '../../src/store/sql.ts';
import { aggregateScope } from '../../src/questions/aggregate-reader.ts';
import { gql, testApi } from '../helpers/graphql.ts';
import { testQueryContext } from '../helpers/query-context.ts';

// The values one GROUP BY over hourly rows answers: extremes read the records, rates need a rate window
// (test/integration/aggregate-metrics-hourly.test.ts).
const ALL_VALUES: FlowValue[] = [...FLOW_METRICS, ...FLOW_BOUNDS].filter(
  (v) => !PER_RECORD_EXTREMES.has(v) && !isRateMetric(v),
);
const DAY1 = '2024-09-05';
const filterOf = (
  input: Record<string, unknown>,
  from = `${DAY1}T00:00:00Z`,
  to = '2024-09-07T00:00:00Z',
): FlowFilter => validateFlowFilter({ timeRange: { from, to }, ...input });
const manifestOf = async (data: string) =>
  JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;

let root = '';
let data = '';
let records = 0;

/** The same statement over the flows files of the filter's range: the answer the hourly table must reproduce. */
async function recordScope(ctx: QueryContext, filter: FlowFilter): Promise<AggregateScope> {
  const files = prunePartitions((await ctx.warehouse.manifest()).files, filter);
  return { source: parquetSourceSql(files.map((f) => ctx.warehouse.absolutePath(f))), where: flowFilterSql(filter) };
}

type Shape = (scope: AggregateScope) => SqlQuery;

/** Starts `flowql serve` on the warehouse and returns its warning about underived partitions (its JSON log line). */
async function serveStartupWarning(
  warehouse: string,
): Promise<{ level: number; partitions: number; first: string; msg: string }> {
  const bin = join(import.meta.dirname, '../../bin/flowql.js');
  const child = spawn(process.execPath, [bin, 'serve', '--data', warehouse, '--port', '0', '--no-graphiql'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const giveUp = setTimeout(() => child.kill('SIGTERM'), 30_000); // ends the loop below with what was logged
  let out = '';
  try {
    for await (const chunk of child.stdout) {
      out += String(chunk);
      const line = out.split('\n').find((l) => l.includes('partitions without derived tables'));
      if (line) return JSON.parse(line);
    }
  } finally {
    clearTimeout(giveUp);
    child.kill('SIGTERM');
  }
  throw new Error(`flowql serve logged no warning about underived partitions:\n${out}`);
}

/** Runs `shape` over the scope aggregateScope picks (expected to be `grain`) and over the flows; returns both answers. */
async function bothWays(filter: FlowFilter, needs: AggregateNeeds, shape: Shape, grain: 'hour' | 'record' = 'hour') {
  const ctx = await testQueryContext(data);
  const picked = await aggregateScope(ctx, filter, needs);
  expect(picked.grain ?? 'record').toBe(grain);
  const fromPicked = await runQuery(ctx, shape(picked));
  const fromRecords = await runQuery(ctx, shape(await recordScope(ctx, filter)));
  return { fromPicked, fromRecords, cost: ctx.cost.snapshot() };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-hourly-'));
  await generateDataset({ outDir: join(root, 'gen'), records: 6000, days: 2, seed: 11, start: DAY1 });
  data = join(root, 'data');
  const s = await runIngest({
    sources: [join(root, 'gen', 'AWSLogs')],
    storage: await createLocalWarehouseStorage(data),
    threads: 1,
  });
  expect([s.rejects, s.objects.failed]).toEqual([0, 0]);
  records = s.records;
}, 120_000);

describe('flows_hourly gives the answers of the flows', () => {
  it('is derived for every flows partition by a default ingest, with far fewer rows than records', async () => {
    const m = await manifestOf(data);
    const part = (f: { accountId: string; region: string; date: string }) => `${f.accountId}/${f.region}/${f.date}`;
    const flows = m.files.filter((f) => f.table === 'flows');
    const hourly = m.files.filter((f) => f.table === 'flows_hourly');
    expect(new Set(hourly.map(part))).toEqual(new Set(flows.map(part)));
    expect(flows.reduce((n, f) => n + f.rows, 0)).toBe(records);
    expect(hourly.reduce((n, f) => n + f.rows, 0)).toBeLessThan(records);
    // The columns the Athena DDL declares (flowql athena-ddl --hourly) are the file's, in order and type.
    const ctx = await testQueryContext(data);
    const described = await runQuery(
      ctx,
      build(
        'describe',
        sql`DESCRIBE SELECT * FROM read_parquet(${ctx.warehouse.absolutePath(hourly[0]!)}, hive_partitioning = false)`,
      ),
    );
    expect(described.map((r) => ({ column: r.column_name, type: r.column_type }))).toEqual(HOURLY_STORED_COLUMNS);
  });

  const shapes: [string, Record<string, unknown>, AggregateNeeds, Shape][] = [
    ['summary, every value', {}, {}, (s) => buildFlowSummaryQuery(s, ALL_VALUES)],
    [
      'summary of REJECTs to ports 22 and 3389',
      {
        actions: ['REJECT'],
        dstPort: [
          { from: 22, to: 22 },
          { from: 3389, to: 3389 },
        ],
      },
      {},
      (s) => buildFlowSummaryQuery(s, ALL_VALUES),
    ],
    [
      'summary of NODATA records (no bytes, no addresses)',
      { logStatuses: ['NODATA', 'SKIPDATA'] },
      {},
      (s) => buildFlowSummaryQuery(s, ALL_VALUES),
    ],
    [
      'summary inside a CIDR, not TCP',
      { srcAddr: ['10.0.0.0/8'], notProtocols: [6] },
      {},
      (s) => buildFlowSummaryQuery(s, ALL_VALUES),
    ],
    ...(['ADDRESS_PAIR', 'DST_PORT', 'SRC_ADDR', 'INSTANCE', 'ACTION'] as const).map(
      (by): [string, Record<string, unknown>, AggregateNeeds, Shape] => [
        `top-N by ${by}`,
        {},
        { dimensions: by === 'ADDRESS_PAIR' ? ['SRC_ADDR', 'DST_ADDR'] : [by] },
        (s) => buildFlowTopNQuery(s, { by, metric: 'BYTES', values: ALL_VALUES, limit: 25 }),
      ],
    ),
    [
      'breakdown by account, action, destination port, flow direction',
      { notDstPort: [{ from: 443, to: 443 }] },
      { dimensions: ['ACCOUNT', 'ACTION', 'DST_PORT', 'FLOW_DIRECTION'] },
      (s) =>
        buildFlowBreakdownQuery(s, {
          dimensions: ['ACCOUNT', 'ACTION', 'DST_PORT', 'FLOW_DIRECTION'],
          orderBy: 'RECORDS',
          values: ALL_VALUES,
          limit: 500,
        }),
    ],
    [
      'interface status (OK, NODATA, SKIPDATA per interface)',
      {},
      { dimensions: ['INTERFACE'] },
      (s) => buildInterfaceStatusQuery(s, 1000),
    ],
    ...(['HOUR', 'SIX_HOURS', 'DAY'] as const).map(
      (interval): [string, Record<string, unknown>, AggregateNeeds, Shape] => [
        `time series by ${interval}, one series per region`,
        {},
        { interval, dimensions: ['REGION'] },
        (s) =>
          buildFlowTimeSeriesQuery(s, {
            interval,
            values: ALL_VALUES,
            groupBy: { dimension: 'REGION', maxSeries: 3, rankBy: 'BYTES' },
          }),
      ],
    ),
  ];

  it.each(shapes)('%s', async (_name, input, needs, shape) => {
    const { fromPicked, fromRecords } = await bothWays(filterOf(input), needs, shape);
    expect(fromRecords.length).toBeGreaterThan(0);
    expect(fromPicked).toEqual(fromRecords);
  });

  it('answers a window of whole hours inside a day, and reads fewer rows than the flows hold', async () => {
    const filter = filterOf({}, `${DAY1}T05:00:00Z`, `${DAY1}T17:00:00Z`);
    const { fromPicked, fromRecords, cost } = await bothWays(filter, {}, (s) => buildFlowSummaryQuery(s, ALL_VALUES));
    expect(fromPicked).toEqual(fromRecords);
    const m = await manifestOf(data);
    const flowRowsOfDay = m.files.filter((f) => f.table === 'flows' && f.date === DAY1).reduce((n, f) => n + f.rows, 0);
    expect(cost.rowsScanned).toBeLessThan(flowRowsOfDay);
  });
});

describe('a window cut inside an hour: hourly rows for its whole hours, records for its partial hours', () => {
  const cut: [string, string, string][] = [
    ['both ends inside an hour, across midnight', `${DAY1}T05:17:23Z`, '2024-09-06T13:42:10Z'],
    ['starting inside an hour', `${DAY1}T05:30:00Z`, '2024-09-06T00:00:00Z'],
    ['ending inside an hour', `${DAY1}T00:00:00Z`, `${DAY1}T23:59:59Z`],
    ['one whole hour and two partial ones', `${DAY1}T09:59:00Z`, `${DAY1}T11:00:01Z`],
  ];
  const shapes: [string, AggregateNeeds, Shape][] = [
    ['summary', {}, (s) => buildFlowSummaryQuery(s, ALL_VALUES)],
    ['interface status', { dimensions: ['INTERFACE'] }, (s) => buildInterfaceStatusQuery(s, 1000)],
    [
      'top-N by address pair',
      { dimensions: ['SRC_ADDR', 'DST_ADDR'] },
      (s) => buildFlowTopNQuery(s, { by: 'ADDRESS_PAIR', metric: 'RECORDS', values: ALL_VALUES, limit: 20 }),
    ],
    [
      'hourly series per action',
      { interval: 'HOUR', dimensions: ['ACTION'] },
      (s) =>
        buildFlowTimeSeriesQuery(s, {
          interval: 'HOUR',
          values: ALL_VALUES,
          groupBy: { dimension: 'ACTION', maxSeries: 5, rankBy: 'RECORDS' },
        }),
    ],
  ];
  for (const [window, from, to] of cut) {
    it.each(shapes)(`${window}: %s`, async (_name, needs, shape) => {
      const { fromPicked, fromRecords } = await bothWays(filterOf({}, from, to), needs, shape);
      expect(fromPicked).toEqual(fromRecords);
    });
  }

  it('counts a record of a partial hour once, and none of the hour it was cut from outside the window', async () => {
    // Records starting in [05:30, 06:00) plus the whole hours up to midnight, against the records alone; and the
    // first and last times must be records' own times, not hour boundaries.
    const filter = filterOf({}, `${DAY1}T05:30:00Z`, '2024-09-06T00:00:00Z');
    const { fromPicked, fromRecords } = await bothWays(filter, {}, (s) =>
      buildFlowSummaryQuery(s, ['RECORDS', 'FIRST_SEEN', 'LAST_SEEN']),
    );
    expect(fromPicked).toEqual(fromRecords);
    const first = (fromPicked[0] as { m_first_seen: Date }).m_first_seen;
    expect(first.getTime()).toBeGreaterThanOrEqual(Date.parse(`${DAY1}T05:30:00Z`));
  });
});

describe('what flows_hourly cannot answer reads the flows', () => {
  const summary: Shape = (s) => buildFlowSummaryQuery(s, ['RECORDS', 'BYTES']);
  const cases: [string, Record<string, unknown>, AggregateNeeds, string?, string?][] = [
    ['a window inside one hour', {}, {}, `${DAY1}T05:10:00Z`, `${DAY1}T05:50:00Z`],
    ['a window of 70 minutes holding no whole hour', {}, {}, `${DAY1}T05:30:00Z`, `${DAY1}T06:40:00Z`],
    ['a source port filter', { srcPort: [{ from: 443, to: 443 }] }, {}],
    ['an either-side port filter', { port: [{ from: 443, to: 443 }] }, {}],
    ['a TCP flags filter', { tcpFlags: { any: ['SYN'] } }, {}],
    ['a bytes threshold (one record over 1 kB)', { minBytes: '1000' }, {}],
    ['a packets threshold', { maxPackets: '3' }, {}],
    ['a duration threshold', { minDurationSeconds: 30 }, {}],
    ['a source port grouping', {}, { dimensions: ['SRC_PORT'] as FlowDimension[] }],
    ['minute buckets', {}, { interval: 'FIVE_MINUTES' as TimeInterval }],
  ];
  it.each(cases)('%s', async (_name, input, needs, from, to) => {
    const { fromPicked, fromRecords } = await bothWays(filterOf(input, from, to), needs, summary, 'record');
    expect(fromPicked).toEqual(fromRecords);
  });
});

describe('derived files are exact or absent', () => {
  it('an ingest with derive: false retires the stale derived files of the partitions it changes; flowql derive writes them back', async () => {
    // One more object for an account/region/day that already has derived files: copy a generated object under a new
    // name (a new object to the ingester), so that partition now holds each of its records twice.
    const gen = join(root, 'gen', 'AWSLogs');
    const objects: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(dir, e.name));
        else if (e.name.endsWith('.log.gz') && dir.includes('/2024/09/05')) objects.push(join(dir, e.name));
      }
    };
    await walk(gen);
    const original = objects.sort()[0]!;
    const extra = join(root, 'extra', original.slice(join(root, 'gen').length + 1));
    await mkdir(join(extra, '..'), { recursive: true });
    await copyFile(original, extra.replace(/\.log\.gz$/, '-copy.log.gz'));
    const before = await manifestOf(data);
    const storage = await createLocalWarehouseStorage(data);
    const s = await runIngest({ sources: [join(root, 'extra', 'AWSLogs')], storage, derive: false, threads: 1 });
    expect(s.objects.loaded).toBe(1);

    const after = await manifestOf(data);
    const added = after.files.filter((f) => !before.files.some((b) => b.path === f.path));
    expect(added.map((f) => f.table)).toEqual(['flows']);
    const changed = added[0]!;
    const derivedOf = (m: Manifest, date: string) =>
      m.files.filter(
        (f) =>
          f.table !== 'flows' && f.accountId === changed.accountId && f.region === changed.region && f.date === date,
      );
    // The changed day and its neighbours (pairing crosses midnight) lose their derived files; other partitions keep them.
    expect(derivedOf(after, DAY1)).toEqual([]);
    expect(derivedOf(after, '2024-09-06')).toEqual([]);
    expect(after.files.filter((f) => f.table === 'flows_hourly').length).toBeGreaterThan(0);

    // Totals now count the copied records twice, read from the flows because a partition has no hourly file.
    const all = filterOf({});
    const twice = await bothWays(all, {}, (sc) => buildFlowSummaryQuery(sc, ALL_VALUES), 'record');
    expect(twice.fromPicked).toEqual(twice.fromRecords);
    expect((twice.fromPicked[0] as { m_records: bigint }).m_records).toBe(BigInt(records + s.records));

    // `flowql serve` says so at start, with the command that fixes it. The generator's estate has several accounts,
    // so the org files of the two days (derived across every account and region) went stale too: every partition of
    // those days is listed.
    const regionDays = new Set(
      after.files
        .filter((f) => f.table === 'flows' && [DAY1, '2024-09-06'].includes(f.date))
        .map((f) => `${f.accountId}/${f.region}/${f.date}`),
    );
    expect(regionDays.size).toBeGreaterThan(2);
    const warning = await serveStartupWarning(data);
    expect(warning).toMatchObject({ level: 40, partitions: regionDays.size, first: [...regionDays].sort()[0] });
    expect(warning.msg).toContain(`run \`flowql derive --data ${data}\``);

    const d = await runRederive({ storage, threads: 1 });
    expect(d.partitionsDerived).toBe(regionDays.size);
    expect([...new Set(derivedOf(await manifestOf(data), DAY1).map((f) => f.table))].sort()).toEqual([
      'edges',
      'flows_hourly',
      'handshakes',
    ]);
    const back = await bothWays(all, {}, (sc) => buildFlowSummaryQuery(sc, ALL_VALUES), 'hour');
    expect(back.fromPicked).toEqual(twice.fromRecords);
    expect(await runRederive({ storage, threads: 1 })).toMatchObject({ partitionsDerived: 0, filesWritten: 0 });
  }, 120_000);
});

describe('through GraphQL', () => {
  it('TopTalkers over whole days reads flows_hourly and says so in rowsScanned', async () => {
    const { yoga } = await testApi(data);
    const q = `{ flowTopN(filter: { timeRange: { from: "${DAY1}T00:00:00Z", to: "2024-09-06T00:00:00Z" } }, by: ADDRESS_PAIR, limit: 3) { rows { label bytes } } }`;
    const res = await gql<{ flowTopN: { rows: unknown[] } }>(yoga, q);
    const m = await manifestOf(data);
    const hourlyRows = m.files
      .filter((f) => f.table === 'flows_hourly' && f.date === DAY1)
      .reduce((n, f) => n + f.rows, 0);
    expect(hourlyRows).toBeGreaterThan(0);
    expect(res.extensions?.cost?.rowsScanned).toBe(hourlyRows);
    expect(res.data?.flowTopN.rows).toHaveLength(3);
  });
});
