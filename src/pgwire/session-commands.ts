/**
 * Statements a BI client sends for its own bookkeeping, answered without DuckDB: transaction control (every statement
 * is a read of committed files, so a transaction changes nothing), the session settings drivers set on connect, and
 * DEALLOCATE.
 * Anything else, SET of another setting included, goes to the statement guard, which refuses what is not a SELECT.
 */

/** Settings a client may "set" (accepted and ignored: the server's values are what every answer uses). */
const HARMLESS_SETTINGS = new Set([
  'application_name',
  'extra_float_digits',
  'client_encoding',
  'datestyle',
  'intervalstyle',
  'timezone',
  'time zone',
  'search_path',
  'statement_timeout',
  'client_min_messages',
  'session characteristics',
  'bytea_output',
]);

/** The command tag to answer `text` with when it is such a statement, else null. */
export function sessionCommandTag(text: string): string | null {
  const t = text.trim().replace(/;\s*$/, '').replace(/\s+/g, ' ').toLowerCase();
  if (/^(begin|start transaction)( .*)?$/.test(t)) return 'BEGIN';
  if (/^(commit|end)( (work|transaction))?$/.test(t)) return 'COMMIT';
  if (/^rollback( (work|transaction))?$/.test(t)) return 'ROLLBACK';
  if (t === 'discard all') return 'DISCARD ALL';
  // SQL-level prepared statements are never created here (PREPARE is refused), so there is nothing to deallocate;
  // psqlODBC sends it for its protocol-level statements' names.
  if (/^deallocate( prepare)? ("?[\w$]+"?|all)$/.test(t)) return 'DEALLOCATE';
  const set = /^set (?:(?:session|local) (?!characteristics))?(.+)$/.exec(t);
  const rest = set?.[1] ?? '';
  if ([...HARMLESS_SETTINGS].some((name) => rest.startsWith(`${name} `) || rest.startsWith(`${name}=`))) return 'SET';
  return null;
}
