/**
 * Runs one named statement: admitted by the instance's fair queue (src/store/statement-queue.ts), on a fresh
 * connection (a connection runs one query at a time, and a request may run several concurrently), with bound
 * parameters of explicit types, rows and their bytes counted into the request's cost, and one log line per statement.
 * A request's statements share its budget (request-budget.ts): when its time runs out, its answer grows past the
 * response cap, or it ends (an error already answered it), every statement it still has queued is dropped and every
 * one running is stopped with `interrupt()` (DuckDB has no statement timeout). Before, the statements of a timed-out
 * request kept running for up to 74 s after its error was sent, and another client's cheap query waited behind them.
 * A statement served with less time left than its recent runs took is not started: its request times out at once
 * (statement-durations.ts).
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  INTEGER,
  LIST,
  SQLNULL,
  TIMESTAMP,
  VARCHAR,
  listValue,
  timestampValue,
  type DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  type JS,
} from '@duckdb/node-api';
import { jsonValueBytes, type CostMeter } from './query-cost.ts';
import { QueryTimeoutError, RequestBudget, ResponseTooLargeError, StatementCancelledError } from './request-budget.ts';
import { answerKey, estimateRowsBytes, type CacheOutcome, type ResultCache } from './result-cache.ts';
import type { SqlQuery, SqlValue } from './sql.ts';
import { statementDurationsOf } from './statement-durations.ts';
import { statementQueueOf } from './statement-queue.ts';
import { warehouseDamageOf } from './warehouse-damage.ts';
import type { WarehouseReader } from './warehouse-reader.ts';

/** Structured logger (pino-compatible subset). */
export interface QueryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Everything a reader needs to answer one request; lives on the GraphQL context as `ctx.query`. */
export interface QueryContext {
  readonly db: DuckDBInstance;
  readonly warehouse: WarehouseReader;
  readonly cost: CostMeter;
  /** Epoch ms after which running statements are interrupted. */
  readonly deadline: number;
  /**
   * The request's shared budget (its deadline should be `deadline`): stops all of its statements together. Absent,
   * each statement gets a budget of its own from `deadline` (datasets, ingest derivation, tests).
   */
  readonly budget?: RequestBudget;
  /**
   * Who asked (an API key's name, else the caller's address): the statement queue shares slots between clients, so
   * one client's many requests cannot crowd out another's. Absent, each request is its own client.
   */
  readonly client?: string;
  /**
   * Longest window of an aggregate that reads flow records (the server's --max-range-days). Aggregates are validated
   * against the larger bound of the rollup tiers; one the tiers cannot answer is refused past this one before its
   * statement runs (src/questions/aggregate-reader.ts). Absent: no second check (CLI, tests of readers).
   */
  readonly maxRecordRangeMs?: number;
  readonly log: QueryLogger;
  /**
   * Shared answers (src/store/result-cache.ts), keyed by `scope` (the tenant's account allow-list), the manifest
   * generation and the statement; absent = every statement runs.
   */
  readonly results?: { readonly cache: ResultCache; readonly scope: string };
}

/** A row as JS values: BIGINT as bigint, TIMESTAMP/DATE as Date, VARCHAR as string, MAP as [{ key, value }]. */
export type Row = Record<string, JS>;

/** A bound parameter's value and explicit type (runBound binds every statement this way). */
export function bind(value: SqlValue): [DuckDBValue, DuckDBType] {
  if (value === null) return [null, SQLNULL];
  if (value instanceof Date) return [timestampValue(BigInt(value.getTime()) * 1000n), TIMESTAMP];
  if (Array.isArray(value)) {
    const items = value as readonly (string | number)[];
    const allStrings = items.every((v) => typeof v === 'string');
    if (items.length === 0 || allStrings) return [listValue(items as string[]), LIST(VARCHAR)];
    const ints = items.every((v) => Number.isSafeInteger(v));
    return [listValue(items as number[]), LIST(ints ? BIGINT : DOUBLE)];
  }
  switch (typeof value) {
    case 'string':
      return [value, VARCHAR];
    case 'boolean':
      return [value, BOOLEAN];
    case 'bigint':
      return [value, BIGINT];
    default: {
      const v = value as number;
      if (!Number.isInteger(v)) return [v, DOUBLE];
      return Math.abs(v) <= 2_147_483_647 ? [v, INTEGER] : [BigInt(v), BIGINT];
    }
  }
}

/** Answers with more rows are not kept: a page or a top-N is small, a large answer is rarely asked twice. */
const MAX_CACHED_ROWS = 10_000;

/**
 * Runs `query` within the request's budget, or takes its answer from the result cache; returns its rows as JS values.
 * Kept rows are frozen and shared between requests: callers build new values from them, never edit them.
 */
export async function runQuery(ctx: QueryContext, query: SqlQuery): Promise<Row[]> {
  if (!ctx.results) return execute(ctx, query);
  const { generation } = await ctx.warehouse.manifest();
  const key = answerKey(ctx.results.scope, generation, query.text, query.params);
  let ranHere = false;
  let answer: { value: Row[]; outcome: CacheOutcome };
  try {
    answer = await ctx.results.cache.get(
      key,
      () => {
        ranHere = true;
        return execute(ctx, query);
      },
      (rows) => {
        if (rows.length > MAX_CACHED_ROWS) return null;
        for (const row of rows) Object.freeze(row);
        return estimateRowsBytes(rows);
      },
    );
  } catch (err) {
    // Shared with another request whose budget stopped it (timed out, too large, answered): not this request's
    // failure, so run it within this request's own budget.
    if (!ranHere && isStop(err)) return execute(ctx, query);
    throw err;
  }
  const { value, outcome } = answer;
  // An answer shared with another request (joined in flight or cached) is still held to this request's budget:
  // whichever of two requests registers first runs the statement, so a request past its deadline must not get rows
  // that another request's longer budget paid for.
  if (!ranHere) ctx.budget?.check(query.name);
  if (outcome !== 'miss') {
    ctx.cost.recordCached(value.length, jsonValueBytes(value));
    ctx.log.info({ statement: query.name, rows: value.length, cache: outcome }, 'query cached');
    ctx.budget?.spend(ctx.cost.bytesReturned);
  }
  return [...value];
}

const isStop = (err: unknown): boolean =>
  err instanceof QueryTimeoutError || err instanceof StatementCancelledError || err instanceof ResponseTooLargeError;

async function execute(ctx: QueryContext, query: SqlQuery): Promise<Row[]> {
  return withStatementBudget(ctx, query.name, async (connection, budget) => {
    const rows = (await runBound(connection, query)).getRowObjectsJS();
    const bytes = jsonValueBytes(rows);
    ctx.cost.recordRows(rows.length, bytes);
    budget.spend(ctx.cost.bytesReturned);
    return { value: rows, logged: { rows: rows.length, bytes } };
  });
}

/** A connection of the API instance. */
export type Connection = Awaited<ReturnType<DuckDBInstance['connect']>>;

/** Runs `query` on `connection` with its parameters bound and explicitly typed. */
export async function runBound(connection: Connection, query: SqlQuery) {
  const bound = query.params.map(bind);
  return connection.runAndReadAll(
    query.text,
    bound.map((b) => b[0]),
    bound.map((b) => b[1]),
  );
}

/**
 * Runs `work` on a fresh connection (of `db`, the request's instance by default) within the request's budget
 * (`ctx.budget`, else one of its own from `ctx.deadline`): it waits for a slot in `db`'s fair queue, and is dropped
 * from the queue or interrupted on its connection when the budget stops. Logs one line under `name` (`query` with
 * `work`'s `logged` fields, `query interrupted`, `query dropped` or `query failed`) and turns a stop into the budget's
 * error (QueryTimeoutError, ResponseTooLargeError, StatementCancelledError) and any other failure into an error
 * naming the statement.
 */
export async function withStatementBudget<T>(
  ctx: QueryContext,
  name: string,
  work: (connection: Connection, budget: RequestBudget) => Promise<{ value: T; logged: object }>,
  db: DuckDBInstance = ctx.db,
): Promise<T> {
  const budget = ctx.budget ?? new RequestBudget(ctx.deadline);
  try {
    return await runWithin(ctx, budget, name, work, db);
  } finally {
    if (!ctx.budget) budget.finish();
  }
}

async function runWithin<T>(
  ctx: QueryContext,
  budget: RequestBudget,
  name: string,
  work: (connection: Connection, budget: RequestBudget) => Promise<{ value: T; logged: object }>,
  db: DuckDBInstance,
): Promise<T> {
  const started = performance.now();
  let release: () => void;
  try {
    budget.check(name);
    release = await statementQueueOf(db).acquire(ctx.client ?? budget, budget.signal, budget);
  } catch {
    ctx.log.warn(
      { statement: name, ms: Math.round(performance.now() - started), reason: budget.stopReason },
      'query dropped',
    );
    throw budget.errorFor(name);
  }
  const queuedMs = Math.round(performance.now() - started);
  const durations = statementDurationsOf(db);
  const fastest = durations.fastest(name);
  const leftMs = budget.deadline - Date.now();
  if (fastest !== null && leftMs < fastest) {
    // Served too late to finish (statement-durations.ts): its request times out either way, so the slot goes to the
    // next statement now instead of after an interrupt, and the request's other statements stop with it.
    release();
    ctx.log.warn(
      { statement: name, ms: queuedMs, queuedMs, leftMs, fastestMs: fastest, reason: 'would-not-finish' },
      'query dropped',
    );
    budget.expire();
    throw budget.errorFor(name);
  }
  let connection: Connection | null = null;
  try {
    connection = await db.connect();
    budget.track(connection);
    if (budget.stopped) throw budget.errorFor(name);
    const { value, logged } = await work(connection, budget);
    // A statement can finish past its deadline before the timer's interrupt lands (an interrupt that arrives while
    // DuckDB still prepares is lost, and a busy event loop runs the timer late): its rows come too late for the
    // request, which is answered by the budget's error either way.
    budget.check(name);
    const ms = Math.round(performance.now() - started);
    durations.record(name, ms - queuedMs);
    ctx.log.info({ statement: name, ms, queuedMs, ...logged }, 'query');
    return value;
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    if (err instanceof ResponseTooLargeError) throw err;
    if (budget.stopped) {
      ctx.log.warn(
        { statement: name, ms, queuedMs, budgetMs: budget.budgetMs, reason: budget.stopReason },
        'query interrupted',
      );
      throw budget.errorFor(name);
    }
    if (err instanceof QueryTimeoutError) throw err; // a nested budget (on another instance) ran out first
    const damage = await warehouseDamageOf(ctx.warehouse, err); // a missing or corrupt committed file
    if (damage) {
      ctx.log.warn(
        { statement: name, ms, file: damage.file, partition: damage.partition, err: damage.reason },
        'warehouse damaged',
      );
      throw damage;
    }
    ctx.log.warn({ statement: name, ms, err: (err as Error).message }, 'query failed');
    throw new Error(`query ${name} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    if (connection) {
      budget.untrack(connection);
      connection.closeSync();
    }
    release();
  }
}
