import type { Command } from 'commander';
import { warehouseOptions } from './warehouse-options.ts';
import { returnFreedPagesAtOnce } from '../library-env.ts';

/** `flowql check [--repair]`: a warehouse against its manifest and ledger, and the repair of what can be repaired. */
export function registerCheckCommand(program: Command): void {
  warehouseOptions(program.command('check'))
    .description(
      'Check a warehouse against its manifest and ledger (missing, truncated or corrupt files, orphans); --repair fixes what it can',
    )
    .option(
      '--repair',
      'take damaged files out of the manifest, mark their objects for reload by the next ingest, drop orphans, re-derive',
    )
    .option('--json', 'print the report as one JSON object')
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
