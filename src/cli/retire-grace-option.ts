/**
 * `--retire-grace <seconds>`, shared by every command that commits to a warehouse: how long files a commit replaces
 * stay on storage for readers still using them (src/ingest/retired-files.ts).
 */

/** The option's help line. */
export const RETIRE_GRACE_HELP =
  'keep files a commit replaces this long for queries and engines still reading them (default 600); a later run deletes them';

/** Parses `--retire-grace`: seconds from 0 to 7 days. */
export function retireGraceSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 7 * 86_400)) {
    throw new Error(`--retire-grace: expected a number of seconds from 0 to 604800, found '${value}'`);
  }
  return n;
}
