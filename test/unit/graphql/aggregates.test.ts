import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFixtureWarehouse } from '../../helpers/warehouse-fixture.ts';
import { gql, gqlData, testApi } from '../../helpers/graphql.ts';
import {
  AGGREGATE_FIXTURE,
  FIXTURE_BREAKDOWN_ACCOUNT_ACTION,
  FIXTURE_HOURLY,
  FIXTURE_HOURLY_BY_INTERFACE_TOP2,
  FIXTURE_TOP_DST_PORTS_BY_RECORDS,
  FIXTURE_TOP_PAIRS_BY_BYTES,
  FIXTURE_TOTALS,
} from '../../fixtures/aggregate-flows.ts';

let root = '';
let api: Awaited<ReturnType<typeof testApi>>;
const ok = (query: string) => gqlData(api.yoga, query);
const run = (query: string) => gql(api.yoga, query);
const WINDOW = '{ timeRange: { from: "2024-03-01T00:00:00Z", to: "2024-03-03T00:00:00Z" } }';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-agg-api-'));
  await writeFixtureWarehouse(root, AGGREGATE_FIXTURE);
  api = await testApi(root);
});
afterAll(async () => {
  api?.db.closeSync();
  await rm(root, { recursive: true, force: true });
});

describe('flowSummary', () => {
  it('returns every value, 64-bit counts as decimal strings', async () => {
    const data = await ok(`{ flowSummary(filter: ${WINDOW}) {
      from to records bytes packets acceptedRecords rejectedRecords nodataRecords skipdataRecords
      distinctSrcAddrs distinctDstAddrs distinctInterfaces firstSeen lastSeen } }`);
    expect(data.flowSummary).toEqual({
      from: '2024-03-01T00:00:00.000Z',
      to: '2024-03-03T00:00:00.000Z',
      records: '11',
      bytes: '76532',
      packets: '167',
      acceptedRecords: '6',
      rejectedRecords: '3',
      nodataRecords: '1',
      skipdataRecords: '1',
      distinctSrcAddrs: 6,
      distinctDstAddrs: 3,
      distinctInterfaces: 5,
      firstSeen: FIXTURE_TOTALS.firstSeen,
      lastSeen: FIXTURE_TOTALS.lastSeen,
    });
  });

  it('runs one statement for the selected fields, and none when only the window is selected', async () => {
    const one = await run(`{ flowSummary(filter: ${WINDOW}) { records ...F } } fragment F on FlowAggregate { bytes }`);
    expect(one.data).toEqual({ flowSummary: { records: '11', bytes: '76532' } });
    expect(one.extensions?.cost).toMatchObject({ rowsReturned: 1, filesScanned: 3 });
    const none = await run(`{ flowSummary(filter: ${WINDOW}) { from } }`);
    expect(none.extensions?.cost).toMatchObject({ rowsReturned: 0, filesScanned: 0 });
  });

  it('applies the filter (rejected traffic of one account)', async () => {
    const data = await ok(
      `{ flowSummary(filter: { timeRange: { from: "2024-03-01", to: "2024-03-03" }, accountIds: ["111111111111"], actions: [REJECT] }) { records bytes distinctSrcAddrs } }`,
    );
    expect(data.flowSummary).toEqual({ records: '2', bytes: '80', distinctSrcAddrs: 1 });
  });
});

describe('flowTopN', () => {
  it('ranks address pairs by bytes with labels and the ranked value', async () => {
    const data = await ok(`{ flowTopN(filter: ${WINDOW}, by: ADDRESS_PAIR, metric: BYTES, limit: 3) {
      by metric truncated rows { label value records key { srcAddr dstAddr dstPort } } } }`);
    expect(data.flowTopN).toEqual({
      by: 'ADDRESS_PAIR',
      metric: 'BYTES',
      truncated: true,
      rows: FIXTURE_TOP_PAIRS_BY_BYTES.slice(0, 3).map((p) => ({
        label: `${p.src} -> ${p.dst}`,
        value: String(p.bytes),
        records: String(p.records),
        key: { srcAddr: p.src, dstAddr: p.dst, dstPort: null },
      })),
    });
  });

  it('ranks destination ports by records, with default limit 10 and no truncation', async () => {
    const data = await ok(
      `{ flowTopN(filter: ${WINDOW}, by: DST_PORT, metric: RECORDS) { truncated rows { key { dstPort } value } } }`,
    );
    expect(data.flowTopN).toEqual({
      truncated: false,
      rows: FIXTURE_TOP_DST_PORTS_BY_RECORDS.map(([port, n]) => ({ key: { dstPort: port }, value: String(n) })),
    });
  });

  it('names protocols in the key', async () => {
    const data = await ok(
      `{ flowTopN(filter: ${WINDOW}, by: PROTOCOL, metric: PACKETS) { rows { key { protocol protocolName } packets } } }`,
    );
    expect(data.flowTopN).toEqual({
      rows: [
        { key: { protocol: 6, protocolName: 'TCP' }, packets: '165' },
        { key: { protocol: 17, protocolName: 'UDP' }, packets: '2' },
      ],
    });
  });
});

describe('flowBreakdown', () => {
  it('groups by account and action, NODATA/SKIPDATA as a null action', async () => {
    const data = await ok(`{ flowBreakdown(filter: ${WINDOW}, dimensions: [ACCOUNT, ACTION], orderBy: RECORDS) {
      dimensions orderBy truncated rows { key { accountId action } records bytes label } } }`);
    expect(data.flowBreakdown).toEqual({
      dimensions: ['ACCOUNT', 'ACTION'],
      orderBy: 'RECORDS',
      truncated: false,
      rows: FIXTURE_BREAKDOWN_ACCOUNT_ACTION.map(([accountId, action, records, bytes]) => ({
        key: { accountId, action },
        records: String(records),
        bytes: String(bytes),
        label: `${accountId} / ${action ?? '(none)'}`,
      })),
    });
  });
});

describe('flowTimeSeries', () => {
  it('returns one unkeyed series of hourly buckets', async () => {
    const data = await ok(
      `{ flowTimeSeries(filter: ${WINDOW}) { interval groupBy series { label points { time records bytes } } } }`,
    );
    expect(data.flowTimeSeries).toEqual({
      interval: 'HOUR',
      groupBy: null,
      series: [
        {
          label: 'all',
          points: FIXTURE_HOURLY.map(([time, records, bytes]) => ({
            time,
            records: String(records),
            bytes: String(bytes),
          })),
        },
      ],
    });
  });

  it('splits into the largest series of a dimension', async () => {
    const data = await ok(`{ flowTimeSeries(filter: ${WINDOW}, interval: HOUR, groupBy: INTERFACE, maxSeries: 2) {
      series { key { interfaceId } points { time records bytes } } } }`);
    const flat = (
      data.flowTimeSeries as {
        series: { key: { interfaceId: string }; points: { time: string; records: string; bytes: string }[] }[];
      }
    ).series.flatMap((s) => s.points.map((p) => [s.key.interfaceId, p.time, Number(p.records), Number(p.bytes)]));
    expect(flat).toEqual(FIXTURE_HOURLY_BY_INTERFACE_TOP2);
  });
});

describe('argument errors (before any SQL)', () => {
  it('rejects an unknown enum value with GraphQL validation', async () => {
    const body = await run(`{ flowTopN(filter: ${WINDOW}, by: TALKERS) { truncated } }`);
    expect(body.errors?.[0]?.message).toBe('Value "TALKERS" does not exist in "FlowTopNKey" enum.');
  });

  it('names the argument and the expected range for a limit out of range', async () => {
    const body = await run(`{ flowTopN(filter: ${WINDOW}, by: SRC_ADDR, limit: 0) { truncated } }`);
    expect(body.errors?.[0]).toMatchObject({
      message: 'Invalid limit: expected an integer from 1 to 1000, found 0',
      extensions: { code: 'BAD_USER_INPUT', argument: 'limit' },
    });
    expect(body.extensions?.cost).toMatchObject({ rowsReturned: 0, filesScanned: 0 });
  });

  it('refuses a repeated breakdown dimension and too many dimensions', async () => {
    const repeated = await run(`{ flowBreakdown(filter: ${WINDOW}, dimensions: [VPC, VPC]) { truncated } }`);
    expect(repeated.errors?.[0]?.message).toBe('Invalid dimensions[1]: expected each dimension once, found "VPC"');
    const many = await run(
      `{ flowBreakdown(filter: ${WINDOW}, dimensions: [VPC, SUBNET, AZ, REGION, ACTION]) { truncated } }`,
    );
    expect(many.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'dimensions',
      expected: '1 to 4 dimensions',
    });
  });

  it('refuses too many buckets, suggesting an interval that fits', async () => {
    const body = await run(
      `{ flowTimeSeries(filter: { timeRange: { from: "2024-03-01", to: "2024-03-31" } }, interval: MINUTE) { interval } }`,
    );
    expect(body.errors?.[0]?.message).toBe(
      'Invalid interval: expected at most 10000 buckets over the time range (MINUTE gives 43200; use FIVE_MINUTES or a shorter range)',
    );
  });

  it('refuses to rank series by a distinct count', async () => {
    const body = await run(
      `{ flowTimeSeries(filter: ${WINDOW}, groupBy: VPC, rankBy: DISTINCT_SRC_ADDRS) { interval } }`,
    );
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'rankBy' });
  });

  it('reports a bad filter with its path', async () => {
    const body = await run(`{ flowSummary(filter: { timeRange: { from: "yesterday" } }) { records } }`);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.timeRange.from' });
  });
});
