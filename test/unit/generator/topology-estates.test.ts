import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/generator/prng.ts';
import { buildTopology, type EstateShape } from '../../../src/generator/topology.ts';

const from = Date.parse('2024-09-05T00:00:00Z') / 1000;
const flowLogs = (shape: EstateShape) =>
  buildTopology(createPrng(1).fork('topology'), from, from + 86_400, shape).flowLogs.map((f) => ({
    account: f.accountId,
    region: f.region,
    format: f.formatName,
    file: f.fileFormat,
    layout: f.layout,
  }));

describe('estate shapes', () => {
  it('single-v5: one v5 text flow log in eu-west-1, default layout', () => {
    expect(flowLogs('single-v5')).toEqual([
      { account: '210987654321', region: 'eu-west-1', format: 'v5-full', file: 'text', layout: 'default' },
    ]);
  });

  it('accounts-v5: every text VPC of the mixed estate (3 accounts, 3 regions), each logging v5 text in the default layout', () => {
    const mixedText = flowLogs('mixed').filter((f) => f.file === 'text');
    const v5 = flowLogs('accounts-v5');
    expect(v5).toHaveLength(6);
    expect(v5.map((f) => [f.account, f.region])).toEqual(mixedText.map((f) => [f.account, f.region]));
    expect(new Set(v5.map((f) => f.account)).size).toBe(3);
    expect(new Set(v5.map((f) => f.region))).toEqual(new Set(['us-east-1', 'eu-west-1', 'us-west-2']));
    expect(v5.every((f) => f.format === 'v5-full' && f.file === 'text' && f.layout === 'default')).toBe(true);
  });
});
