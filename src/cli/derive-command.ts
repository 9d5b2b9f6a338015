import { Option, type Command } from 'commander';
import { warehouseOptions } from './warehouse-options.ts';
import { returnFreedPagesAtOnce } from '../library-env.ts';

/** `flowql derive`: writes the derived tables of partitions that lack them (or of all with --all). */
export function registerDeriveCommand(program: Command): void {
  warehouseOptions(program.command('derive'))
    .description(
      'Derive the handshakes/, edges/ and flows_hourly/ tables of partitions missing them (a warehouse from an older flowql, or ingested with --no-derive)',
    )
    .option('--all', 're-derive every partition, not only those missing a derived file')
    .option('--json', 'print the summary as one JSON object')
    // Test-only: the crash tests kill the process at each commit stage; users never need it, so it stays out of --help.
    .addOption(
      new Option(
        '--debug-pause-after-stage <stage>',
        'internal, for crash tests: hang after staged|recorded|published|manifest',
      ).hideHelp(),
    )
    .action(async (opts) => {
      returnFreedPagesAtOnce(); // before DuckDB loads
      const { deriveCli } = await import('../ingest/ingest-rederive-cli.ts');
      process.exitCode = await deriveCli(opts);
    });
}
