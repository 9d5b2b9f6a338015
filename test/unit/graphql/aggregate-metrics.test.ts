// The aggregate metrics of issue 11.3 and `having` through GraphQL, on the hand-audited aggregate fixture
// (test/fixtures/aggregate-flows.ts): field types (Float averages and rates, BigInt extremes), the ranked value of a
// Float metric, and the errors naming `having[i]` and `rateInterval`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFixtureWarehouse } from '../../helpers/warehouse-fixture.ts';
import { gql, gqlData, testApi } from '../../helpers/graphql.ts';
import { AGGREGATE_FIXTURE } from '../../fixtures/aggregate-flows.ts';

let root = '';
let api: Awaited<ReturnType<typeof testApi>>;
const ok = (query: string) => gqlData(api.yoga, query);
const run = (query: string) => gql(api.yoga, query);
const WINDOW = '{ timeRange: { from: "2024-03-01T00:00:00Z", to: "2024-03-03T00:00:00Z" } }';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-agg-metrics-'));
  await writeFixtureWarehouse(root, AGGREGATE_FIXTURE);
  api = await testApi(root);
});
afterAll(async () => {
  api?.db.closeSync();
  await rm(root, { recursive: true, force: true });
});

describe('new metrics', () => {
  it('summary: averages and rates as Float, extremes as BigInt strings, destination ports as Int', async () => {
    const data = await ok(`{ flowSummary(filter: ${WINDOW}) {
      avgBytes minBytes maxBytes avgPackets minPackets maxPackets distinctDstPorts
      peakBitsPerSecond p95BitsPerSecond peakPacketsPerSecond p95PacketsPerSecond } }`);
    expect(data.flowSummary).toEqual({
      avgBytes: 76532 / 9, // nine records carry bytes
      minBytes: '40',
      maxBytes: '64000',
      avgPackets: 167 / 9,
      minPackets: '1',
      maxPackets: '100',
      distinctDstPorts: 6,
      peakBitsPerSecond: (64000 * 8) / 300, // FIVE_MINUTES by default
      p95BitsPerSecond: 0, // 6 of 576 buckets have traffic
      peakPacketsPerSecond: 100 / 300,
      p95PacketsPerSecond: 0,
    });
  });

  it('rateInterval: HOUR buckets over 10:00-12:00 (2 buckets: p95 is the larger)', async () => {
    const data =
      await ok(`{ flowSummary(filter: { timeRange: { from: "2024-03-01T10:00:00Z", to: "2024-03-01T12:00:00Z" } },
      rateInterval: HOUR) { bytes peakBitsPerSecond p95BitsPerSecond } }`);
    expect(data.flowSummary).toEqual({
      bytes: '12232',
      peakBitsPerSecond: (12040 * 8) / 3600,
      p95BitsPerSecond: (12040 * 8) / 3600,
    });
  });

  it('fan-out: sources ranked by distinct destination ports; a Float metric ranks with floatValue', async () => {
    const data = await ok(`{
      fanOut: flowTopN(filter: ${WINDOW}, by: SRC_ADDR, metric: DISTINCT_DST_PORTS, limit: 1) {
        rows { label value floatValue distinctDstPorts } }
      avg: flowBreakdown(filter: ${WINDOW}, dimensions: [INTERFACE], orderBy: AVG_BYTES, limit: 2) {
        rows { label value floatValue avgBytes } } }`);
    expect(data).toEqual({
      fanOut: { rows: [{ label: '203.0.113.9', value: '2', floatValue: 2, distinctDstPorts: 2 }] },
      avg: {
        rows: [
          { label: 'eni-0000000d', value: null, floatValue: 64000, avgBytes: 64000 },
          { label: 'eni-0000000a', value: null, floatValue: 3000, avgBytes: 3000 },
        ],
      },
    });
  });
});

describe('having', () => {
  it('keeps the groups within every bound, inclusive, on metrics not selected', async () => {
    const data = await ok(`{ flowTopN(filter: ${WINDOW}, by: ADDRESS_PAIR,
        having: [{ metric: BYTES, min: 300, max: 10000 }, { metric: RECORDS, max: 2 }]) { rows { label value } } }`);
    expect(data.flowTopN).toEqual({
      rows: [
        { label: '10.0.0.2 -> 10.0.0.1', value: '10000' },
        { label: '10.0.0.1 -> 10.0.0.2', value: '2000' },
        { label: '10.2.0.1 -> 10.0.0.2', value: '300' },
      ],
    });
  });

  it('names the bound in errors, before any SQL', async () => {
    const none = await run(`{ flowTopN(filter: ${WINDOW}, by: SRC_ADDR, having: [{ metric: BYTES }]) { truncated } }`);
    expect(none.errors?.[0]).toMatchObject({
      message: 'Invalid having[0]: expected a min, a max or both',
      extensions: { code: 'BAD_USER_INPUT', argument: 'having[0]' },
    });
    const crossed = await run(`{ flowBreakdown(filter: ${WINDOW}, dimensions: [VPC],
        having: [{ metric: RECORDS, min: 1 }, { metric: BYTES, min: 5, max: 1 }]) { truncated } }`);
    expect(crossed.errors?.[0]).toMatchObject({
      message: 'Invalid having[1].max: expected a number at least min (5), found 1',
      extensions: { code: 'BAD_USER_INPUT', argument: 'having[1].max' },
    });
    expect(crossed.extensions?.cost).toMatchObject({ filesScanned: 0 });
  });
});

describe('rate limits and where rates exist', () => {
  it('refuses more rate buckets than maxBuckets naming rateInterval, only when a rate is asked for', async () => {
    const eightDays = '{ timeRange: { from: "2024-03-01T00:00:00Z", to: "2024-03-09T00:00:00Z" } }';
    const body = await run(`{ flowSummary(filter: ${eightDays}, rateInterval: MINUTE) { peakBitsPerSecond } }`);
    expect(body.errors?.[0]).toMatchObject({
      message:
        'Invalid rateInterval: expected at most 10000 rate buckets over the time range (MINUTE gives 11520; use FIVE_MINUTES or a shorter range)',
      extensions: { code: 'BAD_USER_INPUT', argument: 'rateInterval' },
    });
    expect((await ok(`{ flowSummary(filter: ${eightDays}, rateInterval: MINUTE) { records } }`)).flowSummary).toEqual({
      records: '11',
    });
  });

  it('has no rate fields on a time point, and refuses ranking series by a rate', async () => {
    const point = await run(`{ flowTimeSeries(filter: ${WINDOW}) { series { points { peakBitsPerSecond } } } }`);
    expect(point.errors?.[0]?.message).toBe('Cannot query field "peakBitsPerSecond" on type "FlowTimePoint".');
    const rank = await run(
      `{ flowTimeSeries(filter: ${WINDOW}, groupBy: ACTION, rankBy: P95_BITS_PER_SECOND) { interval } }`,
    );
    expect(rank.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'rankBy' });
  });
});
