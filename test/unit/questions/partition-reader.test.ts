import { describe, expect, it } from 'vitest';
import type { Manifest, ManifestFile } from '../../../src/store/layout.ts';
import { listPartitions, newestFlowDate, summarizeDatasets } from '../../../src/questions/partition-reader.ts';

const file = (
  table: ManifestFile['table'],
  accountId: string,
  region: string,
  date: string,
  rows: number,
  bytes: number,
): ManifestFile => ({
  path: `${table}/account_id=${accountId}/region=${region}/date=${date}/part-${rows}.parquet`,
  table,
  accountId,
  region,
  date,
  rows,
  bytes,
});

// "Two accounts over two days": 5 flow files in 3 partitions, plus one handshakes file.
const manifest: Manifest = {
  formatVersion: 1,
  generation: 7,
  updatedAt: '2024-03-03T00:00:00.000Z',
  files: [
    file('flows', '012345678901', 'us-east-1', '2024-03-01', 100, 2000),
    file('flows', '012345678901', 'us-east-1', '2024-03-01', 50, 1000),
    file('flows', '012345678901', 'us-east-1', '2024-03-02', 10, 300),
    file('flows', '222222222222', 'eu-west-1', '2024-03-02', 7, 250),
    file('flows', '222222222222', 'eu-west-1', '2024-03-02', 3, 150),
    file('handshakes', '012345678901', 'us-east-1', '2024-03-01', 4, 90),
  ],
  ingest: { objects: 9, records: 170, rejects: 2, lastIngestAt: '2024-03-03T00:00:00.000Z' },
};

describe('partition reader (from the manifest)', () => {
  it('sums files, records and bytes per partition, newest date first then account', () => {
    expect(listPartitions(manifest)).toEqual([
      {
        table: 'flows',
        accountId: '012345678901',
        region: 'us-east-1',
        date: '2024-03-02',
        files: 1,
        records: 10,
        bytes: 300,
      },
      {
        table: 'flows',
        accountId: '222222222222',
        region: 'eu-west-1',
        date: '2024-03-02',
        files: 2,
        records: 10,
        bytes: 400,
      },
      {
        table: 'flows',
        accountId: '012345678901',
        region: 'us-east-1',
        date: '2024-03-01',
        files: 2,
        records: 150,
        bytes: 3000,
      },
    ]);
  });

  it('filters by account, region and an inclusive date range', () => {
    expect(
      listPartitions(manifest, { accountIds: ['012345678901'], fromDate: '2024-03-02', toDate: '2024-03-02' }),
    ).toHaveLength(1);
    expect(listPartitions(manifest, { regions: ['eu-west-1'] }).map((p) => p.records)).toEqual([10]);
    expect(listPartitions(manifest, { toDate: '2024-02-29' })).toEqual([]);
    expect(listPartitions(manifest, { table: 'handshakes' }).map((p) => [p.date, p.records])).toEqual([
      ['2024-03-01', 4],
    ]);
  });

  it('summarises each table that has files', () => {
    expect(summarizeDatasets(manifest)).toEqual([
      {
        table: 'flows',
        accountIds: ['012345678901', '222222222222'],
        regions: ['eu-west-1', 'us-east-1'],
        firstDate: '2024-03-01',
        lastDate: '2024-03-02',
        partitions: 3,
        files: 5,
        records: 170,
        bytes: 3700,
        snapshot: null,
      },
      {
        table: 'handshakes',
        accountIds: ['012345678901'],
        regions: ['us-east-1'],
        firstDate: '2024-03-01',
        lastDate: '2024-03-01',
        partitions: 1,
        files: 1,
        records: 4,
        bytes: 90,
        snapshot: null,
      },
    ]);
  });

  it('finds the newest flow date, null when empty', () => {
    expect(newestFlowDate(manifest)).toBe('2024-03-02');
    expect(newestFlowDate({ ...manifest, files: [] })).toBeNull();
  });
});
