import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFixtureWarehouse } from '../../helpers/warehouse-fixture.ts';
import { gql, gqlData, testApi } from '../../helpers/graphql.ts';
import { AGGREGATE_FIXTURE, FIXTURE_INTERFACE_STATUS } from '../../fixtures/aggregate-flows.ts';

// The aggregate fixture (11 records) lands in 3 partitions, one file each:
//   012345678901/us-east-1/2024-03-01: 1 record; 111111111111/us-east-1/2024-03-01: 8; 222222222222/eu-west-1/2024-03-02: 2.
let root = '';
let api: Awaited<ReturnType<typeof testApi>>;
const ok = (query: string) => gqlData<Record<string, unknown>>(api.yoga, query);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-datasets-'));
  api = await testApi(root);
});
afterAll(async () => {
  api?.db.closeSync();
  await rm(root, { recursive: true, force: true });
});

describe('coverage on an empty warehouse', () => {
  it('has no datasets and generation 0', async () => {
    expect(await ok('{ datasets { table } ingestStatus { generation objects lastIngestAt } }')).toEqual({
      datasets: [],
      ingestStatus: { generation: 0, objects: 0, lastIngestAt: null },
    });
  });
});

describe('coverage after data arrives (no restart)', () => {
  beforeAll(async () => {
    await writeFixtureWarehouse(root, AGGREGATE_FIXTURE);
  });

  it('summarises the flows table', async () => {
    const data = await ok('{ datasets { table accountIds regions firstDate lastDate partitionCount files records } }');
    expect(data.datasets).toEqual([
      {
        table: 'FLOWS',
        accountIds: ['012345678901', '111111111111', '222222222222'],
        regions: ['eu-west-1', 'us-east-1'],
        firstDate: '2024-03-01',
        lastDate: '2024-03-02',
        partitionCount: 3,
        files: 3,
        records: '11',
      },
    ]);
  });

  it('lists partitions newest first, filtered and capped', async () => {
    const all = await ok('{ partitions { totalCount truncated nodes { accountId region date files records } } }');
    expect(all.partitions).toEqual({
      totalCount: 3,
      truncated: false,
      nodes: [
        { accountId: '222222222222', region: 'eu-west-1', date: '2024-03-02', files: 1, records: '2' },
        { accountId: '012345678901', region: 'us-east-1', date: '2024-03-01', files: 1, records: '1' },
        { accountId: '111111111111', region: 'us-east-1', date: '2024-03-01', files: 1, records: '8' },
      ],
    });
    const some = await ok(
      '{ partitions(regions: ["us-east-1"], toDate: "2024-03-01", first: 1) { totalCount truncated nodes { accountId } } }',
    );
    expect(some.partitions).toEqual({ totalCount: 2, truncated: true, nodes: [{ accountId: '012345678901' }] });
  });

  it('rejects a malformed date argument by name', async () => {
    const body = await gql(api.yoga, '{ partitions(fromDate: "03/01/2024") { totalCount } }');
    expect(body.errors?.[0]).toMatchObject({
      message: 'Invalid fromDate: expected a date YYYY-MM-DD, found "03/01/2024"',
      extensions: { code: 'BAD_USER_INPUT', argument: 'fromDate' },
    });
  });

  it('reports NODATA and SKIPDATA per interface', async () => {
    const data =
      await ok(`{ interfaceStatus(filter: { timeRange: { from: "2024-03-01", to: "2024-03-03" } }, limit: 3) {
      truncated rows { accountId interfaceId records okRecords nodataRecords skipdataRecords } } }`);
    expect(data.interfaceStatus).toEqual({
      truncated: true,
      rows: FIXTURE_INTERFACE_STATUS.slice(0, 3).map(([accountId, interfaceId, records, ok, nodata, skipdata]) => ({
        accountId,
        interfaceId,
        records: String(records),
        okRecords: String(ok),
        nodataRecords: String(nodata),
        skipdataRecords: String(skipdata),
      })),
    });
  });
});
