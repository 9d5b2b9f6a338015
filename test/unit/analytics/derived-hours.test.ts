// flows_daily beside the tables derived at ingest: a --no-derive commit retires it with the other derived files of the
// partitions it changes (and only theirs), and a partition without it is not "underived" (the tier is optional).
import { describe, expect, it } from 'vitest';
import { scopeOfTable, staleDerivedFiles } from '../../../src/analytics/derived-hours.ts';
import { underivedPartitions, type ManifestFile, type TableName } from '../../../src/store/layout.ts';

const file = (table: TableName, date: string, region = 'eu-west-1'): ManifestFile => ({
  path: `${table}/account_id=111122223333/region=${region}/date=${date}/part-x.parquet`,
  table,
  accountId: '111122223333',
  region,
  date,
  rows: 1,
  bytes: 1,
});

describe('flows_daily', () => {
  it('is a per-partition table, like flows_hourly', () => {
    expect(scopeOfTable('flows_daily')).toBe('partition');
  });

  it('goes stale with the partition a --no-derive commit changes, not in other regions', () => {
    const files = [
      file('flows', '2024-09-05'),
      file('flows_hourly', '2024-09-05'),
      file('flows_daily', '2024-09-05'),
      file('flows', '2024-09-05', 'us-east-1'),
      file('flows_daily', '2024-09-05', 'us-east-1'),
      file('flows_daily', '2024-09-20'),
    ];
    const changed = [
      { partition: { accountId: '111122223333', region: 'eu-west-1', date: '2024-09-05' }, starts: 'all' as const },
    ];
    expect(staleDerivedFiles(files, changed).map((f) => f.path)).toEqual([files[1]!.path, files[2]!.path]);
  });

  it('is optional: a derived partition without it is not listed as underived, one without flows_hourly is', () => {
    const derived = (['flows', 'handshakes', 'edges', 'flows_hourly'] as const).map((t) => file(t, '2024-09-05'));
    expect(underivedPartitions(derived)).toEqual([]);
    const noHourly = [...derived.filter((f) => f.table !== 'flows_hourly'), file('flows_daily', '2024-09-05')];
    expect(underivedPartitions(noHourly)).toEqual(['111122223333/eu-west-1/2024-09-05']);
  });
});
