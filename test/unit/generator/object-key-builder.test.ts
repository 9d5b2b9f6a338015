import { describe, expect, it } from 'vitest';
import { parseObjectKey } from '../../../src/domain/object-key.ts';
import { FORMAT_FIELDS, headerLine } from '../../../src/generator/flow-log-formats.ts';
import { buildObjectKey } from '../../../src/generator/object-key-builder.ts';
import type { FlowLogDef, KeyLayout } from '../../../src/generator/topology.ts';

const def = (layout: KeyLayout, fileFormat: 'text' | 'parquet' = 'text'): FlowLogDef => ({
  id: 'fl-0a1b2c3d',
  accountId: '012345678901',
  region: 'eu-west-1',
  vpcId: 'vpc-1',
  formatName: 'v2-default',
  fields: FORMAT_FIELDS['v2-default'],
  version: 2,
  fileFormat,
  layout,
});
const WINDOW = Date.parse('2024-09-05T07:05:00Z') / 1000;

describe('buildObjectKey', () => {
  it('writes the three S3 layouts with zero-padded dates and the 5-minute timestamp', () => {
    const name = /^012345678901_vpcflowlogs_eu-west-1_fl-0a1b2c3d_20240905T0705Z_[0-9a-f]{8}\.log\.gz$/;
    const plain = buildObjectKey(def('default'), WINDOW, 1);
    expect(plain.split('/').slice(0, -1).join('/')).toBe('AWSLogs/012345678901/vpcflowlogs/eu-west-1/2024/09/05');
    expect(plain.split('/').at(-1)).toMatch(name);
    expect(buildObjectKey(def('hive'), WINDOW, 1).split('/').slice(0, -1).join('/')).toBe(
      'AWSLogs/aws-account-id=012345678901/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=09/day=05',
    );
    expect(buildObjectKey(def('hive-hourly'), WINDOW, 1)).toContain('/day=05/hour=07/012345678901_vpcflowlogs_');
    expect(buildObjectKey(def('default', 'parquet'), WINDOW, 1)).toMatch(/_20240905T0705Z_[0-9a-f]{8}\.log\.parquet$/);
  });

  it('produces keys the key parser reads back (account with its leading zero, region, date, hour, flow log)', () => {
    for (const layout of ['default', 'hive', 'hive-hourly'] as const) {
      expect(parseObjectKey(buildObjectKey(def(layout), WINDOW, 1))).toEqual({
        accountId: '012345678901',
        region: 'eu-west-1',
        date: '2024-09-05',
        hour: 7,
        flowLogId: 'fl-0a1b2c3d',
        format: 'gzip',
      });
    }
  });

  it('derives the hash from seed, flow log and window, so names repeat for a seed and differ across seeds', () => {
    expect(buildObjectKey(def('default'), WINDOW, 1)).toBe(buildObjectKey(def('default'), WINDOW, 1));
    expect(buildObjectKey(def('default'), WINDOW, 1)).not.toBe(buildObjectKey(def('default'), WINDOW, 2));
  });
});

describe('format headers', () => {
  it('are the default v2 header, the alphabetical v3 list and the 29 documented v5 fields', () => {
    expect(headerLine(FORMAT_FIELDS['v2-default'])).toBe(
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
    );
    expect(headerLine(FORMAT_FIELDS['v3-alphabetical'])).toBe(
      'account-id action bytes dstaddr dstport end instance-id interface-id log-status packets pkt-dstaddr pkt-srcaddr ' +
        'protocol srcaddr srcport start subnet-id tcp-flags type version vpc-id',
    );
    expect(FORMAT_FIELDS['v5-full']).toHaveLength(29);
    expect(headerLine(FORMAT_FIELDS['v5-full'])).toBe(
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status ' +
        'vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id ' +
        'pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path',
    );
  });
});
