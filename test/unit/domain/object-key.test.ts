import { describe, expect, it } from 'vitest';
import { dayFolder, dayFolderOf, otherServiceLog, parseObjectKey } from '../../../src/domain/object-key.ts';

describe('parseObjectKey', () => {
  it('reads the plain layout and the AWS file name (flow-logs.md §5.2 example)', () => {
    expect(
      parseObjectKey(
        'my-logs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz',
      ),
    ).toEqual({
      accountId: '123456789012',
      region: 'us-east-1',
      date: '2018-06-20',
      hour: 16,
      flowLogId: 'fl-1234abcd',
      format: 'gzip',
    });
  });

  it('reads the Hive + hourly layout from folders alone when the file name is not AWS-shaped', () => {
    expect(
      parseObjectKey(
        'AWSLogs/aws-account-id=098765432109/aws-service=vpcflowlogs/aws-region=eu-west-3/year=2024/month=09/day=05/hour=07/x.log.parquet',
      ),
    ).toEqual({
      accountId: '098765432109',
      region: 'eu-west-3',
      date: '2024-09-05',
      hour: 7,
      flowLogId: null,
      format: 'parquet',
    });
  });

  it('reads the plain hourly layout', () => {
    const info = parseObjectKey('p/AWSLogs/111122223333/vpcflowlogs/ap-south-1/2021/04/01/23/data.log');
    expect([info.accountId, info.region, info.date, info.hour, info.format]).toEqual([
      '111122223333',
      'ap-south-1',
      '2021-04-01',
      23,
      'text',
    ]);
  });

  it('prefers the file name over folders (records near midnight sit in the next day folder)', () => {
    const info = parseObjectKey(
      'AWSLogs/111122223333/vpcflowlogs/us-west-2/2024/01/02/111122223333_vpcflowlogs_us-west-2_fl-0abc_20240101T2355Z_abcdef12.log.gz',
    );
    expect([info.date, info.hour]).toEqual(['2024-01-01', 23]);
  });

  it('gives nulls for keys outside the AWS layouts and rejects impossible dates', () => {
    expect(parseObjectKey('/tmp/flows/sample.bin')).toEqual({
      accountId: null,
      region: null,
      date: null,
      hour: null,
      flowLogId: null,
      format: null,
    });
    expect(parseObjectKey('AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/02/30/f.log.gz').date).toBeNull();
  });
});

describe('dayFolderOf, dayFolder, otherServiceLog', () => {
  it("finds a flow log's day folders in both layouts, under any prefix, and names another day's folder", () => {
    const plain = dayFolderOf(
      'p/q/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/16/123456789012_vpcflowlogs_us-east-1_fl-1_20180620T1620Z_fe.log.gz',
    );
    expect(plain).toEqual({
      folders: { stem: 'p/q/AWSLogs/123456789012/vpcflowlogs/us-east-1/', style: 'plain' },
      date: '2018-06-20',
    });
    expect(dayFolder(plain!.folders, '2026-01-09')).toBe('p/q/AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/01/09/');
    const hive = dayFolderOf(
      'AWSLogs/aws-account-id=098765432109/aws-service=vpcflowlogs/aws-region=eu-west-3/year=2024/month=09/day=05/hour=07/x.log.parquet',
    );
    expect(hive).toEqual({
      folders: {
        stem: 'AWSLogs/aws-account-id=098765432109/aws-service=vpcflowlogs/aws-region=eu-west-3/',
        style: 'hive',
      },
      date: '2024-09-05',
    });
    expect(dayFolder(hive!.folders, '2026-12-31')).toBe(
      'AWSLogs/aws-account-id=098765432109/aws-service=vpcflowlogs/aws-region=eu-west-3/year=2026/month=12/day=31/',
    );
    // Not in a day folder: a region folder's own file, a loose download, folders that only look like a day.
    expect(dayFolderOf('AWSLogs/123456789012/vpcflowlogs/us-east-1/readme.txt')).toBeNull();
    expect(dayFolderOf('downloads/123456789012_vpcflowlogs_us-east-1_fl-1_20180620T1620Z_fe.log.gz')).toBeNull();
    expect(dayFolderOf('AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/6/20/x.log.gz')).toBeNull();
    expect(dayFolderOf('AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/02/30/x.log.gz')).toBeNull();
  });

  it("tells other AWS services' logs (never flow logs) from flow logs and from anything else", () => {
    expect(otherServiceLog('AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/02/x.json.gz')).toBe(true);
    expect(otherServiceLog('b/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/01/02/x.json.gz')).toBe(true);
    expect(otherServiceLog('AWSLogs/aws-account-id=123456789012/aws-service=elasticloadbalancing/x.log.gz')).toBe(true);
    expect(otherServiceLog('AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/02/x.log.gz')).toBe(false);
    expect(otherServiceLog('AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=x/a.log')).toBe(
      false,
    );
    expect(otherServiceLog('AWSLogs/notanaccount/CloudTrail/x.json.gz')).toBe(false);
    expect(otherServiceLog('downloads/CloudTrail/x.json.gz')).toBe(false);
  });
});
