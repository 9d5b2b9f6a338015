/**
 * Runs one named statement: admitted by the instance's fair queue (src/store/statement-queue.ts), on a fresh
 * connection (a connection runs one query at a time, and a request may run several concurrently), with bound
 * parameters of explicit types, rows and their bytes counted into the request's cost, and one log line per statement.
 * A request's statements share its budget (RequestBudget): when its time runs out, its answer grows past the
 * response cap, or it ends (an error already answered it), every statement it still has queued is dropped and every
 * one running is stopped with `interrupt()` (DuckDB has no statement timeout). Before, the statements of a timed-out
 * request kept running for up to 74 s after its error was sent, and another client's cheap query waited behind them.
 */
import { setMaxListeners } from 'node:events';
import {
  BIGINT, BOOLEAN, DOUBLE, INTEGER, LIST, SQLNULL, TIMESTAMP, VARCHAR, listValue, timestampValue,
  type DuckDBInstance, type DuckDBType, type DuckDBValue, type JS,
} from '@duckdb/node-api';
import { jsonValueBytes, type CostMeter } from './query-cost.ts';
import { answerKey, estimateRowsBytes, type CacheOutcome, type ResultCache } from './result-cache.ts';
import type { SqlQuery, SqlValue } from './sql.ts';
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
  readonly log: QueryLogger;
  /**
   * Shared answers (src/store/result-cache.ts), keyed by `scope` (the tenant's account allow-list), the manifest
   * generation and the statement; absent = every statement runs.
   */
  readonly results?: { readonly cache: ResultCache; readonly scope: string };
}

/** A row as JS values: BIGINT as bigint, TIMESTAMP/DATE as Date, VARCHAR as string, MAP as [{ key, value }]. */
export type Row = Record<string, JS>;

/** The statement ran past the request's time budget and was interrupted. */
export class QueryTimeoutError extends Error {
  override readonly name = 'QueryTimeoutError';
  readonly statement: string;
  readonly budgetMs: number;
  constructor(statement: string, budgetMs: number) {
    super(`query ${statement} exceeded its time budget of ${budgetMs} ms and was stopped`);
    this.statement = statement;
    this.budgetMs = budgetMs;
  }
}

/** How often a stopped budget interrupts the connections it still holds. */
const INTERRUPT_REPEAT_MS = 50;

/** The request's answer would pass the response cap; its statements were stopped. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
  readonly limitBytes: number;
  readonly bytes: number;
  constructor(limitBytes: number, bytes: number, what = 'the rows read so far') {
    super(
      `the response would exceed ${limitBytes} bytes (${what}: about ${bytes}; the server's --max-response-bytes): ask for fewer fields, smaller pages or limits, or a shorter window`,
    );
    this.limitBytes = limitBytes;
    this.bytes = bytes;
  }
}

/** The statement was dropped or stopped because its request had already been answered. */
export class StatementCancelledError extends Error {
  override readonly name = 'StatementCancelledError';
  readonly statement: string;
  constructor(statement: string) {
    super(`query ${statement} was stopped: its request had already been answered`);
    this.statement = statement;
  }
}

type StopReason = { readonly kind: 'timeout' } | { readonly kind: 'finished' } | { readonly kind: 'too-large'; readonly error: ResponseTooLargeError };

/**
 * What one request may still spend: time until `deadline` and `maxResponseBytes` of rows. Owns the request's place in
 * the statement queue and its running connections, so that stopping it stops them all (see the module comment).
 */
export class RequestBudget {
  readonly deadline: number;
  /** The whole time budget, for error messages. */
  readonly budgetMs: number;
  readonly maxResponseBytes: number;
  private readonly controller = ((c) => {
    // Every statement a request queues listens for its stop: 16 of them are normal, not a leak.
    setMaxListeners(0, c.signal);
    return c;
  })(new AbortController());
  private readonly connections = new Set<Connection>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private repeat: ReturnType<typeof setInterval> | null = null;
  private reason: StopReason | null = null;

  /** `budgetMs` is what errors report: the configured timeout when the caller knows it (a millisecond may pass between
   *  computing the deadline and building the budget), else what is left until `deadline`. */
  constructor(deadline: number, maxResponseBytes = Number.POSITIVE_INFINITY, budgetMs = Math.max(0, deadline - Date.now())) {
    this.deadline = deadline;
    this.budgetMs = budgetMs;
    this.maxResponseBytes = maxResponseBytes;
  }

  /** Aborts when the budget stops: queued statements leave the queue. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Statements of this request holding a connection now. */
  get running(): number {
    return this.connections.size;
  }

  /** Whether the budget has stopped (time out, response cap, request answered). */
  get stopped(): boolean {
    return this.reason !== null;
  }

  /** Why it stopped, for logs: `timeout`, `too-large`, `finished` (the request was answered), or null. */
  get stopReason(): StopReason['kind'] | null {
    return this.reason?.kind ?? null;
  }

  /** The error a statement named `statement` fails with once the budget has stopped. */
  errorFor(statement: string): Error {
    const reason = this.reason;
    if (reason?.kind === 'too-large') return reason.error;
    if (reason?.kind === 'finished') return new StatementCancelledError(statement);
    return new QueryTimeoutError(statement, this.budgetMs);
  }

  /** Throws errorFor(statement) if stopped; otherwise makes sure the deadline timer runs. */
  check(statement: string): void {
    if (!this.reason && Date.now() >= this.deadline) this.stop({ kind: 'timeout' });
    if (this.reason) throw this.errorFor(statement);
    if (!this.timer) {
      this.timer = setTimeout(() => this.stop({ kind: 'timeout' }), this.deadline - Date.now());
      this.timer.unref?.();
    }
  }

  /** Checks the bytes of the answer so far; past the cap, stops the request and throws ResponseTooLargeError. */
  spend(bytesSoFar: number): void {
    if (bytesSoFar <= this.maxResponseBytes) return;
    const error = new ResponseTooLargeError(this.maxResponseBytes, bytesSoFar);
    this.stop({ kind: 'too-large', error });
    throw error;
  }

  /** Registers a running statement's connection (interrupted if the budget stops). */
  track(connection: Connection): void {
    this.connections.add(connection);
  }

  untrack(connection: Connection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0 && this.repeat) {
      clearInterval(this.repeat);
      this.repeat = null;
    }
  }

  /** The request is answered: drop its queued statements and stop its running ones (an error may have cut it short). */
  finish(): void {
    this.stop({ kind: 'finished' });
  }

  private stop(reason: StopReason): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.reason) return;
    this.reason = reason;
    this.controller.abort(reason);
    if (this.connections.size === 0) return;
    // An interrupt that lands while a statement is still being prepared is lost (DuckDB clears it when the query
    // starts): repeat it until every connection of the request has given up.
    const interruptAll = () => {
      for (const connection of this.connections) connection.interrupt();
    };
    interruptAll();
    this.repeat = setInterval(interruptAll, INTERRUPT_REPEAT_MS);
    this.repeat.unref?.();
  }
}

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
  return connection.runAndReadAll(query.text, bound.map((b) => b[0]), bound.map((b) => b[1]));
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
    ctx.log.warn({ statement: name, ms: Math.round(performance.now() - started), reason: budget.stopReason }, 'query dropped');
    throw budget.errorFor(name);
  }
  const queuedMs = Math.round(performance.now() - started);
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
    ctx.log.info({ statement: name, ms: Math.round(performance.now() - started), queuedMs, ...logged }, 'query');
    return value;
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    if (err instanceof ResponseTooLargeError) throw err;
    if (budget.stopped) {
      ctx.log.warn({ statement: name, ms, budgetMs: budget.budgetMs, reason: budget.stopReason }, 'query interrupted');
      throw budget.errorFor(name);
    }
    if (err instanceof QueryTimeoutError) throw err; // a nested budget (on another instance) ran out first
    const damage = await warehouseDamageOf(ctx.warehouse, err); // a missing or corrupt committed file
    if (damage) {
      ctx.log.warn({ statement: name, ms, file: damage.file, partition: damage.partition, err: damage.reason }, 'warehouse damaged');
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
