// flows_daily and the planner that combines tiers, against the records. Fixture: the generator (6000 records over
// three days, seed 11: several accounts, regions and formats, REJECTs, NODATA records without bytes) ingested with
// derivation, then `flowql compact` (runCompact), which writes a daily file per closed partition-day. Every aggregate
// shape is run over what aggregateScope picks (daily rows for whole days, hourly rows for other whole hours, records
// for partial hours) and over the flows alone; the rows must be identical, and extensions.cost names the tiers read.
// Then a late delivery: it retires its day's daily file in its own commit, and compaction writes it back.
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FlowValue, TimeInterval } from '../../src/domain/aggregate-enums.ts';
import type { FlowDimension } from '../../src/domain/flow-dimensions.ts';
import {
  FLOW_BOUNDS,
  FLOW_METRICS,
  PER_RECORD_EXTREMES,
  RATE_METRICS,
  isRateMetric,
} from '../../src/domain/aggregate-enums.ts';
import { TOP_N_KEYS, topNDimensions } from '../../src/domain/flow-dimensions.ts';
import type { FlowFilter } from '../../src/domain/flow-filter.ts';
import { runCompact } from '../../src/ingest/ingest-compact.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { importReference, readAwsIpRanges, readOwnNetworks } from '../../src/ingest/reference-import.ts';
import { aggregateScope, rateWindow } from '../../src/questions/aggregate-reader.ts';
import { datasetStatement } from '../../src/questions/dataset-statement.ts';
import { parseDatasetRequest } from '../../src/http/dataset-params.ts';
import { partitionKey, underivedPartitions, type Manifest } from '../../src/store/layout.ts';
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
import {
  AFTER,
  DAY1,
  DAY2,
  DAY3,
  filterOf,
  ingestedRollupFixture,
  manifestOf,
  rowsOf,
} from '../helpers/rollup-fixture.ts';
import { gql, testApi } from '../helpers/graphql.ts';
import { SHIPPED_IP_RANGES, SHIPPED_NETWORKS } from '../helpers/reference-fixture.ts';
import { testQueryContext } from '../helpers/query-context.ts';

const ALL_VALUES: FlowValue[] = [...FLOW_METRICS, ...FLOW_BOUNDS].filter(
  (v) => !PER_RECORD_EXTREMES.has(v) && !isRateMetric(v),
);
let root = '';
let data = '';

async function recordScope(
  ctx: QueryContext,
  filter: FlowFilter,
  names: AggregateScope['names'],
): Promise<AggregateScope> {
  const files = prunePartitions((await ctx.warehouse.manifest()).files, filter);
  const source = parquetSourceSql(files.map((f) => ctx.warehouse.absolutePath(f)));
  return { source, where: flowFilterSql(filter), ...(names ? { names } : {}) };
}

type Shape = (scope: AggregateScope, filter: FlowFilter) => SqlQuery;

/** `shape` over what aggregateScope picks and over the flows alone: both answers and the tiers the first read. */
async function bothWays(filter: FlowFilter, needs: AggregateNeeds, shape: Shape) {
  const ctx = await testQueryContext(data);
  const picked = await aggregateScope(ctx, filter, needs);
  const fromPicked = await runQuery(ctx, shape(picked, filter));
  const { tiers } = ctx.cost.snapshot();
  // The same snapshots name the records (a grouping by SRC_NETWORK, DST_AWS_SERVICE... looks names up in them).
  const fromRecords = await runQuery(ctx, shape(await recordScope(ctx, filter, picked.names), filter));
  return { fromPicked, fromRecords, tiers };
}

beforeAll(async () => {
  const fixture = await ingestedRollupFixture('flowql-daily-');
  ({ root, data } = fixture);
  const { storage } = fixture;
  // Before compaction: no daily file anywhere, and no partition counts as underived for it (the tier is optional).
  const before = await manifestOf(data);
  expect(before.files.some((f) => f.table === 'flows_daily')).toBe(false);
  expect(underivedPartitions(before.files)).toEqual([]);
  await runCompact({ storage, threads: 1 });
  const after = await manifestOf(data);
  expect(after.files.filter((f) => f.table === 'flows_daily').length).toBe(
    new Set(before.files.filter((f) => f.table === 'flows').map(partitionKey)).size,
  );
  // The shipped ip-ranges and networks, imported as a user would, name some of the generator's addresses (S3,
  // DynamoDB, RFC 5737 ranges), so the top-N by a named key has groups to compare.
  await importReference(await readAwsIpRanges(SHIPPED_IP_RANGES), { storage });
  await importReference(await readOwnNetworks(SHIPPED_NETWORKS), { storage });
}, 180_000);

describe('flows_daily', () => {
  it('has one file per flows partition, the columns of flows_hourly, and fewer rows than the hourly rows', async () => {
    const m = await manifestOf(data);
    const daily = m.files.filter((f) => f.table === 'flows_daily');
    expect(daily.map(partitionKey).sort()).toEqual(
      [...new Set(m.files.filter((f) => f.table === 'flows').map(partitionKey))].sort(),
    );
    for (const date of [DAY1, DAY2, DAY3]) {
      expect(rowsOf(m.files, 'flows_daily', date)).toBeGreaterThan(0);
      expect(rowsOf(m.files, 'flows_daily', date)).toBeLessThan(rowsOf(m.files, 'flows_hourly', date));
    }
    expect(underivedPartitions(m.files)).toEqual([]);
    const ctx = await testQueryContext(data);
    const file = ctx.warehouse.absolutePath(daily[0]!);
    const described = await runQuery(
      ctx,
      build('describe', sql`DESCRIBE SELECT * FROM read_parquet(${file}, hive_partitioning = false)`),
    );
    expect(described.map((r) => ({ column: r.column_name, type: r.column_type }))).toEqual(HOURLY_STORED_COLUMNS);
    // Every row starts at its day's midnight.
    const times = await runQuery(
      ctx,
      build('times', sql`SELECT DISTINCT start_time FROM read_parquet(${file}, hive_partitioning = false)`),
    );
    expect(times.map((r) => (r.start_time as Date).toISOString())).toEqual([`${daily[0]!.date}T00:00:00.000Z`]);
  });
});

// Windows: whole days; whole hours cut inside days; cut inside hours across midnight.
const WINDOWS: [string, string, string, string[]][] = [
  ['three whole days', `${DAY1}T00:00:00Z`, `${AFTER}T00:00:00Z`, ['flows_daily']],
  ['whole hours cut inside days', `${DAY1}T06:00:00Z`, `${DAY3}T18:00:00Z`, ['flows_daily', 'flows_hourly']],
  [
    'cut inside hours, across two midnights',
    `${DAY1}T05:17:23Z`,
    `${DAY3}T13:42:10Z`,
    ['flows_daily', 'flows_hourly', 'flows'],
  ],
];

const rated = (interval: TimeInterval) => (s: AggregateScope, f: FlowFilter) =>
  buildFlowSummaryQuery(s, [...RATE_METRICS, 'BYTES'], rateWindow(f, [...RATE_METRICS], interval));

// Each shape, what it needs, and whether daily rows may answer it (time and rate buckets of whole days).
const SHAPES: [string, AggregateNeeds, Shape, boolean][] = [
  ['summary, every value', {}, (s) => buildFlowSummaryQuery(s, ALL_VALUES), true],
  ...TOP_N_KEYS.filter((by) => by !== 'SRC_PORT' && by !== 'INSTANCE_TAG').map(
    (by): [string, AggregateNeeds, Shape, boolean] => [
      `top-N by ${by}`,
      { dimensions: topNDimensions(by), values: ALL_VALUES },
      (s) => buildFlowTopNQuery(s, { by, metric: 'BYTES', values: ALL_VALUES, limit: 1000 }),
      true,
    ],
  ),
  [
    'breakdown by account, action, destination port, flow direction',
    { dimensions: ['ACCOUNT', 'ACTION', 'DST_PORT', 'FLOW_DIRECTION'] },
    (s) =>
      buildFlowBreakdownQuery(s, {
        dimensions: ['ACCOUNT', 'ACTION', 'DST_PORT', 'FLOW_DIRECTION'],
        orderBy: 'RECORDS',
        values: ALL_VALUES,
        limit: 10_000,
      }),
    true,
  ],
  ['interface status', { dimensions: ['INTERFACE'] }, (s) => buildInterfaceStatusQuery(s, 1000), true],
  ...(['HOUR', 'DAY'] as const).map((interval): [string, AggregateNeeds, Shape, boolean] => [
    `time series by ${interval}, one series per region`,
    { interval, dimensions: ['REGION'], values: [...ALL_VALUES] },
    (s) =>
      buildFlowTimeSeriesQuery(s, {
        interval,
        values: ALL_VALUES,
        groupBy: { dimension: 'REGION', maxSeries: 10, rankBy: 'BYTES' },
      }),
    interval === 'DAY',
  ]),
  ['rate metrics over day buckets', { values: [...RATE_METRICS, 'BYTES'], rateInterval: 'DAY' }, rated('DAY'), true],
  [
    'rate metrics over hour buckets',
    { values: [...RATE_METRICS, 'BYTES'], rateInterval: 'HOUR' },
    rated('HOUR'),
    false,
  ],
];

describe('daily + hourly + records give the answers of the records', () => {
  for (const [window, from, to, tiers] of WINDOWS) {
    it.each(SHAPES)(`${window}: %s`, async (_name, needs, shape, daily) => {
      const { fromPicked, fromRecords, tiers: read } = await bothWays(filterOf({}, from, to), needs, shape);
      expect(fromRecords.length).toBeGreaterThan(0);
      expect(fromPicked).toEqual(fromRecords);
      // A shape daily rows cannot answer reads hourly rows for the days instead.
      const expected = daily ? tiers : [...new Set(tiers.map((t) => (t === 'flows_daily' ? 'flows_hourly' : t)))];
      expect(read).toEqual(expected);
    });
  }

  it('filters the daily rows as the records (REJECTs to ports 22 and 3389 in one account)', async () => {
    const m = await manifestOf(data);
    const account = m.files.find((f) => f.table === 'flows')!.accountId;
    const input = {
      accountIds: [account],
      actions: ['REJECT'],
      dstPort: [
        { from: 22, to: 22 },
        { from: 3389, to: 3389 },
      ],
    };
    const filter = filterOf(input, `${DAY1}T00:00:00Z`, `${AFTER}T00:00:00Z`);
    const r = await bothWays(filter, {}, (s) => buildFlowSummaryQuery(s, ALL_VALUES));
    expect(r.fromPicked).toEqual(r.fromRecords);
    expect(r.tiers).toEqual(['flows_daily']);
  });
});

describe('what a tier cannot answer reads what it must, and says so', () => {
  const summary: Shape = (s) => buildFlowSummaryQuery(s, ['RECORDS', 'BYTES']);
  const cases: [string, Record<string, unknown>, AggregateNeeds, Shape, string[]][] = [
    ['a source port filter', { srcPort: [{ from: 443, to: 443 }] }, {}, summary, ['flows']],
    ['five-minute buckets', {}, { interval: 'FIVE_MINUTES' }, summary, ['flows']],
    [
      'a per-record extreme (MIN_BYTES)',
      {},
      { values: ['MIN_BYTES'] },
      (s) => buildFlowSummaryQuery(s, ['MIN_BYTES']),
      ['flows'],
    ],
    ['hour buckets', {}, { interval: 'HOUR' }, summary, ['flows_hourly']],
    ['a source port grouping', {}, { dimensions: ['SRC_PORT'] as FlowDimension[] }, summary, ['flows']],
    // A tag's spans start at any time (a snapshot's as-of, a launch): an hourly row cannot say which holds.
    ['an INSTANCE_TAG grouping', {}, { dimensions: ['INSTANCE_TAG'] as FlowDimension[] }, summary, ['flows']],
  ];
  it.each(cases)('%s', async (_name, input, needs, shape, tiers) => {
    const r = await bothWays(filterOf(input, `${DAY1}T00:00:00Z`, `${AFTER}T00:00:00Z`), needs, shape);
    expect(r.fromPicked).toEqual(r.fromRecords);
    expect(r.tiers).toEqual(tiers);
  });

  it('flowSummary over whole days says flows_daily in extensions.cost, and its rows are the daily rows', async () => {
    const { yoga } = await testApi(data);
    const q = `{ flowSummary(filter: { timeRange: { from: "${DAY1}T00:00:00Z", to: "${AFTER}T00:00:00Z" } }) { records bytes } }`;
    const res = await gql<{ flowSummary: { records: string } }>(yoga, q);
    expect(res.errors).toBeUndefined();
    const m = await manifestOf(data);
    expect(res.extensions?.cost?.tiers).toEqual(['flows_daily']);
    expect(res.extensions?.cost?.rowsScanned).toBe(
      [DAY1, DAY2, DAY3].reduce((n, d) => n + rowsOf(m.files, 'flows_daily', d), 0),
    );
    expect(res.data?.flowSummary.records).toBe(
      String(rowsOf(m.files, 'flows', DAY1) + rowsOf(m.files, 'flows', DAY2) + rowsOf(m.files, 'flows', DAY3)),
    );
  });
});

describe("long windows: the tiers' bound for what they answer, the records' bound for the rest", () => {
  // 200 days ending after the fixture's last day (the data is its three days); the test API has the production
  // bounds: 31 days for records (--max-range-days), 400 for tiered aggregates (--max-tier-range-days).
  const window = (days: number) =>
    `timeRange: { from: "${new Date(Date.parse(`${AFTER}T00:00:00Z`) - days * 86_400_000).toISOString()}", to: "${AFTER}T00:00:00Z" }`;
  type Err = { message: string; extensions?: { code?: string; argument?: string } };
  const refused = (res: { errors?: Err[]; extensions?: { cost?: { filesScanned: number } } }) => {
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    // Refused before any statement ran.
    expect(res.extensions?.cost?.filesScanned).toBe(0);
    return res.errors![0]!.message;
  };

  it('a 200-day summary and top-N read the tiers', async () => {
    const { yoga } = await testApi(data);
    const res = await gql<{ flowSummary: { records: string } }>(
      yoga,
      `{ flowSummary(filter: { ${window(200)} }) { records } }`,
    );
    expect(res.errors).toBeUndefined();
    const m = await manifestOf(data);
    const all = [DAY1, DAY2, DAY3].reduce((n, d) => n + rowsOf(m.files, 'flows', d), 0);
    expect(res.data?.flowSummary.records).toBe(String(all));
    expect(res.extensions?.cost?.tiers).toEqual(['flows_daily']);
    const top = await gql(yoga, `{ flowTopN(filter: { ${window(200)} }, by: DST_PORT, limit: 3) { rows { bytes } } }`);
    expect(top.errors).toBeUndefined();
    expect(top.extensions?.cost?.tiers).toEqual(['flows_daily']);
  });

  it('a 200-day flows page is refused naming --max-range-days', async () => {
    const { yoga } = await testApi(data);
    const message = refused(await gql(yoga, `{ flows(filter: { ${window(200)} }, first: 5) { nodes { flowId } } }`));
    expect(message).toMatch(/at most 31 days \(the server's --max-range-days, FLOWQL_MAX_RANGE_DAYS\)/);
  });

  it('a 200-day summary that must read records (a srcPort filter, five-minute rates) says why and names --max-range-days', async () => {
    const { yoga } = await testApi(data);
    const bySrcPort = refused(
      await gql(yoga, `{ flowSummary(filter: { ${window(200)}, srcPort: [{ from: 443, to: 443 }] }) { records } }`),
    );
    expect(bySrcPort).toMatch(
      /^Invalid filter.timeRange: expected a window of at most 31 days \(the server's --max-range-days, FLOWQL_MAX_RANGE_DAYS\) for this question: it reads flow records because the filter field srcPort reads a column the rollups sum away/,
    );
    const series = refused(
      await gql(
        yoga,
        `{ flowTimeSeries(filter: { ${window(40)} }, interval: FIFTEEN_MINUTES) { series { points { time } } } }`,
      ),
    );
    expect(series).toMatch(/at most 31 days .*because its FIFTEEN_MINUTES time buckets are finer than an hour/);
  });

  it('a 200-day summary dataset reads the tiers; with srcPort it is refused naming --max-range-days, before running', async () => {
    const options = {
      now: new Date(`${AFTER}T00:00:00Z`),
      maxRangeMs: 31 * 86_400_000,
      maxTierRangeMs: 400 * 86_400_000,
      scopeAccountIds: null,
      maxRows: 1000,
    };
    const summary = (query: string) => {
      const req = parseDatasetRequest('summary', new URLSearchParams(query), options);
      if (req.dataset !== 'summary') throw new Error('not a summary');
      return req;
    };
    const ctx = { ...(await testQueryContext(data)), maxRecordRangeMs: 31 * 86_400_000 };
    const { query } = await datasetStatement(ctx, summary(`last=P200D&to=${AFTER}`));
    expect(ctx.cost.snapshot().tiers).toEqual(['flows_daily']);
    const [row] = await runQuery(ctx, query);
    const m = await manifestOf(data);
    expect(row?.m_records).toBe(BigInt([DAY1, DAY2, DAY3].reduce((n, d) => n + rowsOf(m.files, 'flows', d), 0)));
    const other = { ...(await testQueryContext(data)), maxRecordRangeMs: 31 * 86_400_000 };
    await expect(datasetStatement(other, summary(`last=P200D&to=${AFTER}&srcPort=443`))).rejects.toThrow(
      /at most 31 days \(the server's --max-range-days, FLOWQL_MAX_RANGE_DAYS\) for this question: it reads flow records because the filter field srcPort/,
    );
    expect(other.cost.snapshot().filesScanned).toBe(0);
  });

  it('a 500-day summary is refused naming --max-tier-range-days', async () => {
    const { yoga } = await testApi(data);
    const message = refused(await gql(yoga, `{ flowSummary(filter: { ${window(500)} }) { records } }`));
    expect(message).toMatch(
      /at most 400 days \(the server's --max-tier-range-days, FLOWQL_MAX_TIER_RANGE_DAYS, for aggregates the rollup tiers answer\)/,
    );
  });
});

describe('a late delivery', () => {
  it('retires the daily file of its partition in its own commit; flowql compact writes it back', async () => {
    // A copy of a generated object of DAY2 under a new name: a new object to the ingester, its records twice.
    const objects: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(dir, e.name));
        else if (e.name.endsWith('.log.gz') && dir.includes('/2024/09/06')) objects.push(join(dir, e.name));
      }
    };
    await walk(join(root, 'gen', 'AWSLogs'));
    const original = objects.sort()[0]!;
    const extra = join(root, 'extra', original.slice(join(root, 'gen').length + 1));
    await mkdir(join(extra, '..'), { recursive: true });
    await copyFile(original, extra.replace(/\.log\.gz$/, '-late.log.gz'));
    const before = await manifestOf(data);
    const storage = await createLocalWarehouseStorage(data);
    const s = await runIngest({ sources: [join(root, 'extra', 'AWSLogs')], storage, threads: 1 });
    expect(s.objects.loaded).toBe(1);

    const after = await manifestOf(data);
    expect(after.generation).toBe(before.generation + 1);
    const changed = after.files.find((f) => f.table === 'flows' && !before.files.some((b) => b.path === f.path))!;
    const dailyOf = (m: Manifest) =>
      m.files
        .filter((f) => f.table === 'flows_daily')
        .map(partitionKey)
        .sort();
    // Only the changed partition lost its daily file; every other partition keeps its own.
    expect(dailyOf(after)).toEqual(dailyOf(before).filter((p) => p !== partitionKey(changed)));
    expect(after.files.some((f) => f.table === 'flows_hourly' && partitionKey(f) === partitionKey(changed))).toBe(true);
    expect(underivedPartitions(after.files)).toEqual([]);

    // Exact, reading the changed day from hourly rows (one partition of it has no daily file) and the others daily.
    const whole = filterOf({}, `${DAY1}T00:00:00Z`, `${AFTER}T00:00:00Z`);
    const top: Shape = (sc) =>
      buildFlowTopNQuery(sc, { by: 'ADDRESS_PAIR', metric: 'BYTES', values: ALL_VALUES, limit: 1000 });
    const late = await bothWays(whole, { dimensions: ['SRC_ADDR', 'DST_ADDR'] }, top);
    expect(late.fromPicked).toEqual(late.fromRecords);
    expect(late.tiers).toEqual(['flows_daily', 'flows_hourly']);
    const ofDay2 = await bothWays(filterOf({}, `${DAY2}T00:00:00Z`, `${DAY3}T00:00:00Z`), {}, (sc) =>
      buildFlowSummaryQuery(sc, ['RECORDS']),
    );
    expect(ofDay2.tiers).toEqual(['flows_hourly']);
    expect(ofDay2.fromPicked).toEqual([{ m_records: BigInt(rowsOf(after.files, 'flows', DAY2)) }]);

    // Compaction writes the day's flows_daily file back (and the edge rollups the delivery retired).
    await runCompact({ storage, threads: 1 });
    expect(dailyOf(await manifestOf(data))).toEqual(dailyOf(before));
    const back = await bothWays(whole, { dimensions: ['SRC_ADDR', 'DST_ADDR'] }, top);
    expect(back.tiers).toEqual(['flows_daily']);
    expect(back.fromPicked).toEqual(late.fromRecords);
    expect((await runCompact({ storage, threads: 1 })).dailyWritten).toBe(0);
  }, 180_000);
});
