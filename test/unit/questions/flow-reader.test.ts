/**
 * The flows page reader on real Parquet with several row groups (DuckDB's smallest, 2,048 rows), through the
 * locked-down API instance.
 * Fixture: one partition (111111111111, us-east-1, 2024-05-01), one file of 10,000 records sorted as the ingester
 * sorts (start_time, interface_id, srcaddr), so 5 row groups. Record i (0..9999) starts at 00:00 + floor(i / 10)
 * minutes: 10 records share each minute, and within a minute flow_id runs against file order
 * (flow_id = 10 * floor(i / 10) + 10 - i % 10), so the tie-breaker is really exercised. dstport is 22 only for
 * i % 1000 = 7 (10 sparse records, one per 100 minutes, flow_ids 3, 1003, ..., 9003), 443 otherwise.
 * Expected ascending order: flow_ids 1..10,000 in numeric order (minute m holds 10m+1..10m+10).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORED_COLUMNS } from '../../../src/domain/flow-schema.ts';
import { validateFlowFilter } from '../../../src/domain/flow-filter.ts';
import { openApiDatabase } from '../../../src/store/duckdb.ts';
import { EMPTY_MANIFEST, type Manifest } from '../../../src/store/layout.ts';
import { flowFilterSql } from '../../../src/store/queries/flow-filter-query.ts';
import type { FlowOrder } from '../../../src/domain/flow-order.ts';
import { flowsPageQuery } from '../../../src/store/queries/flows-page-query.ts';
import type { QueryContext } from '../../../src/store/query-runner.ts';
import { runQuery } from '../../../src/store/query-runner.ts';
import { createFlowReader, decodeFlowCursor } from '../../../src/questions/flow-reader.ts';
import { testQueryContext } from '../../helpers/query-context.ts';

const PATH = 'flows/account_id=111111111111/region=us-east-1/date=2024-05-01/part-fixture.parquet';
const DAY = { from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' };
let root: string;
let ctx: QueryContext;

async function writeFixture(): Promise<void> {
  const generated: Record<string, string> = {
    version: '2',
    interface_id: "'eni-0123456789abcdef0'",
    srcaddr: "printf('10.0.%d.%d', (i // 250) % 250, i % 250)",
    dstaddr: "'10.9.9.9'",
    dstport: 'CASE WHEN i % 1000 = 7 THEN 22 ELSE 443 END',
    protocol: '6',
    start_time: "TIMESTAMP '2024-05-01' + to_minutes(i // 10)",
    action: "'ACCEPT'",
    log_status: "'OK'",
    flow_id: '10 * (i // 10) + 10 - i % 10',
    source_id: '1',
    source_line: 'i + 2',
  };
  const select = STORED_COLUMNS.map((c) => `CAST(${generated[c.column] ?? 'NULL'} AS ${c.type}) AS ${c.column}`);
  await mkdir(join(root, PATH, '..'), { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (SELECT ${select.join(', ')} FROM range(10000) r(i) ORDER BY start_time, interface_id, srcaddr)
    TO '${join(root, PATH)}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)`);
  const groups = await c.runAndReadAll(
    `SELECT count(*) AS n FROM parquet_metadata('${join(root, PATH)}') WHERE path_in_schema = 'flow_id'`,
  );
  expect(groups.getRowObjectsJS()).toEqual([{ n: 5n }]);
  c.closeSync();
  db.closeSync();
  const manifest: Manifest = {
    ...EMPTY_MANIFEST,
    generation: 1,
    files: [
      {
        path: PATH,
        table: 'flows',
        accountId: '111111111111',
        region: 'us-east-1',
        date: '2024-05-01',
        rows: 10000,
        bytes: 1,
      },
    ],
  };
  await mkdir(join(root, '_flowql'), { recursive: true });
  await writeFile(join(root, '_flowql', 'manifest.json'), JSON.stringify(manifest));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-flow-reader-'));
  await writeFixture();
  ctx = await testQueryContext(root, { db: await openApiDatabase({ warehouseRoot: root, threads: 2 }) });
});
afterAll(async () => {
  ctx.db.closeSync();
  await rm(root, { recursive: true, force: true });
});

/** Every flow_id of a filter, page by page; also the page count. */
async function pageAll(filter: Record<string, unknown>, order: FlowOrder, first: number) {
  const reader = createFlowReader(ctx);
  const f = validateFlowFilter({ timeRange: DAY, ...filter });
  const ids: number[] = [];
  const sizes: number[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await reader.page(f, { first, after, order, columns: ['dstport'] });
    ids.push(...page.edges.map((e) => Number(e.node.flow_id)));
    sizes.push(page.edges.length);
    if (!page.hasNextPage) return { ids, sizes };
    after = page.endCursor;
  }
}

const ascending = Array.from({ length: 10000 }, (_, i) => i + 1);

describe('flow pages over several row groups', () => {
  it('pages ascending in (start_time, flow_id) order across row groups, without repeats or gaps', async () => {
    const { ids, sizes } = await pageAll({}, 'START_TIME_ASC', 300);
    expect(sizes).toEqual([...Array<number>(33).fill(300), 100]);
    expect(ids).toEqual(ascending);
  });

  it('pages descending, the last page ending exactly at the first record', async () => {
    const { ids, sizes } = await pageAll({}, 'START_TIME_DESC', 1000);
    expect(sizes).toEqual(Array<number>(10).fill(1000));
    expect(ids).toEqual([...ascending].reverse());
  });

  it('finds a sparse filter one record per 100 minutes, in both orders', async () => {
    const sparse = [3, 1003, 2003, 3003, 4003, 5003, 6003, 7003, 8003, 9003];
    const asc = await pageAll({ dstPort: [{ from: 22 }] }, 'START_TIME_ASC', 4);
    expect(asc).toEqual({ ids: sparse, sizes: [4, 4, 2] });
    const desc = await pageAll({ dstPort: [{ from: 22 }] }, 'START_TIME_DESC', 3);
    expect(desc).toEqual({ ids: [...sparse].reverse(), sizes: [3, 3, 3, 1] });
  });

  it('returns only the asked columns plus flow_id and the cursor time, and cursors carry the exact key', async () => {
    const f = validateFlowFilter({ timeRange: { from: '2024-05-01T10:00:00Z', to: DAY.to } });
    const page = await createFlowReader(ctx).page(f, {
      first: 2,
      after: null,
      order: 'START_TIME_ASC',
      columns: ['srcaddr'],
    });
    expect(page.edges.map((e) => e.node)).toEqual([
      // i = 6009 and 6008: the last two records of minute 600 in file order, the first two by flow_id.
      { srcaddr: '10.0.24.9', flow_id: 6001n, cursor_start_us: 1714557600000000n },
      { srcaddr: '10.0.24.8', flow_id: 6002n, cursor_start_us: 1714557600000000n },
    ]);
    expect(decodeFlowCursor(page.endCursor as string, 'START_TIME_ASC')).toEqual({
      startUs: 1714557600000000n,
      flowId: 6002n,
    });
  });

  it('plans a top-N whose scan skips row groups before the cursor and past the running bound', async () => {
    const f = validateFlowFilter({ timeRange: DAY });
    const q = flowsPageQuery({
      files: [join(root, PATH)],
      where: flowFilterSql(f),
      order: 'START_TIME_ASC',
      after: { startUs: 1714557600000000n, flowId: 6002n },
      limit: 500,
      columns: ['srcaddr'],
    });
    const [plan] = await runQuery(ctx, { ...q, name: 'test.explain', text: `EXPLAIN ${q.text}` });
    // The plan is drawn in boxes; join its cells back into one line of text.
    const text = String(plan?.explain_value).replace(/[│┌┐└┘─┬┴├┤]|\s{2,}|\n/g, '');
    expect(text).toContain('TOP_NTop: 501');
    expect(text).toContain("start_time>='2024-05-01 10:00:00'::TIMESTAMP AND"); // the cursor's bound, checked against stats
    expect(text).toContain('Dynamic Filter(start_time)'); // the top-N's running bound
  });
});
