import { describe, expect, it } from 'vitest';
import { objectKeyTime } from '../../../src/domain/object-key.ts';
import { backlogOrder } from '../../../src/ingest/backlog-order.ts';

const key = (acct: string, region: string, stamp: string) =>
  `AWSLogs/${acct}/vpcflowlogs/${region}/${stamp.slice(0, 4)}/${stamp.slice(4, 6)}/${stamp.slice(6, 8)}/` +
  `${acct}_vpcflowlogs_${region}_fl-0abc_${stamp}Z_f00d.log.gz`;

describe('objectKeyTime', () => {
  it('reads the minute from the file name, else the folders, else nothing', () => {
    expect(objectKeyTime(key('111111111111', 'eu-west-1', '20261201T2355'))).toBe('2026-12-01T23:55');
    expect(objectKeyTime('AWSLogs/111111111111/vpcflowlogs/eu-west-1/2026/12/01/07/custom.log.gz')).toBe(
      '2026-12-01T07',
    );
    expect(objectKeyTime('AWSLogs/111111111111/vpcflowlogs/eu-west-1/2026/12/01/custom.log.gz')).toBe('2026-12-01');
    expect(objectKeyTime('flows/sample.log')).toBeNull();
    // An impossible date in the name falls back to the folders.
    expect(
      objectKeyTime(
        'AWSLogs/111111111111/vpcflowlogs/eu-west-1/2026/12/01/' +
          '111111111111_vpcflowlogs_eu-west-1_fl-0abc_20261301T0000Z_f00d.log.gz',
      ),
    ).toBe('2026-12-01');
  });
});

describe('backlogOrder', () => {
  it('interleaves accounts by time, keeping untimed objects first in listing order', () => {
    // Key order (a listing): account by account, then day, then time.
    const listing = [
      'notes/a.log',
      key('111111111111', 'eu-west-1', '20261201T0000'),
      key('111111111111', 'eu-west-1', '20261201T0010'),
      key('111111111111', 'eu-west-1', '20261202T0000'),
      key('222222222222', 'eu-west-1', '20261201T0005'),
      key('222222222222', 'eu-west-1', '20261202T0000'),
      'notes/b.log',
    ].map((k) => ({ obj: { key: k } }));
    expect(backlogOrder(listing).map((x) => listing.indexOf(x))).toEqual([0, 6, 1, 4, 2, 3, 5]);
  });
});
