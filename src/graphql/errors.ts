/**
 * How errors reach clients. Expected ones are typed by `extensions.code`: `BAD_USER_INPUT` (with `argument` and
 * `expected`, raised before any SQL runs), `FORBIDDEN` (an account outside the API key's allow-list, with `argument`
 * and `accountId`), `QUERY_TIMEOUT`, `QUERY_TOO_COMPLEX`, `RESPONSE_TOO_LARGE` (with `limit` and `bytes`, past
 * `--max-response-bytes`), `WAREHOUSE_DAMAGED` (a committed file is missing or corrupt, with `file` and `partition`).
 * Everything else is masked as `Unexpected error.` (code
 * `INTERNAL_SERVER_ERROR`) and logged with its real message.
 */
import { GraphQLError } from 'graphql';
import { ForbiddenError } from '../domain/forbidden-error.ts';
import { InputError } from '../domain/input-error.ts';
import { QueryTimeoutError, ResponseTooLargeError } from '../store/request-budget.ts';
import { WarehouseDamagedError } from '../store/warehouse-damage.ts';

/** Receives the real error behind a masked one. */
export type ErrorLogger = (err: unknown) => void;

const VARIABLE_VALUE = /^Variable "\$(\w+)" got invalid value .*?(?: at "([^"]+)")?;/;
const LITERAL_VALUE =
  /does not exist in ".+" enum|^Expected value of type|^Int cannot represent|^String cannot represent|^Field ".+" of required type/;

/**
 * For graphql-js's own errors about argument values (variable coercion, literal values of the wrong type or enum):
 * the argument path ('' when graphql-js does not say which), or null for other errors.
 */
function badValueArgument(message: string): string | null {
  const variable = VARIABLE_VALUE.exec(message);
  if (variable) return variable[2] ?? variable[1] ?? '';
  return LITERAL_VALUE.test(message) ? '' : null;
}

/** The public form of `error` (yoga's `maskedErrors.maskError`). */
export function maskApiError(error: unknown, log: ErrorLogger): GraphQLError {
  const located = error instanceof GraphQLError ? error : null;
  const original = located?.originalError ?? error;
  const where = located ? { nodes: located.nodes, path: located.path } : {};
  if (original instanceof InputError) {
    return new GraphQLError(original.message, {
      ...where,
      extensions: { code: 'BAD_USER_INPUT', argument: original.argument, expected: original.expected },
    });
  }
  if (original instanceof ForbiddenError) {
    return new GraphQLError(original.message, {
      ...where,
      extensions: { code: 'FORBIDDEN', argument: original.argument, accountId: original.accountId },
    });
  }
  if (original instanceof WarehouseDamagedError) {
    // A missing or corrupt committed file (src/store/warehouse-damage.ts): the operator's to repair, not the client's.
    return new GraphQLError(original.message, {
      ...where,
      extensions: { code: 'WAREHOUSE_DAMAGED', file: original.file, partition: original.partition },
    });
  }
  if (original instanceof QueryTimeoutError) {
    return new GraphQLError(original.message, {
      ...where,
      extensions: { code: 'QUERY_TIMEOUT', statement: original.statement, budgetMs: original.budgetMs },
    });
  }
  if (original instanceof ResponseTooLargeError) {
    return responseTooLarge(original, where);
  }
  const coercion = located && !located.path ? badValueArgument(located.message) : null;
  if (located && coercion !== null) {
    return new GraphQLError(located.message, {
      nodes: located.nodes,
      extensions: { code: 'BAD_USER_INPUT', ...(coercion ? { argument: coercion } : {}) },
    });
  }
  // GraphQL's own errors (parse, validation, variable coercion) and errors raised as GraphQLError on purpose are public.
  if (located && (!located.originalError || located.originalError instanceof GraphQLError)) {
    const inner = located.originalError instanceof GraphQLError ? located.originalError : null;
    const extensions = { ...(inner?.extensions ?? {}), ...located.extensions };
    if (!extensions.code) extensions.code = located.path ? 'INTERNAL_SERVER_ERROR' : 'GRAPHQL_VALIDATION_FAILED';
    return new GraphQLError(located.message, { nodes: located.nodes, path: located.path, extensions });
  }
  log(original);
  return new GraphQLError('Unexpected error.', { ...where, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/** The public form of a ResponseTooLargeError (also used when the finished response is measured). */
export function responseTooLarge(
  error: ResponseTooLargeError,
  where: Pick<GraphQLError, 'nodes' | 'path'> | object = {},
): GraphQLError {
  return new GraphQLError(error.message, {
    ...where,
    extensions: { code: 'RESPONSE_TOO_LARGE', limit: error.limitBytes, bytes: error.bytes },
  });
}
