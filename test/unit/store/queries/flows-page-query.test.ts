import { describe, expect, it } from 'vitest';
import { flowsPageQuery } from '../../../../src/store/queries/flows-page-query.ts';
import { decodeFlowCursor, encodeFlowCursor } from '../../../../src/store/readers/flow-reader.ts';
import { sql } from '../../../../src/store/sql.ts';

describe('flowsPageQuery', () => {
  it('selects keys by keyset first, then joins the full rows back, with every value bound', () => {
    const q = flowsPageQuery({
      files: ['/w/flows/a.parquet'],
      where: sql`action = ${'ACCEPT'}`,
      window: sql`date = ${'2024-05-01'}`,
      order: 'START_TIME_DESC',
      after: { startUs: 1714557600000000n, flowId: 42n },
      limit: 100,
    });
    expect(q.name).toBe('flows.page');
    expect(q.text).toContain(
      '  WHERE action = $2\n    AND (start_time < make_timestamp($3) OR (start_time = make_timestamp($4) AND flow_id < $5))\n  ORDER BY start_time DESC, flow_id DESC\n  LIMIT $6\n)',
    );
    expect(q.text).toContain('JOIN page_keys ON flow_id = key_flow_id AND start_time = key_start\nWHERE date = $8\nORDER BY start_time DESC, flow_id DESC');
    expect(q.params).toEqual([['/w/flows/a.parquet'], 'ACCEPT', 1714557600000000n, 1714557600000000n, 42n, 101, ['/w/flows/a.parquet'], '2024-05-01']);
  });

  it('round-trips cursors and refuses damaged ones', () => {
    const key = { startUs: 1714557600123456n, flowId: 4294967298n };
    expect(decodeFlowCursor(encodeFlowCursor('START_TIME_ASC', key), 'START_TIME_ASC')).toEqual(key);
    expect(() => decodeFlowCursor('bm90IGEgY3Vyc29y', 'START_TIME_ASC')).toThrow(/^Invalid after: expected a cursor returned by a previous page/);
  });
});
