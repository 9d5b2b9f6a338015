import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { validateFlowFilter } from '../../../src/domain/flow-filter.ts';
import { openApiDatabase } from '../../../src/store/duckdb.ts';
import {
  readFlowBreakdown,
  readFlowSummary,
  readFlowTimeSeries,
  readFlowTopN,
} from '../../../src/questions/aggregate-reader.ts';
import { readInterfaceStatus } from '../../../src/questions/partition-reader.ts';
import { writeFixtureWarehouse } from '../../helpers/warehouse-fixture.ts';
import { testQueryContext } from '../../helpers/query-context.ts';
import {
  AGGREGATE_FIXTURE,
  FIXTURE_HOURLY_BY_INTERFACE_TOP2,
  FIXTURE_INTERFACE_STATUS,
  FIXTURE_TOP_PAIRS_BY_BYTES,
  FIXTURE_TOTALS,
} from '../../fixtures/aggregate-flows.ts';

let root = '';
let db: DuckDBInstance;
const ctx = () => testQueryContext(root, { db });
const window = (extra: object = {}) =>
  validateFlowFilter({ timeRange: { from: '2024-03-01T00:00:00Z', to: '2024-03-03T00:00:00Z' }, ...extra });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-agg-reader-'));
  await writeFixtureWarehouse(root, AGGREGATE_FIXTURE);
  db = await openApiDatabase({ warehouseRoot: root, threads: 1 });
});
afterAll(async () => {
  db?.closeSync();
  await rm(root, { recursive: true, force: true });
});

describe('aggregate reader over a fixture warehouse (manifest, pruning, locked-down DuckDB)', () => {
  it('reads the summary values asked for, and only those', async () => {
    const c = await ctx();
    const got = await readFlowSummary(c, window(), ['BYTES', 'REJECTED_RECORDS', 'LAST_SEEN']);
    expect(got).toEqual({
      BYTES: BigInt(FIXTURE_TOTALS.bytes),
      REJECTED_RECORDS: 3n,
      LAST_SEEN: new Date(FIXTURE_TOTALS.lastSeen),
    });
    expect(c.cost.snapshot()).toMatchObject({ partitionsScanned: 3, filesScanned: 3, rowsReturned: 1 });
  });

  it('prunes partitions by the filter: one account reads one partition', async () => {
    const c = await ctx();
    const got = await readFlowSummary(c, window({ accountIds: ['012345678901'] }), ['RECORDS', 'BYTES']);
    expect(got).toEqual({ RECORDS: 1n, BYTES: 300n });
    expect(c.cost.snapshot().filesScanned).toBe(1);
  });

  it('runs no statement when no values are asked for', async () => {
    const c = await ctx();
    expect(await readFlowSummary(c, window(), [])).toEqual({});
    expect(c.cost.statementsRun).toBe(0);
  });

  it('answers over no files with zeros', async () => {
    const c = await ctx();
    const empty = validateFlowFilter({ timeRange: { from: '2023-01-01T00:00:00Z', to: '2023-01-02T00:00:00Z' } });
    expect(await readFlowSummary(c, empty, ['RECORDS', 'BYTES', 'FIRST_SEEN'])).toEqual({
      RECORDS: 0n,
      BYTES: 0n,
      FIRST_SEEN: null,
    });
  });

  it('reads a top-N of address pairs and flags truncation', async () => {
    const got = await readFlowTopN(await ctx(), window(), {
      by: 'ADDRESS_PAIR',
      metric: 'BYTES',
      values: ['RECORDS'],
      limit: 4,
    });
    expect(got.truncated).toBe(true);
    expect(got.rows.map((r) => [r.key.SRC_ADDR, r.key.DST_ADDR, r.values.BYTES, r.values.RECORDS])).toEqual(
      FIXTURE_TOP_PAIRS_BY_BYTES.slice(0, 4).map((p) => [p.src, p.dst, BigInt(p.bytes), BigInt(p.records)]),
    );
  });

  it('reads a breakdown keyed by every requested dimension, in the requested order', async () => {
    const got = await readFlowBreakdown(await ctx(), window({ actions: ['REJECT'] }), {
      dimensions: ['DST_PORT', 'ACCOUNT'],
      orderBy: 'BYTES',
      values: [],
      limit: 10,
    });
    expect(got.truncated).toBe(false);
    expect(got.rows.map((r) => [r.key, r.values])).toEqual([
      [{ DST_PORT: 443, ACCOUNT: '012345678901' }, { BYTES: 300n }],
      [{ DST_PORT: 22, ACCOUNT: '111111111111' }, { BYTES: 40n }],
      [{ DST_PORT: 23, ACCOUNT: '111111111111' }, { BYTES: 40n }],
    ]);
  });

  it('splits a time series into series by key', async () => {
    const got = await readFlowTimeSeries(await ctx(), window(), {
      interval: 'HOUR',
      values: ['RECORDS', 'BYTES'],
      groupBy: { dimension: 'INTERFACE', maxSeries: 2, rankBy: 'BYTES' },
    });
    expect(got.map((s) => s.key)).toEqual([{ INTERFACE: 'eni-0000000b' }, { INTERFACE: 'eni-0000000d' }]);
    const flat = got.flatMap((s) =>
      s.points.map((p) => [s.key.INTERFACE, p.time.toISOString(), Number(p.values.RECORDS), Number(p.values.BYTES)]),
    );
    expect(flat).toEqual(FIXTURE_HOURLY_BY_INTERFACE_TOP2);
  });

  it('reads interface log status with truncation', async () => {
    const got = await readInterfaceStatus(await ctx(), window(), 2);
    expect(got.truncated).toBe(true);
    expect(
      got.rows.map((r) => [r.accountId, r.interfaceId, r.records, r.okRecords, r.nodataRecords, r.skipdataRecords]),
    ).toEqual(FIXTURE_INTERFACE_STATUS.slice(0, 2).map(([a, i, ...n]) => [a, i, ...n.map(BigInt)]));
  });
});
