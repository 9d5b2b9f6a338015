import { describe, expect, it } from 'vitest';
import { parseObjectKey } from '../../../src/domain/object-key.ts';

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
