/**
 * A bad argument from a caller (GraphQL, CLI): names the argument path and what was expected. The GraphQL layer turns
 * it into a `BAD_USER_INPUT` error; it is raised before any SQL runs.
 */

/** Longest echo of a caller's value in a message: a 2 MB argument must not come back as a 2 MB error. */
export const MAX_ECHO_CHARS = 200;

function excerpt(text: string): string {
  return text.length <= MAX_ECHO_CHARS ? text : `${text.slice(0, MAX_ECHO_CHARS)}... (${text.length} characters)`;
}

/** Invalid caller input at `argument` (a path such as `filter.srcAddr[0]`). */
export class InputError extends Error {
  /** Path of the offending argument: `filter.timeRange.from`, `first`, `filter.srcPort[1].to`. */
  readonly argument: string;
  /** What would have been accepted, in words. */
  readonly expected: string;

  constructor(argument: string, expected: string, found?: unknown) {
    const shown = found === undefined ? '' : `, found ${excerpt(JSON.stringify(found) ?? String(found))}`;
    super(`Invalid ${argument}: expected ${expected}${shown}`);
    this.name = 'InputError';
    this.argument = argument;
    this.expected = expected;
  }
}
