/**
 * Runs one named statement: a fresh connection (a connection runs one query at a time, and a request may run several
 * concurrently), bound parameters with explicit types, the request's time budget enforced by `interrupt()` from a
 * timer (DuckDB has no statement timeout), rows counted into the request's cost, and one log line per statement.
 */
import {
  BIGINT, BOOLEAN, DOUBLE, INTEGER, LIST, SQLNULL, TIMESTAMP, VARCHAR, listValue, timestampValue,
  type DuckDBInstance, type DuckDBType, type DuckDBValue, type JS,
} from '@duckdb/node-api';
import type { CostMeter } from './query-cost.ts';
import { answerKey, estimateRowsBytes, type ResultCache } from './result-cache.ts';
import type { SqlQuery, SqlValue } from './sql.ts';
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
  const { value, outcome } = await ctx.results.cache.get(
    key,
    () => execute(ctx, query),
    (rows) => {
      if (rows.length > MAX_CACHED_ROWS) return null;
      for (const row of rows) Object.freeze(row);
      return estimateRowsBytes(rows);
    },
  );
  if (outcome !== 'miss') {
    ctx.cost.recordCached(value.length);
    ctx.log.info({ statement: query.name, rows: value.length, cache: outcome }, 'query cached');
  }
  return [...value];
}

async function execute(ctx: QueryContext, query: SqlQuery): Promise<Row[]> {
  return withStatementBudget(ctx, query.name, async (connection) => {
    const rows = (await runBound(connection, query)).getRowObjectsJS();
    ctx.cost.recordRows(rows.length);
    return { value: rows, logged: { rows: rows.length } };
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
 * Runs `work` on a fresh connection (of `db`, the request's instance by default) within the request's time budget:
 * the connection is interrupted when the budget runs out. Logs one line under `name` (`query` with `work`'s `logged`
 * fields, `query interrupted` or `query failed`) and turns an interruption into a QueryTimeoutError and any other
 * failure into an error naming the statement.
 */
export async function withStatementBudget<T>(
  ctx: QueryContext,
  name: string,
  work: (connection: Connection) => Promise<{ value: T; logged: object }>,
  db: DuckDBInstance = ctx.db,
): Promise<T> {
  const started = performance.now();
  const budgetMs = Math.max(0, ctx.deadline - Date.now());
  if (budgetMs === 0) throw new QueryTimeoutError(name, 0);
  const connection = await db.connect();
  let interrupted = false;
  const timer = setTimeout(() => {
    interrupted = true;
    connection.interrupt();
  }, budgetMs);
  try {
    const { value, logged } = await work(connection);
    ctx.log.info({ statement: name, ms: Math.round(performance.now() - started), ...logged }, 'query');
    return value;
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    if (interrupted) {
      ctx.log.warn({ statement: name, ms, budgetMs }, 'query interrupted');
      throw new QueryTimeoutError(name, budgetMs);
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
    clearTimeout(timer);
    connection.closeSync();
  }
}
