/** What loading a flow-log object produces: its records count, its rejected lines, the columns its rows fill. */

/** A line that is not a flow record. */
export interface RejectRow {
  readonly line: number;
  readonly field: string | null;
  readonly reason: string;
  readonly text: string;
}

/** What loading one object produced. */
export interface LoadResult {
  readonly records: number;
  readonly rejects: RejectRow[];
  /** Stored columns the object's rows can have values in (see filledColumns). */
  readonly columns: readonly string[];
  /** True when the whole object went through the TS line parser (asked for, or the reader could not take it). */
  readonly byLines?: boolean;
}

/** Longest text of a rejected line kept in the ledger. */
export const MAX_REJECT_TEXT = 1000;
