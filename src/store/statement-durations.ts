/**
 * How long each named statement has lately taken to run on one DuckDB instance (its last few answered runs), so that
 * the query runner can decline to start a statement its request has no time left for. Under more load than the cores
 * answer within the budget, the statement queue serves a client's oldest request first, close to its deadline; its
 * statements then ran only to be interrupted (with 50 clients of `bench:load --distinct`, 20-23% of all execution
 * time), and that time was taken from the requests behind it. Declining them left 15-18% thrown away (statements
 * slowed by the load past the time they had, and requests stopped with other statements running) and 138-147 errors
 * against 152-154 (two runs each, alternating, load average ~7 on 2 cores).
 */

/** Answered runs kept per statement name. */
const KEPT = 8;

/** Recent execution times (ms) per statement name. */
export class StatementDurations {
  private readonly recent = new Map<string, number[]>();

  /** Notes that a run of `name` took `ms` from the moment it held a slot to its answer. */
  record(name: string, ms: number): void {
    const runs = this.recent.get(name) ?? [];
    runs.push(ms);
    if (runs.length > KEPT) runs.shift();
    this.recent.set(name, runs);
  }

  /**
   * The fastest of `name`'s recent runs (ms), or null when none is known. A statement with less time left than that
   * is not expected to finish: the fastest, not the mean, so that a statement whose runs vary with their parameters
   * (a day or a month) is declined only when every recent run took longer than the time it has.
   */
  fastest(name: string): number | null {
    const runs = this.recent.get(name);
    return runs?.length ? Math.min(...runs) : null;
  }
}

// One record per DuckDB instance, as its statement queue.
const durations = new WeakMap<object, StatementDurations>();

/** The recent durations of `db`'s statements. */
export function statementDurationsOf(db: object): StatementDurations {
  let d = durations.get(db);
  if (!d) durations.set(db, (d = new StatementDurations()));
  return d;
}
