/**
 * What one request may still spend, and the errors that say it ran out: a time budget (interrupting the statements it
 * still runs), a cap on the bytes of its answer, and its end (an error or a hang-up already answered it). The query
 * runner (query-runner.ts) admits, tracks and stops statements through it; GraphQL builds one per request.
 */
import { setMaxListeners } from 'node:events';
import type { DuckDBConnection } from '@duckdb/node-api';

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

type StopReason =
  | { readonly kind: 'timeout' }
  | { readonly kind: 'finished' }
  | { readonly kind: 'too-large'; readonly error: ResponseTooLargeError };

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
  private readonly connections = new Set<DuckDBConnection>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private repeat: ReturnType<typeof setInterval> | null = null;
  private reason: StopReason | null = null;

  /** `budgetMs` is what errors report: the configured timeout when the caller knows it (a millisecond may pass between
   *  computing the deadline and building the budget), else what is left until `deadline`. */
  constructor(
    deadline: number,
    maxResponseBytes = Number.POSITIVE_INFINITY,
    budgetMs = Math.max(0, deadline - Date.now()),
  ) {
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
  track(connection: DuckDBConnection): void {
    this.connections.add(connection);
  }

  untrack(connection: DuckDBConnection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0 && this.repeat) {
      clearInterval(this.repeat);
      this.repeat = null;
    }
  }

  /** The request cannot finish within its time: stop it as if its time had run out (QueryTimeoutError). */
  expire(): void {
    this.stop({ kind: 'timeout' });
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
