/**
 * A bad argument from a caller (GraphQL, CLI): names the argument path and what was expected. The GraphQL layer turns
 * it into a `BAD_USER_INPUT` error; it is raised before any SQL runs.
 */

/** Invalid caller input at `argument` (a path such as `filter.srcAddr[0]`). */
export class InputError extends Error {
  /** Path of the offending argument: `filter.timeRange.from`, `first`, `filter.srcPort[1].to`. */
  readonly argument: string;
  /** What would have been accepted, in words. */
  readonly expected: string;

  constructor(argument: string, expected: string, found?: unknown) {
    const shown = found === undefined ? '' : `, found ${JSON.stringify(found) ?? String(found)}`;
    super(`Invalid ${argument}: expected ${expected}${shown}`);
    this.name = 'InputError';
    this.argument = argument;
    this.expected = expected;
  }
}
