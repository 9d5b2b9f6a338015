// flows_daily beside the tables derived at ingest: a --no-derive commit retires it with the other derived files of the
// partitions it changes (and only theirs), and a partition without it is not "underived" (the tier is optional).
import { describe, expect, it } from 'vitest';
import { planTable, scopeOfTable, staleDerivedFiles } from '../../../src/analytics/derived-hours.ts';
import { runFiles } from '../../../src/analytics/derived-run-writer.ts';
import { underivedPartitions, type ManifestFile, type TableName } from '../../../src/store/layout.ts';

const file = (table: TableName, date: string, region = 'eu-west-1', name = 'part-x'): ManifestFile => ({
  path: `${table}/account_id=111122223333/region=${region}/date=${date}/${name}.parquet`,
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

describe('derived files of several hours', () => {
  const edges = { table: 'edges' as const, contextMs: 1_800_000 };
  const change = (from: string, to: string) => ({
    partition: { accountId: '111122223333', region: 'eu-west-1', date: from.slice(0, 10) },
    starts: [{ from: new Date(from), to: new Date(to) }],
  });

  it('a change inside a file of hours 0-23 re-derives the hours it reaches and carries the others', () => {
    const flows = [file('flows', '2024-09-05')];
    const merged = file('edges', '2024-09-05', 'eu-west-1', 'part-derived-h00-h23-a');
    // A record at 10:40 reaches hours 10 and 11 (its widened span ends at 11:10), not 9.
    const plan = planTable(edges, flows, [merged], [change('2024-09-05T10:40:00Z', '2024-09-05T10:40:01Z')]);
    expect([...plan.hours.values()].map((p) => [...p.hours].sort((a, b) => a - b))).toEqual([[10, 11]]);
    expect(plan.retired).toEqual([merged]);
    expect(plan.carried).toEqual([
      {
        file: merged,
        keep: [
          [0, 9],
          [12, 23],
        ],
      },
    ]);
  });

  it('a file whose every hour is re-derived is retired without carrying; files of other hours are kept', () => {
    const flows = [file('flows', '2024-09-05')];
    const h10 = file('edges', '2024-09-05', 'eu-west-1', 'part-derived-h10-h11-a');
    const later = file('edges', '2024-09-05', 'eu-west-1', 'part-derived-h12-h23-b');
    const plan = planTable(edges, flows, [h10, later], [change('2024-09-05T10:40:00Z', '2024-09-05T10:40:01Z')]);
    expect(plan.retired).toEqual([h10]);
    expect(plan.carried).toEqual([]);
  });

  const hour = (iso: string) => Date.parse(iso) / 3_600_000;
  it('a run writes one file per day and stretch of planned hours, and a file per hour from openFrom on', () => {
    const [d5h3, d5h4, d5h9, d5h22, d5h23, d6h0] = [
      '2024-09-05T03:00:00Z',
      '2024-09-05T04:00:00Z',
      '2024-09-05T09:00:00Z',
      '2024-09-05T22:00:00Z',
      '2024-09-05T23:00:00Z',
      '2024-09-06T00:00:00Z',
    ].map(hour) as [number, number, number, number, number, number];
    const places = [d5h3, d5h4, d5h9, d5h22, d5h23, d6h0].map((u) => [u, 'eu-west-1'] as const);
    // Hours 3 to 23 planned, except 6 (a file carried from before holds it): 3-4 and 9 cannot share a file.
    const planned = new Set([...Array(21).keys()].map((i) => d5h3 + i).filter((h) => h !== d5h3 + 3));
    planned.add(d6h0);
    const files = runFiles([...places, [d5h4, 'us-east-1']], planned, d5h23);
    expect(files.map((f) => `${f.region} ${f.date} ${f.first - d5h3}-${f.last - d5h3}`)).toEqual([
      'eu-west-1 2024-09-05 0-1',
      'eu-west-1 2024-09-05 6-19',
      'eu-west-1 2024-09-05 20-20',
      'eu-west-1 2024-09-06 21-21',
      'us-east-1 2024-09-05 1-1',
    ]);
  });
});
