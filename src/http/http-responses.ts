/**
 * How the non-GraphQL routes answer: JSON bodies, and one error shape
 * `{ "error": { "code", "message", ...details } }` whose `code` matches GraphQL's `extensions.code`.
 */
import type { ServerResponse } from 'node:http';
import { ForbiddenError } from '../domain/forbidden-error.ts';
import { InputError } from '../domain/input-error.ts';
import { QueryTimeoutError } from '../store/request-budget.ts';
import { WarehouseDamagedError } from '../store/warehouse-damage.ts';

/** Sends `body` as JSON with `status`. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Sends the error shape. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { code, message, ...details } }, headers);
}

/** Sends an expected error (bad input 400, forbidden 403, timeout or damaged warehouse 503) or a masked 500; returns the status sent. */
export function sendFailure(res: ServerResponse, err: unknown, logUnexpected: (err: unknown) => void): number {
  if (err instanceof InputError) {
    sendError(res, 400, 'BAD_USER_INPUT', err.message, { argument: err.argument, expected: err.expected });
    return 400;
  }
  if (err instanceof ForbiddenError) {
    sendError(res, 403, 'FORBIDDEN', err.message, { argument: err.argument, accountId: err.accountId });
    return 403;
  }
  if (err instanceof WarehouseDamagedError) {
    sendError(res, 503, 'WAREHOUSE_DAMAGED', err.message, { file: err.file, partition: err.partition });
    return 503;
  }
  if (err instanceof QueryTimeoutError) {
    sendError(res, 503, 'QUERY_TIMEOUT', err.message, { statement: err.statement, budgetMs: err.budgetMs });
    return 503;
  }
  logUnexpected(err);
  sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
  return 500;
}
