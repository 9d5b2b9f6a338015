/**
 * Runs one client statement of the SQL endpoint like any other statement of the API: admitted by the instance's fair
 * queue, on a fresh connection, within a time budget that interrupts it, logged and metered under the name
 * `sql.query` (query-runner.ts). On that connection it checks the statement (sql-statement-guard.ts), binds the
 * tenant's files to the views (sql-views.ts), prepares the text with DuckDB and binds the client's parameters as
 * text (DuckDB casts each to the type it inferred for the placeholder, as PostgreSQL does with unknown-typed text).
 */
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { Manifest } from './layout.ts';
import { withStatementBudget, type Connection, type QueryContext } from './query-runner.ts';
import { rewriteCatalogSql } from './sql-catalog.ts';
import { guardStatement, SqlRefusedError, type GuardRelations, type SqlViewName } from './sql-statement-guard.ts';
import { bindTenantFiles, type SqlViewOptions } from './sql-views.ts';

/** A statement's shape: its placeholders' and result columns' types. */
export interface SqlStatementShape {
  readonly parameterTypes: readonly DuckDBType[];
  readonly columns: readonly { readonly name: string; readonly type: DuckDBType }[];
}

/** A statement's answer: its shape and at most `maxRows` rows. */
export interface SqlStatementAnswer extends SqlStatementShape {
  readonly rows: readonly DuckDBValue[][];
}

/** What a statement runs against: the views, the tenant's manifest and the relations the guard allows. */
export interface SqlStatementScope {
  readonly views: SqlViewOptions;
  readonly relations: GuardRelations;
  /** The tenant's scoped manifest, pinned for the statement. */
  readonly tenant: Manifest;
}

/** The row cap: the statement asked for more rows than the server answers. */
export const SQLSTATE_TOO_MANY_ROWS = '54000';

async function prepareChecked(connection: Connection, scope: SqlStatementScope, clientText: string) {
  const text = rewriteCatalogSql(clientText);
  const read = await guardStatement(connection, text, scope.relations);
  return prepareGuarded(connection, scope, text, read);
}

/** Prepares `text`, which the guard has passed, with the tenant's files bound to the views it `read`s. */
async function prepareGuarded(
  connection: Connection,
  scope: SqlStatementScope,
  text: string,
  read: ReadonlySet<SqlViewName>,
) {
  await bindTenantFiles(scope.views, connection, scope.tenant, read);
  return connection.prepare(text);
}

/**
 * Guards `limited` (the client's statement under the row cap), the text that runs: one parse per statement. When it is
 * refused, the client's own text is checked too, so the refusal names what the client wrote (a COPY inside the cap's
 * subquery would only be a syntax error); if that passes, the capped text's refusal stands.
 */
async function guardCapped(connection: Connection, scope: SqlStatementScope, checked: string, limited: string) {
  try {
    return await guardStatement(connection, limited, scope.relations);
  } catch (err) {
    await guardStatement(connection, checked, scope.relations);
    throw err;
  }
}

function shapeOf(prepared: Awaited<ReturnType<Connection['prepare']>>): SqlStatementShape {
  const parameterTypes = Array.from({ length: prepared.parameterCount }, (_, i) => prepared.parameterType(i + 1));
  const columns = Array.from({ length: prepared.columnCount }, (_, i) => ({
    name: prepared.columnName(i),
    type: prepared.columnType(i),
  }));
  return { parameterTypes, columns };
}

/** Checks and prepares `text` without running it: the answer to a client's Describe. */
export function describeSqlStatement(ctx: QueryContext, scope: SqlStatementScope, text: string) {
  return withStatementBudget(ctx, 'sql.describe', async (connection) => {
    const shape = shapeOf(await prepareChecked(connection, scope, text));
    return { value: shape, logged: { columns: shape.columns.length } };
  });
}

/**
 * The client's statement capped at `limit` rows. DuckDB runs a statement read through a streaming result about 1.6
 * times slower than a materialized one (measured on bench:sql's questions), so the cap is a LIMIT and the answer is
 * materialized. The newline before `)` ends a trailing `--` comment; the wrapped text is checked again all the same.
 */
function capped(text: string, limit: number): string {
  return `SELECT * FROM (\n${text.replace(/;\s*$/, '')}\n) AS flowql_answer LIMIT ${Math.floor(limit)}`;
}

/** Checks and runs `text` with `params` (text or NULL); more than `maxRows` rows fail with SQLSTATE 54000. */
export function runSqlStatement(
  ctx: QueryContext,
  scope: SqlStatementScope,
  text: string,
  params: readonly (string | null)[],
  maxRows: number,
): Promise<SqlStatementAnswer> {
  return withStatementBudget(ctx, 'sql.query', async (connection) => {
    const checked = rewriteCatalogSql(text);
    const limited = capped(checked, maxRows + 1);
    const read = await guardCapped(connection, scope, checked, limited);
    let answer: SqlStatementAnswer;
    if (params.length === 0) {
      // Without parameters the statement is run, not prepared first: preparing binds it once more, and binding reads
      // every file's footer (hive columns, union by name), which cost the bench questions half again their CPU time.
      await bindTenantFiles(scope.views, connection, scope.tenant, read);
      const reader = await connection.runAndReadAll(limited);
      const types = reader.columnTypes();
      const columns = reader.columnNames().map((name, i) => ({ name, type: types[i]! }));
      answer = { parameterTypes: [], columns, rows: reader.getRows() };
    } else {
      const prepared = await prepareGuarded(connection, scope, limited, read);
      if (params.length !== prepared.parameterCount)
        throw new SqlRefusedError(
          '08P01',
          `the statement has ${prepared.parameterCount} parameter(s), ${params.length} were bound`,
        );
      params.forEach((value, i) => (value === null ? prepared.bindNull(i + 1) : prepared.bindVarchar(i + 1, value)));
      answer = { ...shapeOf(prepared), rows: (await prepared.runAndReadAll()).getRows() };
    }
    if (answer.rows.length > maxRows)
      throw new SqlRefusedError(
        SQLSTATE_TOO_MANY_ROWS,
        `the statement returns more than ${maxRows} rows (the server's --max-dataset-rows): add a LIMIT or aggregate`,
      );
    ctx.cost.recordRows(answer.rows.length, 0);
    return { value: answer, logged: { rows: answer.rows.length } };
  });
}
