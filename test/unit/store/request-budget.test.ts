/**
 * A request's budget over the real DuckDB instance: when it stops (time out, response cap, request answered) every
 * statement it has queued is dropped and every one running is interrupted, so nothing of the request is left in
 * DuckDB once its error is returned; a statement shared through the result cache with a stopped request reruns.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDatabase } from '../../../src/store/duckdb.ts';
import { runQuery, type QueryContext } from '../../../src/store/query-runner.ts';
import {
  QueryTimeoutError,
  RequestBudget,
  ResponseTooLargeError,
  StatementCancelledError,
} from '../../../src/store/request-budget.ts';
import { ResultCache } from '../../../src/store/result-cache.ts';
import { build, sql } from '../../../src/store/sql.ts';
import { statementDurationsOf } from '../../../src/store/statement-durations.ts';
import { configureStatementQueue, statementQueueOf } from '../../../src/store/statement-queue.ts';
import { memoryLogger, testQueryContext } from '../../helpers/query-context.ts';

let root: string;
let db: DuckDBInstance;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-budget-'));
  db = await openApiDatabase({ warehouseRoot: root, threads: 1 });
  configureStatementQueue(db, 2);
});
afterAll(async () => {
  db.closeSync();
  await rm(root, { recursive: true, force: true });
});

/** A request context sharing `budget`. */
async function request(
  budget: RequestBudget,
  extra: Partial<QueryContext> = {},
): Promise<QueryContext & { log: ReturnType<typeof memoryLogger> }> {
  const ctx = await testQueryContext(root, { db });
  const log = memoryLogger();
  return { ...ctx, deadline: budget.deadline, budget, ...extra, log };
}

const endless = (i: number) =>
  build(`test.endless.${i}`, sql`SELECT count(*) AS n FROM range(100000000000) t(x) WHERE x % 7 = ${i}`);
const messages = (ctx: { log: ReturnType<typeof memoryLogger> }) => ctx.log.lines.map((l) => l.msg).sort();

describe('RequestBudget', () => {
  it("drops a timed-out request's queued statements and interrupts its running ones: nothing is left", async () => {
    const budget = new RequestBudget(Date.now() + 300);
    const ctx = await request(budget);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => runQuery(ctx, endless(i))));
    expect(results.map((r) => r.status === 'rejected' && r.reason instanceof QueryTimeoutError)).toEqual(
      Array(8).fill(true),
    );
    const queue = statementQueueOf(db);
    expect([queue.running, queue.waiting, budget.running]).toEqual([0, 0, 0]);
    // Two slots per instance here, one request holds at most one of them: one ran, seven never started.
    expect(messages(ctx)).toEqual([...Array(7).fill('query dropped'), 'query interrupted']);
  });

  it('stops the statements of a request answered early (finish), and refuses new ones', async () => {
    const budget = new RequestBudget(Date.now() + 60_000);
    const ctx = await request(budget);
    const running = Promise.allSettled([0, 1, 2].map((i) => runQuery(ctx, endless(i))));
    await new Promise((r) => setTimeout(r, 200));
    const stopping = performance.now();
    budget.finish();
    const results = await running;
    expect(performance.now() - stopping).toBeLessThan(5000); // interrupt takes ~0.2 s; the statements were endless
    expect(results.map((r) => r.status === 'rejected' && r.reason instanceof StatementCancelledError)).toEqual([
      true,
      true,
      true,
    ]);
    expect([statementQueueOf(db).running, statementQueueOf(db).waiting]).toEqual([0, 0]);
    await expect(runQuery(ctx, build('test.after', sql`SELECT 1 AS one`))).rejects.toThrow(
      'query test.after was stopped: its request had already been answered',
    );
  });

  it('stops a request whose rows pass the response cap, naming the limit', async () => {
    const budget = new RequestBudget(Date.now() + 60_000, 1000);
    const ctx = await request(budget);
    expect(await runQuery(ctx, build('test.small', sql`SELECT repeat('x', 500) AS s`))).toHaveLength(1);
    const err = await runQuery(ctx, build('test.big', sql`SELECT repeat('x', 600) AS s`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(err).toMatchObject({ limitBytes: 1000, bytes: 503 + 603 });
    expect((err as Error).message).toMatch(/^the response would exceed 1000 bytes .*--max-response-bytes/);
    // Every later statement of the request fails the same way without running.
    await expect(runQuery(ctx, build('test.later', sql`SELECT 1 AS one`))).rejects.toBe(err);
    expect(ctx.cost.statementsRun).toBe(2);
  });

  it('reruns a statement it shared with another request that timed out, within its own budget', async () => {
    const cache = new ResultCache(1 << 20);
    const shared = build('test.shared', sql`SELECT count(*) AS n FROM range(90000000) t(x) WHERE x % 3 = 0`);
    const a = await request(new RequestBudget(Date.now() + 30), { results: { cache, scope: '*' } });
    const b = await request(new RequestBudget(Date.now() + 60_000), { results: { cache, scope: '*' } });
    const first = runQuery(a, shared).catch((e: unknown) => e);
    const second = runQuery(b, shared);
    expect(await first).toBeInstanceOf(QueryTimeoutError);
    expect(await second).toEqual([{ n: 30000000n }]);
    expect(b.log.lines.filter((l) => l.msg === 'query').map((l) => (l.obj as { statement: string }).statement)).toEqual(
      ['test.shared'],
    );
  });
});

describe('a statement served too late to finish', () => {
  const quick = (name: string) => build(name, sql`SELECT 42 AS n`);

  it('is not started when its request has less time left than its recent runs took, and stops the request', async () => {
    // Its last runs all took 2 s or more; this request has 1 s left.
    for (const ms of [2_000, 3_000]) statementDurationsOf(db).record('test.late', ms);
    const budget = new RequestBudget(Date.now() + 1_000, Number.POSITIVE_INFINITY, 10_000);
    const ctx = await request(budget);
    await expect(runQuery(ctx, quick('test.late'))).rejects.toThrow(new QueryTimeoutError('test.late', 10_000).message);
    expect(ctx.log.lines.map((l) => [l.msg, (l.obj as { reason?: string }).reason])).toEqual([
      ['query dropped', 'would-not-finish'],
    ]);
    // The request times out as a whole: its next statement, of a name never seen, is refused too.
    expect(budget.stopReason).toBe('timeout');
    await expect(runQuery(ctx, quick('test.other'))).rejects.toBeInstanceOf(QueryTimeoutError);
    expect([statementQueueOf(db).running, statementQueueOf(db).waiting]).toEqual([0, 0]);
  });

  it('runs when its request has the time of the fastest recent run, and a fast run lowers the bar', async () => {
    for (const ms of [5_000, 400]) statementDurationsOf(db).record('test.varies', ms);
    const budget = new RequestBudget(Date.now() + 2_000);
    const ctx = await request(budget);
    expect(await runQuery(ctx, quick('test.varies'))).toEqual([{ n: 42 }]);
    budget.finish();
    // This run took milliseconds: a request with 300 ms left may run it now.
    expect(statementDurationsOf(db).fastest('test.varies')).toBeLessThan(300);
    const late = new RequestBudget(Date.now() + 300);
    expect(await runQuery(await request(late), quick('test.varies'))).toEqual([{ n: 42 }]);
    late.finish();
  });
});
