import { describe, expect, it } from 'vitest';
import { DIMENSION_COLUMN } from '../../../../src/domain/flow-dimensions.ts';
import { validateFlowFilter } from '../../../../src/domain/flow-filter.ts';
import {
  HOURLY_KEY_COLUMNS,
  hourlyGrainAnswers,
  recordsReason,
  splitAtWholeHours,
} from '../../../../src/store/queries/flows-hourly-query.ts';

const range = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });
const iso = (r: { from: Date; to: Date }) => [r.from.toISOString(), r.to.toISOString()];

describe('splitAtWholeHours', () => {
  it('keeps a window of whole hours whole', () => {
    const s = splitAtWholeHours(range('2024-09-05T00:00:00Z', '2024-09-06T00:00:00Z'))!;
    expect(iso(s.wholeHours)).toEqual(['2024-09-05T00:00:00.000Z', '2024-09-06T00:00:00.000Z']);
    expect(s.partialHours).toEqual([]);
  });

  it('cuts the partial first and last hours off a "last 24 hours" window', () => {
    const s = splitAtWholeHours(range('2024-09-05T05:17:23.500Z', '2024-09-06T05:17:23.500Z'))!;
    expect(iso(s.wholeHours)).toEqual(['2024-09-05T06:00:00.000Z', '2024-09-06T05:00:00.000Z']);
    expect(s.partialHours.map(iso)).toEqual([
      ['2024-09-05T05:17:23.500Z', '2024-09-05T06:00:00.000Z'],
      ['2024-09-06T05:00:00.000Z', '2024-09-06T05:17:23.500Z'],
    ]);
  });

  it('has nothing to offer a window without a whole hour, even one longer than an hour', () => {
    expect(splitAtWholeHours(range('2024-09-05T05:10:00Z', '2024-09-05T05:50:00Z'))).toBeNull();
    expect(splitAtWholeHours(range('2024-09-05T05:30:00Z', '2024-09-05T06:40:00Z'))).toBeNull();
    expect(splitAtWholeHours(range('2024-09-05T05:30:00Z', '2024-09-05T07:00:00Z'))!.partialHours.map(iso)).toEqual([
      ['2024-09-05T05:30:00.000Z', '2024-09-05T06:00:00.000Z'],
    ]);
  });
});

describe('hourlyGrainAnswers', () => {
  const f = (input: Record<string, unknown>) =>
    validateFlowFilter({ timeRange: { from: '2024-09-05T00:00:00Z', to: '2024-09-06T00:00:00Z' }, ...input });
  const port = [{ from: 22, to: 22 }];

  it('answers filters on columns the hourly rows keep', () => {
    const kept = f({
      accountIds: ['111122223333'],
      actions: ['REJECT'],
      dstPort: port,
      notDstPort: port,
      srcAddr: ['10.0.0.0/8'],
      notAddr: ['192.0.2.0/24'],
      protocols: [6],
      notProtocols: [17],
      logStatuses: ['OK'],
      flowDirections: ['ingress'],
      instanceIds: ['i-0123456789abcdef0'],
      interfaceIds: ['eni-0123456789abcdef0'],
      vpcIds: ['vpc-0123456789abcdef0'],
      subnetIds: ['subnet-0123456789abcdef0'],
      trafficPaths: [1],
    });
    expect(
      hourlyGrainAnswers(kept, { dimensions: ['DST_PORT', 'SRC_ADDR', 'PKT_DST_AWS_SERVICE'], interval: 'SIX_HOURS' }),
    ).toBe(true);
  });

  it('answers groupings by network and AWS service: the rows keep the addresses and pkt-*-aws-service they read', () => {
    const named = ['SRC_NETWORK', 'DST_NETWORK', 'SRC_AWS_SERVICE', 'DST_AWS_SERVICE'] as const;
    expect(recordsReason(f({ networks: ['office-paris'] }), { dimensions: [...named], interval: 'HOUR' })).toBeNull();
    expect(recordsReason(f({}), { dimensions: ['DST_NETWORK', 'SRC_PORT'] })).toBe(
      'it groups by SRC_PORT, which the rollups do not keep',
    );
  });

  it('refuses what reads the source port, the TCP flags or times finer than an hour', () => {
    expect(hourlyGrainAnswers(f({ srcPort: port }), {})).toBe(false);
    expect(hourlyGrainAnswers(f({ notSrcPort: port }), {})).toBe(false);
    expect(hourlyGrainAnswers(f({ port }), {})).toBe(false);
    expect(hourlyGrainAnswers(f({ notPorts: port }), {})).toBe(false);
    expect(hourlyGrainAnswers(f({ tcpFlags: { any: ['SYN'] } }), {})).toBe(false);
    expect(hourlyGrainAnswers(f({}), { dimensions: ['SRC_PORT'] })).toBe(false);
    expect(hourlyGrainAnswers(f({}), { interval: 'FIFTEEN_MINUTES' })).toBe(false);
  });

  it('keeps every dimension column but the source port (the partition columns come from the path)', () => {
    expect([...HOURLY_KEY_COLUMNS].sort()).toEqual([
      'action',
      'az_id',
      'dstaddr',
      'dstport',
      'flow_direction',
      'instance_id',
      'interface_id',
      'log_status',
      'pkt_dst_aws_service',
      'pkt_dstaddr',
      'pkt_src_aws_service',
      'pkt_srcaddr',
      'protocol',
      'srcaddr',
      'subnet_id',
      'traffic_path',
      'type',
      'vpc_id',
    ]);
    expect(
      Object.values(DIMENSION_COLUMN)
        .filter((c) => !HOURLY_KEY_COLUMNS.includes(c))
        .sort(),
    ).toEqual(['account_id', 'date', 'region', 'srcport']);
  });
});
