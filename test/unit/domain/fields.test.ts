import { describe, expect, it } from 'vitest';
import { DEFAULT_FORMAT, DEFAULT_FORMAT_STRING, FIELDS, fieldByName } from '../../../src/domain/fields.ts';
import { STORED_COLUMNS } from '../../../src/domain/flow-schema.ts';

describe('field table', () => {
  it('holds the 14 default-format fields in AWS order', () => {
    expect(DEFAULT_FORMAT.join(' ')).toBe(
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
    );
    expect(DEFAULT_FORMAT_STRING.startsWith('${version} ${account-id}')).toBe(true);
  });

  it('counts 54 VPC fields (v2-v11) and 18 transit gateway fields', () => {
    expect(FIELDS.filter((f) => f.family === 'vpc')).toHaveLength(54);
    expect(FIELDS.filter((f) => f.family === 'tgw')).toHaveLength(18);
  });

  it('maps AWS names, ${} tokens and storage names to one spec', () => {
    expect(fieldByName('${pkt-srcaddr}')?.column).toBe('pkt_srcaddr');
    expect(fieldByName('pkt_srcaddr')?.graphql).toBe('pktSrcAddr');
    expect(fieldByName('end')?.column).toBe('end_time');
    expect(fieldByName('instance-tag-2')?.graphql).toBe('instanceTag2');
    expect(fieldByName('no-such-field')).toBeUndefined();
  });

  it('keeps partition columns out of the stored Parquet columns', () => {
    const names = STORED_COLUMNS.map((c) => c.column);
    expect(names).not.toContain('account_id');
    expect(names).not.toContain('region');
    expect(names).toContain('start_time');
    expect(names).toContain('flow_id');
  });
});
