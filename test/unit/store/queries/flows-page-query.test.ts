import { describe, expect, it } from 'vitest';
import { flowsPageQuery } from '../../../../src/store/queries/flows-page-query.ts';
import { decodeFlowCursor, encodeFlowCursor } from '../../../../src/questions/flow-reader.ts';
import { sql } from '../../../../src/store/sql.ts';

describe('flowsPageQuery', () => {
  it('is one top-N statement over the selected columns, with the cursor time repeated as a prunable range', () => {
    const q = flowsPageQuery({
      files: ['/w/flows/a.parquet'],
      where: sql`action = ${'ACCEPT'}`,
      order: 'START_TIME_DESC',
      after: { startUs: 1714557600000000n, flowId: 42n },
      limit: 100,
      columns: ['srcaddr', 'start_time', 'srcaddr'],
    });
    expect(q.name).toBe('flows.page');
    expect(q.text).toBe(
      'SELECT srcaddr, start_time, flow_id, epoch_us(start_time) AS cursor_start_us\n' +
        "FROM read_parquet($1, hive_partitioning = true, hive_types = {'account_id': VARCHAR, 'region': VARCHAR, 'date': DATE})\n" +
        'WHERE action = $2\n' +
        '  AND start_time <= make_timestamp($3)\n' +
        '  AND (start_time < make_timestamp($4) OR (start_time = make_timestamp($5) AND flow_id < $6))\n' +
        'ORDER BY start_time DESC, flow_id DESC\n' +
        'LIMIT $7',
    );
    expect(q.params).toEqual([
      ['/w/flows/a.parquet'],
      'ACCEPT',
      1714557600000000n,
      1714557600000000n,
      1714557600000000n,
      42n,
      101,
    ]);
  });

  it('reads every stored and partition column when no list is given, and has no keyset on the first page', () => {
    const q = flowsPageQuery({ files: [], where: sql`TRUE`, order: 'START_TIME_ASC', after: null, limit: 9 });
    expect(q.text).toMatch(
      /^SELECT version, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start_time, end_time, /,
    );
    expect(q.text).toContain(
      ', flow_id, source_id, source_line, source_account_id, extra, account_id, region, date, epoch_us(start_time)',
    );
    expect(q.text).toContain('\nWHERE TRUE\nORDER BY start_time ASC, flow_id ASC\nLIMIT $1');
    expect(q.params).toEqual([10]);
  });

  it('refuses a column outside the allow-list', () => {
    expect(() =>
      flowsPageQuery({
        files: [],
        where: sql`TRUE`,
        order: 'START_TIME_ASC',
        after: null,
        limit: 1,
        columns: ['srcaddr; DROP'],
      }),
    ).toThrow('identifier not allowed: srcaddr; DROP');
  });

  it('round-trips cursors and refuses damaged ones', () => {
    const key = { startUs: 1714557600123456n, flowId: 4294967298n };
    expect(decodeFlowCursor(encodeFlowCursor('START_TIME_ASC', key), 'START_TIME_ASC')).toEqual(key);
    expect(() => decodeFlowCursor('bm90IGEgY3Vyc29y', 'START_TIME_ASC')).toThrow(
      /^Invalid after: expected a cursor returned by a previous page/,
    );
  });
});
