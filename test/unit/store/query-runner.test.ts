import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDatabase } from '../../../src/store/duckdb.ts';
import { runQuery, type QueryContext } from '../../../src/store/query-runner.ts';
import { QueryTimeoutError } from '../../../src/store/request-budget.ts';
import { build, sql } from '../../../src/store/sql.ts';
import { memoryLogger, testQueryContext } from '../../helpers/query-context.ts';

let root: string;
let outside: string;
let ctx: QueryContext;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-runner-'));
  outside = await mkdtemp(join(tmpdir(), 'flowql-outside-'));
  await writeFile(join(outside, 'secret.csv'), 'a\n1\n');
  ctx = await testQueryContext(root, { db: await openApiDatabase({ warehouseRoot: root, threads: 1 }) });
});
afterAll(async () => {
  ctx.db.closeSync();
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('runQuery', () => {
  it('binds typed parameters and returns exact 64-bit integers as bigint', async () => {
    const q = build(
      'test.values',
      sql`SELECT ${9007199254740993n} + 0 AS big, ${'x'} AS s, ${['a', 'b']} AS l, ${new Date('2024-05-01T10:00:00Z')} AS t, typeof(${7}) AS small`,
    );
    const [row] = await runQuery(ctx, q);
    expect(row).toEqual({
      big: 9007199254740993n,
      s: 'x',
      l: ['a', 'b'],
      t: new Date('2024-05-01T10:00:00Z'),
      small: 'INTEGER',
    });
    expect(ctx.cost.snapshot().rowsReturned).toBe(1);
    const log = ctx.log as ReturnType<typeof memoryLogger>;
    expect(log.lines.at(-1)).toMatchObject({ level: 'info', msg: 'query', obj: { statement: 'test.values', rows: 1 } });
  });

  it('interrupts a statement that outruns the request budget, and names it', async () => {
    const slow = await testQueryContext(root, { db: ctx.db, budgetMs: 150 });
    const started = Date.now();
    const err = await runQuery(slow, build('test.slow', sql`SELECT count(*) FROM range(100000000000) a`)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QueryTimeoutError);
    // The budget is what is left of the request's 150 ms when the statement starts (a millisecond may have passed).
    const budget = /^query test\.slow exceeded its time budget of (\d+) ms and was stopped$/.exec(
      (err as Error).message,
    );
    expect(Number(budget?.[1])).toBeGreaterThan(100);
    expect(Number(budget?.[1])).toBeLessThanOrEqual(150);
    expect(Date.now() - started).toBeLessThan(5000);
    // The instance is still usable afterwards.
    expect(await runQuery(ctx, build('test.after', sql`SELECT 1 AS one`))).toEqual([{ one: 1 }]);
  });

  it('runs on a UTC, locked-down instance: no files outside the warehouse, no SET', async () => {
    const tz = await runQuery(ctx, build('test.tz', sql`SELECT current_setting('TimeZone') AS tz`));
    expect(tz).toEqual([{ tz: 'UTC' }]);
    const denied = async (text: string) => {
      const err = await runQuery(ctx, { name: 'test.denied', text, params: [] }).catch((e: unknown) => e as Error);
      expect(err, text).toBeInstanceOf(Error);
      return (err as Error).message;
    };
    expect(await denied(`SELECT * FROM read_csv('${join(outside, 'secret.csv')}')`)).toMatch(
      /Permission Error|not allowed|disabled/i,
    );
    // allowed_directories grants writes inside the warehouse too (DuckDB has no read-only allow-list): only outside.
    expect(await denied(`COPY (SELECT 1) TO '${join(outside, 'x.csv')}'`)).toMatch(
      /Permission Error|disabled|not allowed/i,
    );
    expect(await denied(`SET enable_external_access = true`)).toMatch(/lock|configuration/i);
    expect(await denied(`SET allowed_directories = ['/']`)).toMatch(/lock|configuration/i);
  });
});
