/**
 * What the SQL endpoint's sessions share: the instance, the warehouse, the API keys and the limits. Each client
 * statement runs for a tenant like a GraphQL request: on its scoped manifest (src/auth/scoped-warehouse.ts), pinned to
 * one generation for the statement, within --query-timeout-ms and --max-dataset-rows, in the instance's fair queue
 * under the key's name, and logged and metered as `sql.query`.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import type { ApiKeySet, Tenant } from '../domain/api-keys.ts';
import { CostMeter } from '../store/query-cost.ts';
import type { QueryContext, QueryLogger } from '../store/query-runner.ts';
import { RequestBudget } from '../store/request-budget.ts';
import {
  describeSqlStatement,
  runSqlStatement,
  type SqlStatementAnswer,
  type SqlStatementScope,
  type SqlStatementShape,
} from '../store/sql-statement-runner.ts';
import { ensureSqlViews, viewFilesOf } from '../store/sql-views.ts';
import { pinWarehouse, releaseWarehouse, type WarehouseReader } from '../store/warehouse-reader.ts';

/** A statement's answer as a session sends it. */
export type StatementRun = SqlStatementAnswer;

/** Settings and parts of the endpoint. */
export interface SqlEndpointOptions {
  readonly db: DuckDBInstance;
  /** The whole warehouse (every account): the views are created from it. */
  readonly warehouse: WarehouseReader;
  /** A tenant's view of the warehouse (createScopedWarehouses). */
  readonly scoped: (accounts: readonly string[] | null) => WarehouseReader;
  readonly apiKeys: ApiKeySet | null;
  readonly log: QueryLogger;
  /** An allowed directory of `db` for the views' empty stand-ins. */
  readonly scratchDir: string;
  readonly queryTimeoutMs: number;
  readonly maxRows: number;
}

/** The endpoint as sessions use it. */
export interface SqlEndpoint {
  readonly apiKeys: ApiKeySet | null;
  readonly log: QueryLogger;
  /** Runs `text` for `tenant`; `stopSignal` is called once the statement may start and aborts on a cancel. */
  run(
    tenant: Tenant,
    text: string,
    params: readonly (string | null)[],
    stopSignal: () => AbortSignal,
  ): Promise<StatementRun>;
  describe(tenant: Tenant, text: string, stopSignal: () => AbortSignal): Promise<SqlStatementShape>;
}

/** Builds the endpoint. */
export function createSqlEndpoint(options: SqlEndpointOptions): SqlEndpoint {
  const views = { db: options.db, scratchDir: options.scratchDir, absolutePath: options.warehouse.absolutePath };

  async function within<T>(
    tenant: Tenant,
    text: string,
    stopSignal: () => AbortSignal,
    work: (ctx: QueryContext, scope: SqlStatementScope) => Promise<T>,
  ): Promise<T> {
    const relations = await ensureSqlViews(views, await options.warehouse.manifest());
    const warehouse = pinWarehouse(options.scoped(tenant.accounts));
    const deadline = Date.now() + options.queryTimeoutMs;
    const budget = new RequestBudget(deadline, Number.POSITIVE_INFINITY, options.queryTimeoutMs);
    const signal = stopSignal();
    // The client's text (cut short), so a refused or failed statement can be found in the log by its tenant.
    options.log.info(
      { tenant: tenant.name, sql: text.length > 1000 ? `${text.slice(0, 1000)}...` : text },
      'sql statement',
    );
    const onCancel = () => budget.finish();
    signal.addEventListener('abort', onCancel);
    try {
      const scoped = await warehouse.manifest();
      // A replica fetches a tenant's files on first use; a local warehouse has them all.
      await warehouse.prepare(
        [...viewFilesOf(scoped)].flatMap(([view, files]) => (relations.views.has(view) ? files : [])),
      );
      const ctx: QueryContext = {
        db: options.db,
        warehouse,
        cost: new CostMeter(),
        deadline,
        budget,
        client: tenant.name,
        log: options.log,
      };
      return await work(ctx, { views, relations, tenant: scoped });
    } finally {
      signal.removeEventListener('abort', onCancel);
      budget.finish();
      releaseWarehouse(warehouse);
    }
  }

  return {
    apiKeys: options.apiKeys,
    log: options.log,
    run: (tenant, text, params, stopSignal) =>
      within(tenant, text, stopSignal, (ctx, scope) => runSqlStatement(ctx, scope, text, params, options.maxRows)),
    describe: (tenant, text, stopSignal) =>
      within(tenant, text, stopSignal, (ctx, scope) => describeSqlStatement(ctx, scope, text)),
  };
}
