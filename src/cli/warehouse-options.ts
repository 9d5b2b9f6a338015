/**
 * Options shared by the commands that work on an existing warehouse (compact, derive, check): where it is, how to
 * reach it on S3, and `--retire-grace <seconds>` (also on ingest), how long files a commit replaces stay on storage
 * for readers still using them (src/ingest/retired-files.ts).
 */
import type { Command } from 'commander';

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

/** Adds `--data`, `--s3-endpoint`, `--s3-force-path-style` and `--retire-grace` to `command`. */
export function warehouseOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'warehouse: a folder or s3://bucket/prefix', 'data')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for an s3:// warehouse')
    .option('--s3-force-path-style', 'path-style S3 addressing (host/bucket/key)')
    .option('--retire-grace <seconds>', RETIRE_GRACE_HELP, retireGraceSeconds);
}
