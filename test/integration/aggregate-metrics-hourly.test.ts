// The metrics of issue 11.3 over a real warehouse (the generator: 6000 records over two days, seed 11, ingested with
// derivation, as flows-hourly.test.ts): where flows_hourly answers (averages, destination ports, rates over whole-hour
// buckets, having) its answer equals the records'; where it cannot (extremes, five-minute rates) aggregateScope reads
// the records; and the numbers equal hand-written DuckDB SQL over the flows files, on windows cut inside hours.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rateBucketCount, type FlowValue, type TimeInterval } from '../../src/domain/aggregate-enums.ts';
import { validateFlowFilter, type FlowFilter } from '../../src/domain/flow-filter.ts';
import { checkMetricBounds } from '../../src/domain/metric-bound.ts';
import { generateDataset } from '../../src/generator/generate-dataset.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { aggregateScope, rateWindow } from '../../src/questions/aggregate-reader.ts';
import type { AggregateScope } from '../../src/store/queries/aggregate-expressions.ts';
import { buildFlowBreakdownQuery } from '../../src/store/queries/flow-breakdown-query.ts';
import { flowFilterSql, prunePartitions } from '../../src/store/queries/flow-filter-query.ts';
import { buildFlowSummaryQuery } from '../../src/store/queries/flow-summary-query.ts';
import { buildFlowTopNQuery } from '../../src/store/queries/flow-top-n-query.ts';
import { parquetSourceSql } from '../../src/store/queries/parquet-source-query.ts';
import { runQuery, type QueryContext } from '../../src/store/query-runner.ts';
import { build, raw, sql, type SqlQuery } from '../../src/store/sql.ts';
import { testQueryContext } from '../helpers/query-context.ts';

const DAY1 = '2024-09-05';
const filterOf = (from: string, to: string, input: Record<string, unknown> = {}): FlowFilter =>
  validateFlowFilter({ timeRange: { from, to }, ...input });

let data = '';

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'flowql-metrics-'));
  await generateDataset({ outDir: join(root, 'gen'), records: 6000, days: 2, seed: 11, start: DAY1 });
  data = join(root, 'data');
  const s = await runIngest({
    sources: [join(root, 'gen', 'AWSLogs')],
    storage: await createLocalWarehouseStorage(data),
    threads: 1,
  });
  expect([s.rejects, s.objects.failed]).toEqual([0, 0]);
}, 120_000);

/** The flows files of the filter's range as a relation, for the record-grain answer and hand-written SQL. */
async function flowsSource(ctx: QueryContext, filter: FlowFilter) {
  const files = prunePartitions((await ctx.warehouse.manifest()).files, filter);
  return parquetSourceSql(files.map((f) => ctx.warehouse.absolutePath(f)));
}

type Shape = (scope: AggregateScope) => SqlQuery;

/** `shape` over what aggregateScope picks for `values` (expected `grain`) and over the flows: both answers. */
async function bothWays(filter: FlowFilter, values: FlowValue[], rateInterval: TimeInterval, shape: Shape) {
  const ctx = await testQueryContext(data);
  const rate = rateWindow(filter, values, rateInterval);
  const picked = await aggregateScope(ctx, filter, { values, rateInterval: rate?.interval, dimensions: [] });
  const fromPicked = await runQuery(ctx, shape(picked));
  const fromRecords = await runQuery(
    ctx,
    shape({ source: await flowsSource(ctx, filter), where: flowFilterSql(filter) }),
  );
  return { grain: picked.grain ?? 'record', fromPicked, fromRecords };
}

const WINDOWS: [string, string, string][] = [
  ['two whole days', `${DAY1}T00:00:00Z`, '2024-09-07T00:00:00Z'],
  ['cut inside hours, across midnight', `${DAY1}T05:17:23Z`, '2024-09-06T13:42:10Z'],
];

describe('flows_hourly answers averages, destination ports, whole-hour rates and having as the records do', () => {
  const hourly: FlowValue[] = ['RECORDS', 'AVG_BYTES', 'AVG_PACKETS', 'DISTINCT_DST_PORTS'];
  const rates: FlowValue[] = ['PEAK_BITS_PER_SECOND', 'P95_BITS_PER_SECOND', 'P95_PACKETS_PER_SECOND'];
  for (const [name, from, to] of WINDOWS) {
    it(`${name}: summary with HOUR rates`, async () => {
      const filter = filterOf(from, to);
      const values = [...hourly, ...rates];
      const rate = rateWindow(filter, values, 'HOUR');
      const r = await bothWays(filter, values, 'HOUR', (s) => buildFlowSummaryQuery(s, values, rate));
      expect(r.grain).toBe('hour');
      expect(r.fromPicked).toEqual(r.fromRecords);
      const row = r.fromPicked[0]!;
      expect(row.m_p95_bits_per_second).toBeGreaterThan(0);
      expect(row.m_avg_bytes).toBeGreaterThan(0);
    });

    it(`${name}: fan-out top-N and a breakdown with having on an average and a rate`, async () => {
      const filter = filterOf(from, to);
      const topValues: FlowValue[] = ['DISTINCT_DST_PORTS', 'AVG_BYTES', 'PEAK_PACKETS_PER_SECOND'];
      const rate = rateWindow(filter, topValues, 'SIX_HOURS');
      const top = await bothWays(filter, topValues, 'SIX_HOURS', (s) =>
        buildFlowTopNQuery(s, { by: 'SRC_ADDR', metric: 'DISTINCT_DST_PORTS', values: topValues, limit: 15, rate }),
      );
      expect(top.grain).toBe('hour');
      expect(top.fromPicked).toEqual(top.fromRecords);
      const having = checkMetricBounds('having', [
        { metric: 'AVG_BYTES', min: 500 },
        { metric: 'PEAK_BITS_PER_SECOND', max: 1e6 },
      ]);
      const values: FlowValue[] = ['BYTES', 'AVG_BYTES', 'PEAK_BITS_PER_SECOND'];
      const hourRate = rateWindow(filter, values, 'HOUR');
      const breakdown = await bothWays(filter, values, 'HOUR', (s) =>
        buildFlowBreakdownQuery(s, {
          dimensions: ['ACCOUNT', 'DST_PORT'],
          orderBy: 'BYTES',
          values,
          limit: 500,
          having,
          rate: hourRate,
        }),
      );
      expect(breakdown.grain).toBe('hour');
      expect(breakdown.fromRecords.length).toBeGreaterThan(0);
      expect(breakdown.fromPicked).toEqual(breakdown.fromRecords);
      for (const row of breakdown.fromPicked) {
        expect(row.m_avg_bytes as number).toBeGreaterThanOrEqual(500);
        expect(row.m_peak_bits_per_second as number).toBeLessThanOrEqual(1e6);
      }
    });
  }
});

describe('what hourly rows cannot answer reads the records', () => {
  it.each([
    ['MIN_BYTES', ['MIN_BYTES'], 'HOUR'],
    ['MAX_PACKETS', ['RECORDS', 'MAX_PACKETS'], 'HOUR'],
    ['a five-minute rate', ['P95_BITS_PER_SECOND'], 'FIVE_MINUTES'],
  ] as [string, FlowValue[], TimeInterval][])('%s', async (_name, values, rateInterval) => {
    const filter = filterOf(`${DAY1}T00:00:00Z`, '2024-09-07T00:00:00Z');
    const rate = rateWindow(filter, values, rateInterval);
    const r = await bothWays(filter, values, rateInterval, (s) => buildFlowSummaryQuery(s, values, rate));
    expect(r.grain).toBe('record');
    expect(r.fromPicked).toEqual(r.fromRecords);
  });
});

describe('against hand-written DuckDB SQL over the flows files', () => {
  it('min, max and average over a window cut inside an hour', async () => {
    const [from, to] = [`${DAY1}T05:17:23Z`, `${DAY1}T09:42:10Z`];
    const filter = filterOf(from, to);
    const ctx = await testQueryContext(data);
    const values: FlowValue[] = ['MIN_BYTES', 'MAX_BYTES', 'AVG_BYTES', 'MIN_PACKETS', 'AVG_PACKETS'];
    const [row] = await runQuery(ctx, buildFlowSummaryQuery(await aggregateScope(ctx, filter, { values }), values));
    const [hand] = await runQuery(
      ctx,
      build(
        'hand',
        sql`SELECT min(bytes) AS mi, max(bytes) AS ma, avg(bytes) AS a, min(packets) AS mp, avg(packets) AS ap
            FROM ${await flowsSource(ctx, filter)} WHERE start_time >= ${new Date(from)} AND start_time < ${new Date(to)}`,
      ),
    );
    expect([row!.m_min_bytes, row!.m_max_bytes, row!.m_min_packets]).toEqual([hand!.mi, hand!.ma, hand!.mp]);
    expect(row!.m_avg_bytes as number).toBeCloseTo(hand!.a as number, 9);
    expect(row!.m_avg_packets as number).toBeCloseTo(hand!.ap as number, 9);
    // The smallest record of the window is not a whole hour's sum: an hourly row would have given more.
    expect(row!.m_min_bytes as bigint).toBeLessThan(row!.m_max_bytes as bigint);
  });

  it('average over hourly rows: sum of bytes over the records carrying them, as avg(bytes) over the records', async () => {
    const filter = filterOf(`${DAY1}T00:00:00Z`, '2024-09-07T00:00:00Z', { actions: ['ACCEPT'] });
    const ctx = await testQueryContext(data);
    const scope = await aggregateScope(ctx, filter, { values: ['AVG_BYTES'] });
    expect(scope.grain).toBe('hour');
    const [row] = await runQuery(ctx, buildFlowSummaryQuery(scope, ['AVG_BYTES', 'RECORDS']));
    const [hand] = await runQuery(
      ctx,
      build(
        'hand',
        sql`SELECT avg(bytes) AS a, count(*) AS n FROM ${await flowsSource(ctx, filter)}
            WHERE action = 'ACCEPT' AND start_time >= ${filter.timeRange.from} AND start_time < ${filter.timeRange.to}`,
      ),
    );
    expect(row!.m_records).toBe(hand!.n);
    expect(row!.m_avg_bytes as number).toBeCloseTo(hand!.a as number, 9);
  });

  it.each([
    [
      'HOUR over a window cut inside hours (hourly rows + records)',
      'HOUR',
      `${DAY1}T05:17:23Z`,
      '2024-09-06T13:42:10Z',
    ],
    ['FIFTEEN_MINUTES over a day', 'FIFTEEN_MINUTES', `${DAY1}T00:00:00Z`, '2024-09-06T00:00:00Z'],
  ] as [string, TimeInterval, string, string][])(
    'peak and p95 per REJECT destination port, every bucket zero-filled: %s',
    async (_name, interval, from, to) => {
      const filter = filterOf(from, to, { actions: ['REJECT'] });
      const ctx = await testQueryContext(data);
      const values: FlowValue[] = ['PEAK_BITS_PER_SECOND', 'P95_BITS_PER_SECOND', 'P95_PACKETS_PER_SECOND'];
      const rate = rateWindow(filter, values, interval)!;
      expect(rate.buckets).toBe(rateBucketCount(filter.timeRange, interval));
      const scope = await aggregateScope(ctx, filter, { values, rateInterval: interval, dimensions: ['DST_PORT'] });
      const got = await runQuery(
        ctx,
        buildFlowBreakdownQuery(scope, {
          dimensions: ['DST_PORT'],
          orderBy: 'PEAK_BITS_PER_SECOND',
          values,
          limit: 1000,
          rate,
        }),
      );
      const seconds = interval === 'HOUR' ? 3600 : 900;
      const width = raw(`INTERVAL '${seconds} seconds'`);
      const hand = await runQuery(
        ctx,
        build(
          'hand',
          sql`WITH buckets AS (SELECT unnest(generate_series(time_bucket(${width}, ${filter.timeRange.from}),
                  ${filter.timeRange.to} - INTERVAL '1 microsecond', ${width})) AS bucket),
                ports AS (SELECT DISTINCT dstport FROM ${await flowsSource(ctx, filter)}
                  WHERE action = 'REJECT' AND start_time >= ${filter.timeRange.from} AND start_time < ${filter.timeRange.to}),
                traffic AS (SELECT dstport, time_bucket(${width}, start_time) AS bucket, sum(bytes) AS bytes, sum(packets) AS packets
                  FROM ${await flowsSource(ctx, filter)}
                  WHERE action = 'REJECT' AND start_time >= ${filter.timeRange.from} AND start_time < ${filter.timeRange.to}
                  GROUP BY ALL),
                rates AS (SELECT p.dstport, coalesce(t.bytes, 0) * 8 / ${seconds} AS bps, coalesce(t.packets, 0) / ${seconds} AS pps
                  FROM ports p CROSS JOIN buckets b LEFT JOIN traffic t ON t.dstport IS NOT DISTINCT FROM p.dstport AND t.bucket = b.bucket)
              SELECT dstport, count(*) AS n, max(bps) AS peak, quantile_disc(bps, 0.95) AS p95, quantile_disc(pps, 0.95) AS p95p
              FROM rates GROUP BY dstport ORDER BY peak DESC, dstport ASC NULLS LAST`,
        ),
      );
      expect(hand.every((h) => Number(h.n) === rate.buckets)).toBe(true);
      expect(
        got.map((r) => [r.k_dstport, r.m_peak_bits_per_second, r.m_p95_bits_per_second, r.m_p95_packets_per_second]),
      ).toEqual(hand.map((h) => [h.dstport, h.peak, h.p95, h.p95p]));
      // Rejects are rare: over 96 quarter hours a port rejected in fewer than 5 of them has a p95 of 0 (the zero
      // buckets count), while over the 33 hours of the cut window (p95 is the 2nd largest) they are not 0.
      const p95s = got.map((r) => r.m_p95_bits_per_second as number);
      expect(interval === 'HOUR' ? p95s.some((p) => p > 0) : p95s.some((p) => p === 0)).toBe(true);
      if (interval === 'HOUR') expect(scope.grain).toBe('hour');
    },
  );
});
