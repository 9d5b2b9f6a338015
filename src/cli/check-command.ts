import type { Command } from 'commander';
import { RETIRE_GRACE_HELP, retireGraceSeconds } from './retire-grace-option.ts';
import { returnFreedPagesAtOnce } from '../config.ts';

/** `flowql check [--repair]`: a warehouse against its manifest and ledger, and the repair of what can be repaired. */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('Check a warehouse against its manifest and ledger (missing, truncated or corrupt files, orphans); --repair fixes what it can')
    .option('--data <dir>', 'warehouse: a folder or s3://bucket/prefix', 'data')
    .option('--repair', 'take damaged files out of the manifest, mark their objects for reload by the next ingest, drop orphans, re-derive')
    .option('--json', 'print the report as one JSON object')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for an s3:// warehouse')
    .option('--s3-force-path-style', 'path-style S3 addressing (host/bucket/key)')
    .option('--retire-grace <seconds>', RETIRE_GRACE_HELP, retireGraceSeconds)
    .addHelpText(
      'after',
      `
Every manifest file must exist with its size, open as Parquet with its row count and its table's columns, and decode.
After --repair, run flowql ingest over the same sources: it reloads the objects marked for reload, exactly once.
Exit codes: 0 healthy (or fully repaired); 1 could not run (no manifest, no ledger for --repair, ledger busy, storage
error); 2 problems found (run again with --repair); 3 --repair left problems it could not fix.
`,
    )
    .action(async (opts) => {
      returnFreedPagesAtOnce(); // before DuckDB loads
      const { checkCli } = await import('../ingest/warehouse-check-cli.ts');
      process.exitCode = await checkCli(opts);
    });
}
