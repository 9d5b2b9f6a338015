/** Interval literals for the analytics builders (code constants only, never request input). */
import { raw, type SqlFragment } from '../store/sql.ts';

/** `INTERVAL n SECOND` for a whole number of seconds written in code. */
export function secondsSql(n: number): SqlFragment {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`interval must be whole non-negative seconds, got ${n}`);
  return raw(`INTERVAL ${n} SECOND`);
}
