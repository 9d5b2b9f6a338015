/**
 * A caller asked for an account its API key may not read. Raised before any SQL runs; GraphQL reports it with
 * `extensions.code = 'FORBIDDEN'`, the dataset routes with HTTP 403. An explicit answer, never an empty result, so a
 * client cannot mistake "not allowed" for "no traffic" — and it names only the account the caller itself sent.
 */

/** The account at `argument` is outside the caller's allow-list. */
export class ForbiddenError extends Error {
  /** Path of the offending argument: `filter.accountIds[1]`, `accountId`. */
  readonly argument: string;
  readonly accountId: string;

  constructor(argument: string, accountId: string) {
    super(`Forbidden: ${argument} names account ${accountId}, which this API key may not read`);
    this.name = 'ForbiddenError';
    this.argument = argument;
    this.accountId = accountId;
  }
}

/** Throws ForbiddenError for the first of `accountIds` outside `scope` (null scope = every account allowed). */
export function assertAccountsAllowed(
  scope: readonly string[] | null | undefined,
  accountIds: readonly string[] | null | undefined,
  argument: string,
): void {
  if (!scope || !accountIds) return;
  const allowed = new Set(scope);
  accountIds.forEach((id, i) => {
    if (!allowed.has(id)) throw new ForbiddenError(`${argument}[${i}]`, id);
  });
}
