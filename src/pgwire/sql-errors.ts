/**
 * A failed statement as a PostgreSQL ErrorResponse: refusals keep their SQLSTATE, the query runner's stops become
 * the codes PostgreSQL uses for them, and DuckDB's own errors are classified by their kind so clients that branch on
 * SQLSTATE (42P01 missing table, 42703 missing column, 42601 syntax) behave as with PostgreSQL.
 */
import { QueryTimeoutError, ResponseTooLargeError, StatementCancelledError } from '../store/request-budget.ts';
import { SqlRefusedError } from '../store/sql-statement-guard.ts';
import type { ErrorFields } from './wire-codec.ts';

const DUCKDB_KINDS: readonly [RegExp, string][] = [
  [/Parser Error/, '42601'],
  [/Catalog Error: Table.*does not exist/, '42P01'],
  [/Catalog Error/, '42704'],
  [/Binder Error: Referenced column/, '42703'],
  [/Binder Error/, '42803'],
  [/Conversion Error|Invalid Input Error/, '22P02'],
  [/Out of Range Error/, '22003'],
  [/Division by zero/i, '22012'],
  [/Permission Error/, '42501'],
  [/Out of Memory Error/, '53200'],
];

/** The ErrorResponse of `err`; `cancelled` = the client asked to cancel the running statement. */
export function errorFields(err: unknown, cancelled: boolean): ErrorFields {
  const error =
    err instanceof Error && err.cause instanceof Error && !(err instanceof SqlRefusedError) ? err.cause : err;
  if (error instanceof SqlRefusedError) return { code: error.code, message: error.message };
  if (cancelled || error instanceof StatementCancelledError)
    return { code: '57014', message: 'canceling statement due to user request' };
  if (error instanceof QueryTimeoutError)
    return {
      code: '57014',
      message: `canceling statement due to statement timeout (${error.budgetMs} ms, the server's --query-timeout-ms)`,
    };
  if (error instanceof ResponseTooLargeError) return { code: '54000', message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  const code = DUCKDB_KINDS.find(([pattern]) => pattern.test(message))?.[1] ?? 'XX000';
  return { code, message };
}
